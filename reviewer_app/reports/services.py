"""The reports of a call as files: the decision report, the applicant feedback reports, a ZIP.

Each function reads the call once (``load_records``), builds plain data for the language
and renders it. The web views and the CLI both call these, so both give the same bytes.
"""

from __future__ import annotations

import gc
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..call_analytics import analytics_json_text, call_analytics, published_draw
from ..errors import DomainError
from ..languages import LANGUAGES
from ..models import Assignment, Call
from ..scoring.scheme_parser import sha256_text
from .decision import decision_report
from .feedback import feedback_report
from .parts import DEFAULT_SIZES, PartSizes, assembled_pdf, plan
from .records import (
    CallRecords,
    ConsensusNamesExpert,
    consensus_naming_experts,
    load_records,
)
from .render import EmbeddedFile, render_pdf
from .robustness_section import robustness_section

Progress = Callable[[int, int], None]


class UnknownLanguage(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content: bytes
    fingerprint: str = ""


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def _no_progress(done: int, total: int) -> None:
    pass


def decision_report_pdf(
    call: Call,
    lang: str = "en",
    *,
    progress: Progress = _no_progress,
    processes: int = 1,
    sizes: PartSizes = DEFAULT_SIZES,
) -> ReportFile:
    """The call's decision report with ``evaluation.json`` and ``ranking.csv`` embedded.

    ``progress(done, total)`` hears of each step (reading, laying out, each part of a large
    report); a large report is laid out in parts (``parts.py``), by ``processes`` processes.
    """
    check_language(lang)
    progress(0, 3)
    records = load_records(call)
    progress(1, 3)
    report = decision_report(records, lang)
    # The robustness of the ranking (issue 14), beside it: same data, same figures (fixed seed).
    made = call_analytics(call, loaded=(records.evaluation_in, records.ranking))
    lottery = published_draw(call)
    with force_locale(lang):
        robustness = robustness_section(
            made,
            records.scheme,
            lang,
            names={ref: f"{ref} {p.acronym}".strip() for ref, p in records.proposals.items()},
            pseudonyms=records.pseudonyms,
            lottery=lottery,
        )
    report = replace(report, robustness=robustness)
    progress(2, 3)
    key, title, digest = records.key, records.title, records.fingerprint
    timestamp = records.as_of.replace(microsecond=0)
    attachments = (
        EmbeddedFile(
            "evaluation.json",
            records.evaluation_json,
            "Evaluation data (canonical JSON); its SHA-256 is the report's fingerprint",
        ),
        EmbeddedFile(
            "ranking.csv",
            records.ranking_csv.encode("utf-8"),
            "The ranking as computed by the scoring engine (reviewer-app ranking)",
        ),
        EmbeddedFile(
            "analytics.json",
            analytics_json_text(made, records.pseudonyms, lottery).encode("utf-8"),
            "Agreement, leniency and robustness of the ranking (reviewer-app analytics)",
        ),
    )
    # The report holds what the pages print; the records of a large call (half a GB at
    # 10,000 proposals) go before WeasyPrint lays out the first page.
    del records
    gc.collect()
    parts = plan(report, sizes)
    with force_locale(lang):

        def css(numbered: bool) -> Markup:
            return page_css(
                header=title,
                marker=_("Confidential") + (" · " + _("DRAFT") if report.is_draft else ""),
                footer_left=_("Fingerprint %(fingerprint)s", fingerprint=report.fingerprint_short),
                numbered=numbered,
            )

        author = _("Evaluation coordination, call %(key)s", key=key)
        if len(parts) == 1:
            content = render_pdf(
                "reports/decision.html",
                {"report": report, "part": parts[0], "page_css": css(True), "author": author},
                attachments=attachments,
                timestamp=timestamp,
                identifier=digest[:32],
            )
        else:
            content = assembled_pdf(
                report,
                parts,
                page_css=css(False),
                author=author,
                attachments=attachments,
                timestamp=timestamp,
                identifier=digest[:32],
                processes=processes,
                progress=lambda done, total: progress(3 + done, 3 + total),
            )
    return ReportFile(
        filename=f"{_safe(key)}-decision-report-{lang}.pdf", content=content, fingerprint=digest
    )


def feedback_report_pdf(call: Call, reference: str, lang: str = "en") -> ReportFile:
    """The evaluation summary of one proposal, for its applicant.

    :raises ProposalNotFound: no proposal ``reference`` in the call.
    """
    check_language(lang)
    records = load_records(call)
    return feedback_file(records, reference, lang)


def feedback_reports(call: Call, lang: str = "en") -> list[ReportFile]:
    """Every proposal's evaluation summary, in reference order (the call is read once)."""
    check_language(lang)
    records = load_records(call)
    _refuse_named_experts(records)
    return [feedback_file(records, ref, lang) for ref in sorted(records.proposals)]


def feedback_reports_zip(
    call: Call, lang: str = "en", *, progress: Progress = _no_progress, processes: int = 1
) -> ReportFile:
    """Every proposal's evaluation summary in one ZIP; ``progress(done, total)`` hears of each
    proposal's. ``processes`` > 1 renders a large call's reports in that many processes
    (``parallel.py``); the ZIP is the same."""
    from .parallel import feedback_files

    check_language(lang)
    records = load_records(call)
    _refuse_named_experts(records)
    buffer = io.BytesIO()
    # Fixed member dates: the same data gives the same ZIP.
    stamp = records.as_of.timetuple()[:6]
    references = sorted(records.proposals)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        progress(0, len(references))
        for done, item in enumerate(feedback_files(records, references, lang, processes), start=1):
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, item.content)
            progress(done, len(references))
    return ReportFile(
        filename=f"{_safe(records.key)}-feedback-{lang}.zip", content=buffer.getvalue()
    )


