"""Exports of a call for spreadsheets: CSV, JSON and XLSX, with formula injection escaped.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets strip before looking) would be run as a formula by Excel or LibreOffice; such cells
get a leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers are written
as text with two decimals, as on every page, so the export shows exactly what the web shows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Assignment, Call, Proposal, Review, User
from .scoring.columns import RANKING_MONEY, REVIEW_COLUMNS, criterion_columns
from .scoring.engine import Ranking
from .scoring.numbers import format_score, to_decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` made inert for a spreadsheet: a leading apostrophe when it could be a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV (``\\n`` line ends, minimal quoting) with every cell escaped by ``safe_cell``."""
    return "".join(csv_chunks(header, rows))


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """``csv_text`` a thousand rows at a time, for a download that streams (the audit log of a
    large call holds hundreds of thousands of events: never the whole file in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in header])
    for number, row in enumerate(rows, 1):
        writer.writerow([safe_cell(c) for c in row])
        if number % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- what a coordinator exports ---------------------------------------------------------------

Cell = str | int | Decimal | None
WHAT = ("reviews", "ranking")
FORMATS = ("csv", "json", "xlsx")


@dataclass(frozen=True)
class Sheet:
    """A table of typed cells: numbers stay numbers in XLSX and become two-decimal text in CSV."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def ranking_sheet(ranking: Ranking) -> Sheet:
    """The ranking CSV's columns, then the money: requested and cumulative funding."""
    from .ranking import ranking_header

    rows = tuple(
        (
            row.rank,
            row.reference,
            row.title,
            row.reviews,
            *(_score(c.score) for c in row.criteria),
            _score(row.total),
            _score(row.weighted_total),
            row.status.value,
            ";".join(row.flags),
            row.requested_funding,
            row.cumulative_funding,
        )
        for row in ranking.rows
    )
    header = (*ranking_header(ranking), *RANKING_MONEY)
    return Sheet("Ranking", header, rows)


def reviews_sheet(call: Call) -> Sheet:
    """One row per assignment: who, the declaration, the review's state and every score with
    its comment, so a coordinator can follow up on what is missing."""
    keys = call.scheme.criterion_keys
    criterion_keys = {c.id: c.key for c in call.criteria}
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .join(Assignment.expert)
        .where(Proposal.call_id == call.id)
        .options(
            joinedload(Assignment.proposal).load_only(
                Proposal.reference, Proposal.acronym, Proposal.title
            ),
            joinedload(Assignment.expert).load_only(User.email, User.name),
            joinedload(Assignment.declaration),
            joinedload(Assignment.review).selectinload(Review.scores),
        )
        .order_by(Proposal.reference, User.email)
    ).unique()
    header = (*REVIEW_COLUMNS, *(col for key in keys for col in criterion_columns(key)))
    rows = []
    for a in assignments:
        review = a.review
        scores = {criterion_keys[s.criterion_id]: s for s in review.scores} if review else {}
        declaration = a.declaration
        rows.append(
            (
                a.proposal.reference,
                a.proposal.acronym,
                a.proposal.title,
                a.expert.email,
                a.expert.name,
                "yes" if a.is_rapporteur else "no",
                "" if declaration is None else ("yes" if declaration.has_conflict else "no"),
                declaration.reason if declaration is not None else "",
                "not started" if review is None else review.status.value,
                review.submitted_at.isoformat(timespec="seconds")
                if review is not None and review.submitted_at
                else "",
                *(
                    cell
                    for key in keys
                    for cell in (
                        scores[key].value if key in scores else None,
                        scores[key].comment if key in scores else "",
                    )
                ),
            )
        )
    return Sheet("Reviews", header, tuple(rows))


def _score(value: Fraction | None) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format_score(cell)  # scores and euros alike: two decimals
    return str(cell)


def sheet_csv(sheet: Sheet) -> str:
    return csv_text(sheet.header, ([_text(c) for c in row] for row in sheet.rows))


def sheet_json(sheet: Sheet) -> list[dict[str, Any]]:
    """Rows as objects; decimals as two-decimal strings (JSON has no decimal type)."""
    return [
        {
            column: (format_score(cell) if isinstance(cell, Decimal) else cell)
            for column, cell in zip(sheet.header, row, strict=True)
        }
        for row in sheet.rows
    ]


def sheet_xlsx(sheet: Sheet) -> bytes:
    """A workbook of one sheet; every text cell is stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell as SheetCell

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet.title)

    def cell(value: Cell) -> SheetCell:
        if isinstance(value, str):
            out = WriteOnlyCell(worksheet, value=safe_cell(value))
            out.data_type = "s"  # openpyxl would store "=..." as a formula otherwise
            return out
        # openpyxl writes a Decimal as the number it is; its stubs name only float.
        out = WriteOnlyCell(worksheet, value=cast(Any, value))
        if isinstance(value, Decimal):
            out.number_format = "0.00"
        return out

    worksheet.append([cell(h) for h in sheet.header])
    for row in sheet.rows:
        worksheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_call(call: Call, what: str, fmt: str) -> bytes:
    """``what`` ("reviews" or "ranking") of ``call`` as ``fmt`` ("csv", "json" or "xlsx")."""
    if what not in WHAT:
        raise ValueError(f"unknown export {what!r}: use {' or '.join(WHAT)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if what == "ranking":
        from .ranking import rank_call, ranking_json

        ranking = rank_call(call, with_scores=fmt == "json")  # JSON lists every score
        if fmt == "json":
            return _json_bytes(ranking_json(ranking))
        sheet = ranking_sheet(ranking)
    else:
        sheet = reviews_sheet(call)
        if fmt == "json":
            return _json_bytes({"call": call.key, "reviews": sheet_json(sheet)})
    if fmt == "csv":
        return sheet_csv(sheet).encode("utf-8")
    return sheet_xlsx(sheet)


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
