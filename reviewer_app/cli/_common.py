"""Helpers shared by the data commands: finding a call, reading a table, failing cleanly.

Every data command ends in exactly one of two ways: everything committed and exit status 0, or
nothing written, the reasons on stderr and exit status 1. No traceback reaches the user.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar, cast

import click
from flask import has_app_context

if TYPE_CHECKING:  # imported where used: the command line starts without them
    from ..audit.events import AuditData
    from ..importers import Table
    from ..importers.tables import RowStream
    from ..models import Call


T = TypeVar("T")

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="File format; by default from the file name (.csv or .json), else guessed.",
)


def fail(*messages: str) -> NoReturn:
    from ..extensions import db

    if has_app_context():  # `report verify` without --against runs without an application
        db.session.rollback()
    for message in messages:
        click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def record_read(call: Call, event: AuditData) -> None:
    """Record that the command line took a file out of call ``call`` (no person: the command
    line has none), as the web records a download."""
    from ..extensions import db
    from ..models.audit import record

    record(event, call, call_id=call.id, actor_id=None)
    db.session.commit()


def find_call(key: str) -> Call:
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Call

    call = db.session.scalar(select(Call).where(Call.key == key))
    if call is None:
        known = db.session.scalars(select(Call.key).order_by(Call.key)).all()
        hint = f" (calls: {', '.join(known)})" if known else " (there are no calls yet)"
        fail(f"no call with key '{key}'{hint}")
    return call


def load_table(path: Path, fmt: str | None) -> Table:
    """The file as a table; ``-`` reads standard input."""
    from .. import limits
    from ..importers import ImportRejected, read_table

    size = limits.CLI_IMPORT_BYTES + 1  # one byte more than allowed tells "too large"
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(size)
        else:
            with path.open("rb") as fh:
                data = fh.read(size)
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    try:
        return read_table(
            data,
            filename=str(path),
            fmt=fmt,
            max_bytes=limits.CLI_IMPORT_BYTES,
            max_rows=limits.CLI_IMPORT_ROWS,
        )
    except ImportRejected as exc:
        report_rejected(path, exc.errors)


@contextmanager
def streamed_table(path: Path, fmt: str | None) -> Iterator[Table | RowStream]:
    """A CSV file read a record at a time while the import runs (a file of 100,000 reviews is
    never in memory whole); a JSON file is read whole, as ``load_table`` does."""
    from .. import limits
    from ..importers import ImportRejected
    from ..importers.tables import stream_csv

    is_stdin = str(path) == "-"
    try:
        fh = cast(io.BufferedReader, sys.stdin.buffer) if is_stdin else path.open("rb")
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    try:
        name = str(path).lower()
        if fmt is None and not name.endswith(".csv"):
            peek = getattr(fh, "peek", None)  # standard input under a test runner has none
            start = peek(64)[:64] if peek else b""
            looks_json = name.endswith(".json") or start.lstrip().startswith(b"[")
            fmt = "json" if looks_json else "csv"
        if fmt == "json":
            yield load_table(path, fmt)
            return
        try:
            yield stream_csv(fh, max_rows=limits.CLI_IMPORT_ROWS, max_bytes=limits.CLI_IMPORT_BYTES)
        except ImportRejected as exc:
            report_rejected(path, exc.errors)
    finally:
        if not is_stdin:
            fh.close()


def report_rejected(source: object, errors: Iterable[object]) -> NoReturn:
    from ..extensions import db

    errors = list(errors)
    db.session.rollback()
    for error in errors:
        click.echo(f"{source}: {error}", err=True)
    count = len(errors)
    click.echo(
        f"Error: {count} problem{'s' if count != 1 else ''}; nothing was imported.", err=True
    )
    sys.exit(1)


def commit_import(source: object, action: Callable[[], T]) -> T:
    """Run an importer and commit, or roll back and report every problem. After a commit the
    planner's statistics are refreshed: a bulk import can multiply a table, and SQLite gathers
    none by itself (PostgreSQL's autovacuum would, a minute or more later)."""
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from ..extensions import db, try_refresh_planner_statistics
    from ..importers import ImportRejected

    try:
        result = action()
        db.session.commit()
    except ImportRejected as exc:
        report_rejected(source, exc.errors)
    except IntegrityError as exc:
        # Someone else wrote the same rows between our checks and our insert.
        fail(f"{source}: the database refused the import ({exc.orig}); nothing was imported")
    except SQLAlchemyError as exc:
        fail(f"{source}: database error ({type(exc).__name__}); nothing was imported")
    # Imported and committed, whatever happens next: a refresh that fails is only a warning.
    if not try_refresh_planner_statistics():
        click.echo(
            "Warning: the database's planner statistics were not refreshed; "
            "`reviewer-app cleanup` does it.",
            err=True,
        )
    return result


class LazyChoice(click.Choice[str]):
    """A ``click.Choice`` whose values come from the package when first needed (``--help`` or
    parsing), so that listing the commands does not import the models."""

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        self._load = load
        self._values: tuple[str, ...] | None = None
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(self._load())
        return self._values

    @choices.setter
    def choices(self, values: Iterable[str]) -> None:
        self._values = tuple(values)
