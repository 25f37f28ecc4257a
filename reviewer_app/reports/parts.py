"""The decision report of a large call: laid out in parts, assembled into one PDF/A-3b.

WeasyPrint holds every laid-out page of a document until it has written the PDF: 3.9 GB for
the report of 1,000 proposals, about ten times that at 10,000 (issue 11). So a report with
more than ``PartSizes.proposals`` proposals (or ``PartSizes.rows`` ranking rows) is cut where
it breaks the page anyway: the front matter, the ranking in blocks of rows, the proposals'
sections a few dozen at a time, the appendix. WeasyPrint lays out and writes one part at a
time, and memory holds one part.

``join`` writes the parts one after another behind the front part, whose PDF/A-3b catalog
carries the metadata, the colour profile and the two embedded files; it too holds one part at
a time. What only the whole knows comes last: the page numbers ("Page 7 of 20412") are laid
over every page from documents of page numbers alone, with the report's own page sizes and
margins; the contents page is laid out again with the
page each chapter starts on (its page count checked against the first layout); the outline
(bookmarks) is rebuilt from the parts' headings the way WeasyPrint builds one document's.
Nothing reads the clock and the file identifier is derived from the content: the same data
gives the same bytes.

With ``processes`` > 1 the parts are laid out by a pool of processes. A process gets a part's
finished HTML and writes a PDF file, so it needs neither the database nor the call's data.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from flask_babel import gettext as _
from markupsafe import Markup

from .decision import DecisionReport, ProposalSection, RankingRow
from .join import join
from .render import EmbeddedFile, lay_out, render_html, write_pdf

T = TypeVar("T")
Progress = Callable[[int, int], None]

# The chapters the contents page lists, by their anchors in decision.html.
CHAPTERS = ("method", "process", "ranking", "proposals", "appendix")
# Pages of page numbers per laid-out document (small pages: about 10 ms each).
NUMBERS_PER_DOCUMENT = 1000


@dataclass(frozen=True)
class PartSizes:
    """How much one part holds. About 4 MB of WeasyPrint's memory per proposal section."""

    proposals: int = 40
    rows: int = 600


DEFAULT_SIZES = PartSizes()


@dataclass(frozen=True)
class Part:
    """What one laid-out document of the decision report holds (decision.html reads it)."""

    front: bool = False  # cover, contents, method, the process in numbers
    ranking_heading: bool = False
    rows: tuple[RankingRow, ...] = ()
    line_at_end: bool = False
    ranking_legend: bool = False
    proposals_heading: bool = False
    proposals: tuple[ProposalSection, ...] = ()
    appendix: bool = False
    # The page each chapter starts on, for a report in parts (the contents cannot link there).
    contents_pages: Mapping[str, int] | None = None


@dataclass(frozen=True)
class LaidOut:
    """A part written to ``path``: what assembling needs to know of its pages."""

    path: str
    wide: tuple[bool, ...]  # per page: landscape
    anchors: Mapping[str, int]  # each id's first page in the part, from 0
    bookmarks: tuple[tuple[int, str, int], ...]  # (level, label, page in the part)


def whole(report: DecisionReport) -> Part:
    """The report as one document."""
    return Part(
        front=True,
        ranking_heading=True,
        rows=report.rows,
        line_at_end=report.funding_line_at_end,
        ranking_legend=True,
        proposals_heading=True,
        proposals=report.proposals,
        appendix=True,
    )


def plan(report: DecisionReport, sizes: PartSizes) -> list[Part]:
    """The report's parts in page order; one part when it is small enough."""
    if len(report.proposals) <= sizes.proposals and len(report.rows) <= sizes.rows:
        return [whole(report)]
    parts = [Part(front=True)]
    blocks = _chunks(report.rows, sizes.rows)
    for number, rows in enumerate(blocks):
        last = number == len(blocks) - 1
        parts.append(
            Part(
                ranking_heading=number == 0,
                rows=rows,
                line_at_end=last and report.funding_line_at_end,
                ranking_legend=last,
            )
        )
    for number, sections in enumerate(_chunks(report.proposals, sizes.proposals)):
        parts.append(Part(proposals_heading=number == 0, proposals=sections))
    parts.append(Part(appendix=True))
    return parts


