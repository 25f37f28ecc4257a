"""Reading an uploaded table (CSV or JSON) into rows, within the size limits, and the errors
every import reports: row number, column, reason.

Row numbers are what a spreadsheet shows: in a CSV file the header is row 1, so the first
record is row 2; in a JSON list the first object is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from flask_babel import gettext

from .. import limits
from ..errors import DomainError

# --- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        # Translated when shown: the web upload says it in the user's language.
        where = [] if self.row is None else [gettext("row %(num)s", num=self.row)]
        if self.column:
            where.append(gettext("column '%(name)s'", name=limits.excerpt(self.column)))
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportRejected(DomainError, ValueError):
    """The table has problems; nothing was written. ``errors`` lists every one, in row order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row or 0, e.column or ""))
        super().__init__("\n".join(str(e) for e in self.errors))


# --- reading tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int | None  # as the user sees it, see the module docstring; None for a single record
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def read_table(
    data: bytes,
    *,
    filename: str = "",
    fmt: str | None = None,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Table:
    """A CSV (UTF-8, with or without BOM) or JSON (a list of objects) file as rows.

    The format is ``fmt`` ("csv" or "json"), else the file name's extension, else JSON when the
    content starts with ``[``.

    The web's uploads keep the default limits; the command line passes larger ones
    (``limits.CLI_IMPORT_BYTES``, ``limits.CLI_IMPORT_ROWS``).

    :raises ImportRejected: larger than ``max_bytes`` or ``max_rows``, not UTF-8, not CSV/JSON of the
        expected shape, nested too deeply, duplicate columns.
    """
    max_bytes = limits.IMPORT_BYTES if max_bytes is None else max_bytes
    max_rows = limits.IMPORT_ROWS if max_rows is None else max_rows
    if len(data) > max_bytes:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "the file is larger than %(max)s MB; split it into smaller files",
                        max=max_bytes // (1024 * 1024),
                    ),
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext("the file is not UTF-8 text (byte %(num)s)", num=exc.start + 1),
                )
            ]
        ) from None
    if "\x00" in text:
        # PostgreSQL cannot store it in text (SQLite can): refuse it here, with its line.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRejected(
            [
                RowError(
                    line,
                    None,
                    gettext("a NUL character (byte 0): is this really a text file?"),
                )
            ]
        )
    if fmt is None:
        lowered = filename.lower()
        if lowered.endswith(".json"):
            fmt = "json"
        elif lowered.endswith(".csv"):
            fmt = "csv"
        else:
            fmt = "json" if text.lstrip().startswith("[") else "csv"
    if fmt == "json":
        return _limited(_read_json(text), max_rows)
    if fmt == "csv":
        return _limited(_read_csv(text), max_rows)
    raise ImportRejected(
        [RowError(None, None, gettext("unknown format %(fmt)s: use csv or json", fmt=repr(fmt)))]
    )


