"""Checking a decision report: do its numbers follow from the data it carries?

``verify_report(pdf)`` extracts ``evaluation.json`` and ``ranking.csv`` from the PDF, recomputes
the ranking from the evaluation data with the scoring engine, and compares. With a call it also
compares the embedded evaluation data with what the database holds now. Each check is reported
with what was compared, so a mismatch says where to look.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import limits
from ..errors import DomainError
from ..ranking import ranking_csv
from ..scoring.engine import EvaluationError, evaluate
from .evaluation import (
    EvaluationFormatError,
    canonical_json,
    evaluation_in_from_json,
    fingerprint,
)

EVALUATION_FILE = "evaluation.json"
RANKING_FILE = "ranking.csv"
PRINTED_FINGERPRINT = re.compile(r"SHA-256([0-9a-f]{64})")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class NotAReport(DomainError, ValueError):
    """The file is not a PDF, or not a decision report of this application."""


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The PDF's embedded files by name (the first one, should a name repeat).

    :raises NotAReport: the bytes are not a readable PDF.
    """
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        with apply_configuration(zlib_maximum_output_length=limits.REPORT_EMBEDDED_BYTES):
            reader = PdfReader(io.BytesIO(pdf))
            return {name: contents[0] for name, contents in reader.attachments.items() if contents}
    except LimitReachedError as exc:
        raise NotAReport(
            f"an embedded file unpacks to more than {limits.REPORT_EMBEDDED_BYTES:,} bytes"
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise NotAReport(f"not a readable PDF: {exc}") from exc


def page_texts(pdf: bytes) -> list[str]:
    return list(iter_page_texts(pdf))


def iter_page_texts(pdf: bytes) -> Iterator[str]:
    """Each page's text, in order, lines ending in ``\n``.

    PDFium reads it (2-3 ms a page, where pypdf's extraction took about 70: a 29,000-page
    report of 10,000 proposals took more than 19 minutes to verify), one page open at a time.
    """
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise NotAReport(f"not a readable PDF ({exc})") from exc
    try:
        for index in range(len(document)):
            try:
                page = document[index]
            except pypdfium2.PdfiumError as exc:
                raise NotAReport(f"page {index + 1} cannot be read ({exc})") from exc
            try:
                text_page = page.get_textpage()
                try:
                    yield text_page.get_text_bounded().replace("\r\n", "\n")
                finally:
                    text_page.close()
            except pypdfium2.PdfiumError as exc:
                raise NotAReport(f"page {index + 1} cannot be read ({exc})") from exc
            finally:
                page.close()
    finally:
        document.close()


def verify_report(pdf: bytes, against: Any = None) -> Verification:
    """Every check of the report ``pdf``; with ``against`` (a Call) also against the database.

    :raises NotAReport: not a readable PDF.
    """
    files = embedded_files(pdf)
    checks: list[Check] = []
    evaluation = files.get(EVALUATION_FILE)
    embedded_csv = files.get(RANKING_FILE)
    checks.append(
        Check(
            "embedded files",
            evaluation is not None and embedded_csv is not None,
            ", ".join(
                f"{name}: {'present' if name in files else 'MISSING'}"
                for name in (EVALUATION_FILE, RANKING_FILE)
            ),
        )
    )
    if evaluation is None or embedded_csv is None:
        return Verification(tuple(checks))

    digest = fingerprint(evaluation)
    checks.append(_canonical_check(evaluation))
    checks.append(_printed_fingerprint_check(pdf, digest))

    try:
        recomputed = ranking_csv(evaluate(evaluation_in_from_json(evaluation)))
    except (EvaluationFormatError, EvaluationError) as exc:
        checks.append(Check("ranking recomputed from evaluation.json", False, str(exc)))
    else:
        try:
            embedded_text = embedded_csv.decode("utf-8")
        except UnicodeDecodeError:
            embedded_text = ""
        same = recomputed == embedded_text
        checks.append(
            Check(
                "ranking recomputed from evaluation.json equals the embedded ranking.csv",
                same,
                f"{len(recomputed.splitlines()) - 1} proposals"
                if same
                else _first_difference(embedded_text, recomputed),
            )
        )

    if against is not None:
        from .records import load_records

        current = load_records(against).evaluation_json
        # The audit head moves with every later write (a reminder, a download); the data is
        # compared without it, and the head is checked against the chain below.
        same = _without_audit(current) == _without_audit(evaluation)
        checks.append(
            Check(
                f"the database still holds the same evaluation data (call {against.key})",
                same,
                f"SHA-256 {fingerprint(current)}"
                if same
                else _changed_sections(evaluation, current),
            )
        )
        checks.append(_audit_check(evaluation, against))
    return Verification(tuple(checks))


def _without_audit(evaluation: bytes) -> Any:
    try:
        document = json.loads(evaluation)
    except ValueError:
        return None
    if isinstance(document, dict):
        document.pop("audit", None)
    return document


def _audit_check(evaluation: bytes, call: Any) -> Check:
    """The audit head the report carries is in the call's chain, and the chain is intact up to
    it: nothing the report was made from was quietly changed afterwards."""
    from ..audit import chain as audit_chain
    from ..extensions import db
    from ..models.audit import chain_of

    name = "the report's audit chain head is in the call's intact chain"
    try:
        head = json.loads(evaluation).get("audit")
    except (ValueError, AttributeError):
        head = None
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
        return Check(name, False, "the report carries no audit chain head (made before 2026-11)")
    chain = chain_of(call.id)
    if head.get("chain") != chain:
        return Check(name, False, f"the report names chain {head.get('chain')!r}, not {chain!r}")
    report = audit_chain.verify(db.session, chain, until=head["seq"])
    if not report.intact:
        where = f"event {report.event_id}" if report.event_id is not None else "the end"
        return Check(name, False, f"the chain is broken at {where}: {report.problem}")
    if head["seq"] == 0:
        return Check(name, True, "the call had no audit events yet")
    event = audit_chain.event_at(db.session, chain, head["seq"])
    if event is None or event.digest != head.get("digest"):
        return Check(name, False, f"event {head['seq']} of {chain} does not carry that digest")
    return Check(name, True, f"{chain}, event {head['seq']}, digest {head['digest'][:16]}…")


def _canonical_check(evaluation: bytes) -> Check:
    try:
        document = json.loads(evaluation)
        canonical = canonical_json(document) == evaluation
    except (ValueError, UnicodeDecodeError) as exc:
        return Check("evaluation.json is canonical JSON", False, f"not valid JSON: {exc}")
    except RecursionError:  # '[' * 100000: json reads and writes nesting by recursion
        return Check(
            "evaluation.json is canonical JSON", False, "not valid JSON: nested too deeply"
        )
    return Check(
        "evaluation.json is canonical JSON",
        canonical,
        f"{len(evaluation)} bytes" if canonical else "re-serialising it changes the bytes",
    )


def _printed_fingerprint_check(pdf: bytes, digest: str) -> Check:
    printed = None  # as the last page that prints one prints it
    footers_ok = True
    for number, text in enumerate(iter_page_texts(pdf)):
        # The fingerprint may wrap; compare without any whitespace.
        match = PRINTED_FINGERPRINT.search(re.sub(r"\s+", "", text))
        if match:
            printed = match.group(1)
        footers_ok = footers_ok and (number == 0 or digest[:12] in text)
    ok = printed == digest and footers_ok
    if printed is None:
        detail = "no fingerprint printed in the report"
    elif printed != digest:
        detail = f"printed {printed}, but evaluation.json has SHA-256 {digest}"
    elif not footers_ok:
        detail = f"a page footer lacks {digest[:12]}"
    else:
        detail = f"SHA-256 {digest}"
    return Check("fingerprint printed in the report is the SHA-256 of evaluation.json", ok, detail)


def _first_difference(expected: str, actual: str) -> str:
    old, new = expected.splitlines(), actual.splitlines()
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            return f"line {number}: embedded {a!r}, recomputed {b!r}"
    return f"embedded has {len(old)} lines, recomputed {len(new)}"


def _changed_sections(embedded: bytes, current: bytes) -> str:
    try:
        old, new = json.loads(embedded), json.loads(current)
    except (ValueError, RecursionError):
        return "the embedded evaluation.json is not valid JSON"
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "changed since the report: " + ", ".join(changed) if changed else "bytes differ"
