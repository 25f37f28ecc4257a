"""Joining laid-out parts part by part (reports/join.py), on small PDFs WeasyPrint writes."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from weasyprint import HTML, Attachment

from reviewer_app.reports.join import join
from reviewer_app.reports.verify import embedded_files, page_texts

PAGE = '<p style="break-before: page">'
# Text that reads as an indirect reference inside strings: it must come out unchanged.
TITLE = "Report (1 0 R) of 2 0 R"


def _pdf(path: Path, html: str, *, attachments: tuple[str, ...] = ()) -> str:
    files = [Attachment(string=name, name=name) for name in attachments]
    HTML(string=html).write_pdf(path, pdf_variant="pdf/a-3b", attachments=files)
    return str(path)


@pytest.fixture
def parts(tmp_path: Path) -> tuple[list[str], list[str]]:
    front = _pdf(
        tmp_path / "front.pdf",
        f"<title>{TITLE}</title><h1 id=cover>Cover</h1>{PAGE}Contents",
        attachments=("evaluation.json", "ranking.csv"),
    )
    body = _pdf(
        tmp_path / "body.pdf",
        f"<p>Body one</p>{PAGE}<span id=later>Body two</span> <a href=#later>here</a>"
        f"{PAGE}Body three",
    )
    last = _pdf(tmp_path / "last.pdf", "<p id=end>Last</p>")
    numbers = [
        _pdf(tmp_path / "numbers-1.pdf", f"N2{PAGE}N3{PAGE}N4"),
        _pdf(tmp_path / "numbers-2.pdf", f"N5{PAGE}N6"),
    ]
    return [front, body, last], numbers


def _joined(parts: tuple[list[str], list[str]], headings: list[tuple[int, str, int]]) -> bytes:
    target = io.BytesIO()
    join(parts[0], parts[1], headings, target)
    return target.getvalue()


def test_pages_in_order_each_numbered_but_the_cover(parts: tuple[list[str], list[str]]) -> None:
    texts = [" ".join(text.split()) for text in page_texts(_joined(parts, []))]

    assert len(texts) == 6
    assert "Cover" in texts[0] and "N" not in texts[0]
    expected = ["Contents", "Body one", "Body two", "Body three", "Last"]
    for number, (text, words) in enumerate(zip(texts[1:], expected, strict=True), start=2):
        assert words in text and f"N{number}" in text


def test_the_front_parts_catalog_and_strings_come_as_they_are(
    parts: tuple[list[str], list[str]],
) -> None:
    content = _joined(parts, [])

    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert str(pdf.docinfo.Title) == TITLE
        assert pdf.open_metadata()["pdfaid:part"] == "3"
        assert len(pdf.Root.OutputIntents) == 1
    assert set(embedded_files(content)) == {"ranking.csv", "evaluation.json"}


def test_named_destinations_of_every_part_point_at_their_pages(
    parts: tuple[list[str], list[str]],
) -> None:
    with pikepdf.open(io.BytesIO(_joined(parts, []))) as pdf:
        names = pdf.Root.Names.Dests.Names
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        found = {str(names[at]): pages[names[at + 1][0].objgen] for at in range(0, len(names), 2)}
        link = pdf.pages[3].Annots[0]

        assert found == {"cover": 0, "later": 3, "end": 5}
        assert str(link.Dest) == "later"


def test_the_outline_is_made_from_the_headings(parts: tuple[list[str], list[str]]) -> None:
    headings = [(1, "Front", 0), (2, "Contents", 1), (1, "Body", 2), (2, "Two", 3), (3, "Deep", 4)]

    with pikepdf.open(io.BytesIO(_joined(parts, headings))) as pdf:
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}

        def tree(items: list[pikepdf.OutlineItem]) -> list[object]:
            return [
                (item.title, pages[item.destination[0].objgen], tree(item.children))
                for item in items
            ]

        with pdf.open_outline() as outline:
            assert tree(outline.root) == [
                ("Front", 0, [("Contents", 1, [])]),
                ("Body", 2, [("Two", 3, [("Deep", 4, [])])]),
            ]
        assert pdf.Root.Outlines.Count == 5


def test_same_parts_same_bytes(parts: tuple[list[str], list[str]]) -> None:
    headings = [(1, "Front", 0)]

    assert _joined(parts, headings) == _joined(parts, headings)


def test_too_few_page_numbers_is_an_error(parts: tuple[list[str], list[str]]) -> None:
    with pytest.raises(RuntimeError, match="fewer page numbers"):
        join(parts[0], parts[1][:1], [], io.BytesIO())