def _refuse_named_experts(records: CallRecords) -> None:
    """All or nothing: one report that may not go out stops the batch, naming every one."""
    named = consensus_naming_experts(records, sorted(records.proposals))
    if named:
        raise ConsensusNamesExpert(named)


def feedback_file(records: CallRecords, reference: str, lang: str) -> ReportFile:
    """One proposal's evaluation summary from the call's records."""
    report = feedback_report(records, reference, lang)
    with force_locale(lang):
        css = page_css(
            header=records.title,
            marker=_("Confidential") + (" · " + _("DRAFT") if report.is_draft else ""),
            footer_left=reference,
        )
        content = render_pdf(
            "reports/feedback.html",
            {
                "report": report,
                "page_css": css,
                "author": _("Evaluation coordination, call %(key)s", key=records.key),
            },
            timestamp=records.as_of.replace(microsecond=0),
            identifier=f"{records.key}/{reference}"[:32],
        )
    return ReportFile(
        filename=f"{_safe(records.key)}-{_safe(reference)}-feedback-{lang}.pdf", content=content
    )


def individual_report_pdf(assignment: Assignment, lang: str) -> ReportFile:
    """The expert's own evaluation of the assignment's proposal (it has a review), as PDF/A."""
    from .individual import individual_report

    check_language(lang)
    report = individual_report(assignment, lang)
    proposal = assignment.proposal
    with force_locale(lang):
        css = page_css(
            header=report.call_title,
            marker=_("Confidential") + (" · " + _("DRAFT") if report.is_draft else ""),
            footer_left=f"{report.reference} · {report.expert}",
        )
        content = render_pdf(
            "reports/individual.html",
            {"report": report, "page_css": css, "author": report.expert},
            # A call key may take the 32 characters alone: the hash tells every IER apart.
            identifier=sha256_text(f"{proposal.call.key}/{proposal.reference}/{assignment.id}")[
                :32
            ],
        )
    return ReportFile(
        filename=f"{_safe(proposal.reference)}-individual-evaluation-{lang}.pdf", content=content
    )


def page_css(*, header: str, marker: str, footer_left: str, numbered: bool = True) -> Markup:
    """The page furniture: running header, marking, footer and "Page X of Y" in the language.

    The texts become CSS strings with every character outside [A-Za-z0-9 ] escaped, so a call
    title cannot end the string or the style element. ``numbered=False`` leaves the page
    number out: a report assembled from parts gets it laid over each page (``parts.py``).
    """
    page_of = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
    counter = []
    for part in page_of.split("\x00"):
        if part in ("page", "pages"):
            counter.append(f"counter({part})")
        elif part:
            counter.append(css_string(part))
    rules = (
        f"@top-left {{ content: {css_string(header)}; }} "
        f"@top-right {{ content: {css_string(marker.upper())}; }} "
        f"@bottom-left {{ content: {css_string(footer_left)}; }} "
        f"@bottom-right {{ content: {' '.join(counter) if numbered else 'none'}; }}"
    )
    return Markup(f"@page {{ {rules} }}")


def css_string(value: str) -> str:
    """``value`` as a quoted CSS string; anything but ASCII letters and digits escaped.

    A hex escape swallows one following space (CSS syntax), hence the space after each.
    """
    return (
        '"' + "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):x} " for c in value) + '"'
    )


def _safe(name: str) -> str:
    """A file name part: letters, digits, dot, dash and underscore only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "report"