def assembled_pdf(
    report: DecisionReport,
    parts: Sequence[Part],
    *,
    page_css: Markup,
    author: str,
    attachments: tuple[EmbeddedFile, ...],
    timestamp: datetime,
    identifier: str,
    processes: int = 1,
    progress: Progress | None = None,
) -> bytes:
    """The report of ``parts`` (from ``plan``, more than one) as one PDF/A-3b.

    ``page_css`` must leave the page number out (``page_css(numbered=False)``); it is laid
    over every page but the cover. Runs inside the report's ``force_locale``.
    """
    front, body = parts[0], list(parts[1:])
    steps = len(body) + 3
    tell = progress or (lambda done, total: None)

    def html(part: Part) -> str:
        context = {"report": report, "part": part, "page_css": page_css, "author": author}
        return render_html("reports/decision.html", context)

    with tempfile.TemporaryDirectory(prefix="decision-report-") as folder:
        # The front part's page count does not depend on the numbers in its contents.
        draft = _laid_out_part((html(replace(front, contents_pages=_placeholders())), ""))
        front_pages = len(draft.wide)
        laid: list[LaidOut] = []
        jobs = ((html(part), f"{folder}/part-{n:05d}.pdf") for n, part in enumerate(body))
        for done, item in enumerate(_in_processes(jobs, processes), start=1):
            laid.append(item)
            tell(done, steps)

        starts = _starts(front_pages, laid)
        contents = {name: page + 1 for name, page in draft.anchors.items() if name in CHAPTERS}
        for start, item in zip(starts, laid, strict=True):
            contents.update(
                (name, start + page + 1)
                for name, page in item.anchors.items()
                if name in CHAPTERS and name not in contents
            )
        final = lay_out(html(replace(front, contents_pages=contents)))
        if len(final.pages) != front_pages:
            raise RuntimeError("the contents page changed the front matter's page count")
        front_path = f"{folder}/front.pdf"
        write_pdf(
            final,
            attachments=attachments,
            timestamp=timestamp,
            identifier=identifier,
            target=front_path,
        )
        first = _describe(final, front_path)
        del final
        tell(len(body) + 1, steps)

        wide = first.wide + tuple(w for item in laid for w in item.wide)
        numbers = list(_in_processes(_number_jobs(wide, folder, report.lang), processes))
        tell(len(body) + 2, steps)
        bookmarks = [
            (level, label, start + page)
            for start, item in zip([0, *starts], [first, *laid], strict=True)
            for level, label, page in item.bookmarks
        ]
        content = _assemble(first, laid, numbers, bookmarks, f"{folder}/report.pdf")
        tell(steps, steps)
        return content


def _placeholders() -> dict[str, int]:
    # As wide as any page number a report can reach: the layout must not change with them.
    return dict.fromkeys(CHAPTERS, 999999)


def _starts(first: int, laid: Sequence[LaidOut]) -> list[int]:
    """The page index each part starts on, after ``first`` pages of front matter."""
    starts = []
    at = first
    for item in laid:
        starts.append(at)
        at += len(item.wide)
    return starts


def _number_jobs(wide: tuple[bool, ...], folder: str, lang: str) -> Iterator[tuple[str, str]]:
    """Documents of page numbers for every page but the cover, in pages' order."""
    total = len(wide)
    for start in range(1, total, NUMBERS_PER_DOCUMENT):
        pages = [
            (_("Page %(page)s of %(pages)s", page=index + 1, pages=total), wide[index])
            for index in range(start, min(start + NUMBERS_PER_DOCUMENT, total))
        ]
        context = {"pages": pages, "lang": lang, "title": "page numbers"}
        yield render_html("reports/page_numbers.html", context), f"{folder}/numbers-{start}.pdf"


def _in_processes(jobs: Iterable[tuple[str, str]], processes: int) -> Iterator[LaidOut]:
    """Each job laid out, in order; with a bounded number of finished HTML strings waiting."""
    if processes <= 1:
        yield from map(_laid_out_part, jobs)
        return
    with ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        waiting: deque[Future[LaidOut]] = deque()
        for job in jobs:
            waiting.append(pool.submit(_laid_out_part, job))
            if len(waiting) >= 2 * processes:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


def _laid_out_part(job: tuple[str, str]) -> LaidOut:
    """Lays out one part's HTML and writes it to the job's path ("": not written)."""
    html, path = job
    document = lay_out(html)
    if path:
        write_pdf(document, target=path)
    return _describe(document, path)


def _describe(document: Any, path: str) -> LaidOut:
    anchors: dict[str, int] = {}
    bookmarks: list[tuple[int, str, int]] = []
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
        bookmarks.extend((level, label, number) for level, label, _target, _state in page.bookmarks)
    return LaidOut(
        path=path,
        wide=tuple(page.width > page.height for page in document.pages),
        anchors=anchors,
        bookmarks=tuple(bookmarks),
    )


def _assemble(
    first: LaidOut,
    laid: Sequence[LaidOut],
    numbers: Sequence[LaidOut],
    bookmarks: Sequence[tuple[int, str, int]],
    path: str,
) -> bytes:
    with open(path, "wb") as target:
        join(
            [first.path, *(item.path for item in laid)],
            [item.path for item in numbers],
            bookmarks,
            target,
        )
    # Read back once: one copy of a report of some hundred MB in memory.
    with open(path, "rb") as written:
        return written.read()


def _chunks(items: Sequence[T], size: int) -> list[tuple[T, ...]]:
    """``items`` in runs of ``size``; one empty run when there are none."""
    return [tuple(items[at : at + size]) for at in range(0, len(items), size)] or [()]