def _delimiter(text: str) -> str:
    """``,`` unless the header line has more ``;`` or tabs: Excel in a German, French or Italian
    locale saves "CSV" separated by semicolons, and coordinators should not have to care."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_csv(text: str) -> Table:
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise ImportRejected(
            [RowError(None, None, gettext("not valid CSV: %(error)s", error=str(exc)))]
        ) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportRejected([RowError(None, None, "the file is empty: no header row")])
    header = tuple(cell.strip() for cell in records[0])
    errors = _header_errors(header, row=1)
    rows: list[Row] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, typically at the end of a hand-edited file
        if len(cells) > len(header):
            errors.append(_too_many_cells(number, len(cells), len(header)))
            continue
        rows.append(Row(number, _values(header, cells)))
    if errors:
        raise ImportRejected(errors)
    return Table(tuple(c for c in header if c), tuple(rows))


@dataclass
class RowStream:
    """A CSV file read one record at a time (``stream_csv``), for the command line's large
    imports: ``rows`` is consumed once, and ``errors`` collects, on the way, the rows whose
    shape is wrong (more cells than the header); the importer adds them to its own."""

    columns: tuple[str, ...]
    rows: Iterator[Row]
    errors: list[RowError]


def stream_csv(stream: BinaryIO, *, max_rows: int, max_bytes: int) -> RowStream:
    """``stream`` (CSV, UTF-8 with or without BOM) as a header and a lazy iterator of rows, so a
    file of 100,000 reviews is never in memory whole. Row numbers as in ``read_table``. A
    problem of the whole file (not UTF-8, a NUL byte, more than ``max_rows`` records or
    ``max_bytes`` bytes, broken CSV) raises ``ImportRejected`` when the reading reaches it;
    the caller's transaction then writes nothing, as for any other refused file.
    """
    lines = _decoded_lines(stream, max_bytes)
    first = next(lines, "")
    reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
    try:
        header_cells = next(reader, [])
    except csv.Error as exc:
        message = gettext("not valid CSV: %(error)s", error=str(exc))
        raise ImportRejected([RowError(1, None, message)]) from None
    if not any(cell.strip() for cell in header_cells):
        raise ImportRejected([RowError(None, None, "the file is empty: no header row")])
    header = tuple(cell.strip() for cell in header_cells)
    errors = _header_errors(header, row=1)
    if errors:
        raise ImportRejected(errors)
    found: list[RowError] = []

    def rows() -> Iterator[Row]:
        number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                message = gettext("not valid CSV: %(error)s", error=str(exc))
                raise ImportRejected([RowError(number + 1, None, message)]) from None
            number += 1
            # Every record counts, blank and refused ones too: the work stays bounded.
            if number - 1 > max_rows:
                message = gettext("more than %(max)s rows; at most %(max)s per file", max=max_rows)
                raise ImportRejected([RowError(None, None, message)])
            if not any(cell.strip() for cell in cells):
                continue
            if any("\x00" in cell for cell in cells):
                message = gettext("a NUL character (byte 0): is this really a text file?")
                raise ImportRejected([RowError(number, None, message)])
            if len(cells) > len(header):
                found.append(_too_many_cells(number, len(cells), len(header)))
                continue
            yield Row(number, _values(header, cells))

    return RowStream(tuple(c for c in header if c), rows(), found)


def _decoded_lines(stream: BinaryIO, max_bytes: int) -> Iterator[str]:
    """The file's lines as text, decoded one at a time so that a byte that is not UTF-8 is
    reported with its line (a spreadsheet's row, unless a cell spans lines). A line is read
    at most up to what is left of ``max_bytes``, so one endless line cannot fill the memory."""
    left, number = max_bytes, 0
    while raw := stream.readline(left + 1):
        number += 1
        left -= len(raw)
        if left < 0:
            message = gettext(
                "the file is larger than %(max)s MB; split it into smaller files",
                max=max_bytes // (1024 * 1024),
            )
            raise ImportRejected([RowError(None, None, message)])
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            message = gettext("the file is not UTF-8 text")
            raise ImportRejected([RowError(number, None, message)]) from None


def _too_many_cells(number: int, cells: int, header: int) -> RowError:
    return RowError(
        number,
        None,
        gettext("%(cells)s cells but the header has %(header)s", cells=cells, header=header),
    )


def _values(header: tuple[str, ...], cells: list[str]) -> dict[str, str]:
    return {
        column: cells[i].strip() if i < len(cells) else ""
        for i, column in enumerate(header)
        if column
    }


def _json_int(text: str) -> int | Decimal:
    """An integer of a JSON file; one too long for ``int()`` (4,300 digits) as a Decimal, which
    the checks of its column then refuse as too large or too long."""
    digits = sys.get_int_max_str_digits()
    return int(text) if not digits or len(text.lstrip("-")) <= digits else Decimal(text)


# Strings are skipped, so that brackets inside them do not count.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}\n]')


def _too_deep(text: str) -> RowError:
    """The error for a file whose lists and objects nest deeper than ``limits.NESTING``, with the
    line where they first do (found by a scan that runs only for such a file)."""
    depth, line = 0, 1
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limits.NESTING:
                break
        elif token in ("]", "}"):
            depth -= 1
        else:
            line += token.count("\n")
    return RowError(
        None,
        None,
        gettext(
            "line %(num)s: lists and objects nest more than %(max)s levels deep",
            num=line,
            max=limits.NESTING,
        ),
    )


def _read_json(text: str) -> Table:
    try:
        items = json.loads(text, parse_float=Decimal, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "not valid JSON: %(error)s (line %(line)s)", error=exc.msg, line=exc.lineno
                    ),
                )
            ]
        ) from None
    except RecursionError:
        raise ImportRejected([_too_deep(text)]) from None
    if limits.nesting_depth(items) > limits.NESTING:
        raise ImportRejected([_too_deep(text)])
    if not isinstance(items, list):
        raise ImportRejected([RowError(None, None, "the JSON file must be a list of objects")])
    errors: list[RowError] = []
    columns: dict[str, None] = {}
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, None, "must be an object"))
            continue
        values = {str(k).strip(): v.strip() if isinstance(v, str) else v for k, v in item.items()}
        columns.update(dict.fromkeys(values))
        rows.append(Row(number, values))
    if errors:
        raise ImportRejected(errors)
    return Table(tuple(columns), tuple(rows))


def _header_errors(header: Sequence[str], *, row: int) -> list[RowError]:
    errors = []
    seen: set[str] = set()
    for column in header:
        if column in seen and column:
            errors.append(RowError(row, column, "the column appears twice"))
        seen.add(column)
    return errors


def _limited(table: Table, max_rows: int) -> Table:
    if len(table.rows) > max_rows:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "%(rows)s rows; at most %(max)s per file",
                        rows=len(table.rows),
                        max=max_rows,
                    ),
                )
            ]
        )
    return table
