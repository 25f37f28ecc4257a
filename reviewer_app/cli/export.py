"""``reviewer-app export``: reviews or the ranking of a call for a spreadsheet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from ._common import LazyChoice, fail, find_call, record_read

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


def _what() -> tuple[str, ...]:
    from ..exports import WHAT

    return tuple(WHAT)


def _formats() -> tuple[str, ...]:
    from ..exports import FORMATS

    return tuple(FORMATS)


@click.command("export")
@click.argument("key")
@click.option("--what", type=LazyChoice(_what), required=True, help="What to export.")
@click.option("--format", "fmt", type=LazyChoice(_formats), default="csv", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@with_appcontext
def export_command(key: str, what: str, fmt: str, output: Path | None) -> None:
    """Export the reviews or the ranking of call KEY as CSV, JSON or XLSX.

    Text cells that start with =, +, - or @ are prefixed with an apostrophe so that no
    spreadsheet runs them as formulas.
    """
    from ..audit.events import ExportDownloaded
    from ..exports import export_call
    from ..scoring.engine import EvaluationError

    call = find_call(key)
    try:
        data = export_call(call, what, fmt)
    except EvaluationError as exc:
        fail("the stored scores cannot be ranked:", *exc.problems)
    record_read(call, ExportDownloaded(what=what, format=fmt))
    if output is None:
        if fmt == "xlsx" and sys.stdout.isatty():
            fail("an XLSX file is binary: give -o FILE or redirect the output")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}")
    click.echo(f"Wrote {what} of '{key}' to {output} ({len(data)} bytes).", err=True)


def register(main: click.Group) -> None:
    main.add_command(export_command)
