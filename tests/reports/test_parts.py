"""A large decision report, laid out in parts and assembled (reports/parts.py).

The module's call is small; part sizes of two proposals and three ranking rows cut it into
seven parts, so every joint (ranking blocks, proposal blocks, front and appendix) is crossed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pikepdf
import pytest
from flask import Flask

from reviewer_app.extensions import db
from reviewer_app.reports.decision import decision_report
from reviewer_app.reports.parts import PartSizes, plan
from reviewer_app.reports.records import load_records
from reviewer_app.reports.services import decision_report_pdf
from reviewer_app.reports.verify import verify_report

from .conftest import EXPECTED_ORDER, Rendered, Scene, build_scene, pdf_text, pdftotext

SMALL = PartSizes(proposals=2, rows=3)
PAGE_NUMBER = re.compile(r"Page (\d+) of (\d+)")


@dataclass(frozen=True)
class InParts:
    pdf: bytes
    again: bytes  # the same data once more, by two processes
    progress: list[tuple[int, int]]


@pytest.fixture(scope="module")
def in_parts(app: Flask) -> InParts:
    with app.app_context():
        try:
            scene = build_scene()
            heard: list[tuple[int, int]] = []
            pdf = decision_report_pdf(
                scene.call, "en", sizes=SMALL, progress=lambda d, t: heard.append((d, t))
            ).content
            again = decision_report_pdf(scene.call, "en", sizes=SMALL, processes=2).content
            return InParts(pdf=pdf, again=again, progress=heard)
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())


def test_a_small_report_is_one_part(scene: Scene) -> None:
    report = decision_report(load_records(scene.call), "en")

    assert len(plan(report, PartSizes())) == 1


def test_parts_hold_every_row_and_section_once_in_order(scene: Scene) -> None:
    report = decision_report(load_records(scene.call), "en")

    parts = plan(report, SMALL)

    assert parts[0].front and not parts[0].rows and not parts[0].proposals
    assert parts[-1].appendix and sum(part.appendix for part in parts) == 1
    assert [row for part in parts for row in part.rows] == list(report.rows)
    assert [p for part in parts for p in part.proposals] == list(report.proposals)
    assert [len(part.rows) for part in parts if part.rows] == [3, 2]
    assert [len(part.proposals) for part in parts if part.proposals] == [2, 2, 1]
    # Headings open the first block only; the legend and the closing line end the last.
    ranking = [part for part in parts if part.rows]
    assert [part.ranking_heading for part in ranking] == [True, False]
    assert [part.ranking_legend for part in ranking] == [False, True]
    assert not ranking[0].line_at_end
    assert sum(part.proposals_heading for part in parts) == 1


def test_report_in_parts_verifies(in_parts: InParts) -> None:
    verification = verify_report(in_parts.pdf)

    assert verification.ok, [c for c in verification.checks if not c.ok]


def test_every_page_but_the_cover_is_numbered_of_the_whole(in_parts: InParts) -> None:
    pages = pdf_text(in_parts.pdf)

    assert not PAGE_NUMBER.search(pages[0])
    for index, text in enumerate(pages[1:], start=2):
        assert PAGE_NUMBER.findall(text) == [(str(index), str(len(pages)))], index


def test_the_proposals_read_as_in_the_whole_report(in_parts: InParts, rendered: Rendered) -> None:
    # The two reports come from two builds of the same scene: the same data, but on PostgreSQL
    # not the same ids, so not the same audit head and fingerprint (footer and appendix).
    footer = re.compile(r"Fingerprint [0-9a-f]{12}")

    def proposal_pages(pdf: bytes) -> list[str]:
        # The page number is drawn apart from the page in parts: the text may break elsewhere.
        pages = [
            " ".join(footer.sub("", PAGE_NUMBER.sub("", text)).split()) for text in pdf_text(pdf)
        ]
        start = next(
            i for i, text in enumerate(pages[2:], start=2) if re.search(r"4\s+The proposals", text)
        )
        end = next(i for i, text in enumerate(pages) if i > start and "5 Appendix" in text)
        return pages[start:end]

    pages = proposal_pages(in_parts.pdf)

    assert len(pages) > 5
    assert pages == proposal_pages(rendered.draft_en)


def test_ranking_rows_are_all_there_in_order(in_parts: InParts) -> None:
    text = "\n".join(page for page in pdf_text(in_parts.pdf) if "Cumulative" in page)

    positions = [text.index(reference) for reference in EXPECTED_ORDER]
    assert positions == sorted(positions)
    assert text.count("Funding line") == 1


def test_contents_give_the_page_each_chapter_starts_on(in_parts: InParts, tmp_path: Any) -> None:
    pages = pdf_text(in_parts.pdf)
    contents = pdftotext(in_parts.pdf, tmp_path).split("\f")[1]

    found = re.findall(r"^\s*([1-5])\s+(\S.*?)\s{2,}(\d+)\s*$", contents, re.MULTILINE)

    assert [number for number, _title, _page in found] == ["1", "2", "3", "4", "5"]
    for number, title, page in found:
        heading = re.compile(rf"^{number}\s+{re.escape(title)}$", re.MULTILINE)
        # The first page after the contents that carries the chapter's heading.
        first = next(i for i, text in enumerate(pages[2:], start=3) if heading.search(text))
        assert first == int(page), title


def test_outline_is_the_whole_reports(in_parts: InParts, rendered: Rendered) -> None:
    def titles(pdf: bytes) -> list[str]:
        def walk(items: Any, depth: int) -> list[str]:
            return [
                line
                for item in items
                for line in [f"{depth}:{item.title}", *walk(item.children, depth + 1)]
            ]

        with pikepdf.open(io.BytesIO(pdf)) as document, document.open_outline() as outline:
            return walk(outline.root, 0)

    outline = titles(in_parts.pdf)

    assert outline == titles(rendered.draft_en)
    assert "1:4 \xa0The proposals" in outline


def test_assembled_report_is_pdf_a_3b_with_its_files(in_parts: InParts) -> None:
    with pikepdf.open(io.BytesIO(in_parts.pdf)) as document:
        # qpdf's check: structure, streams, and the name trees sorted.
        assert document.check_pdf_syntax() == []
        metadata = document.open_metadata()
        assert metadata["pdfaid:part"] == "3"
        assert metadata["pdfaid:conformance"] == "B"
        assert len(document.Root.OutputIntents) == 1
        # (WeasyPrint lists each file twice in /AF, in one document as in parts.)
        assert {str(spec.F) for spec in document.Root.AF} == {
            "evaluation.json",
            "ranking.csv",
            "analytics.json",
        }


def test_same_data_same_bytes_in_one_or_two_processes(in_parts: InParts) -> None:
    assert in_parts.again == in_parts.pdf


def test_progress_counts_each_part(in_parts: InParts) -> None:
    # Reading, laying out the data, then the seven parts' six after the front, the front,
    # the page numbers and the assembly.
    steps = [done for done, _total in in_parts.progress]
    assert steps == sorted(steps)
    assert in_parts.progress[-1] == (3 + 6 + 3, 3 + 6 + 3)
