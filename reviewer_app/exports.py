"""Exports of a call for spreadsheets: CSV, JSON and XLSX, with formula injection escaped.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets strip before looking) would be run as a formula by Excel or LibreOffice; such cells
get a leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers are written
as text with two decimals, as on every page, so the export shows exactly what the web shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` made inert for a spreadsheet: a leading apostrophe when it could be a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV (``\\n`` line ends, minimal quoting) with every cell escaped by ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()
