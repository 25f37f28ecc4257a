"""``reviewer-app assign``: assign experts to proposals from a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from ._common import FORMAT_OPTION, commit_import, find_call, load_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.command("assign")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@FORMAT_OPTION
@with_appcontext
def assign_command(key: str, file: Path, fmt: str | None) -> None:
    """Assign experts to proposals of call KEY from FILE.

    CSV columns: proposal (reference), expert (e-mail), optionally rapporteur (yes/no). The
    call's conflict rules apply. One bad row and nothing is assigned.
    """
    from ..importers import import_assignments

    call = find_call(key)
    table = load_table(file, fmt)
    assignments = commit_import(file, lambda: import_assignments(call, table, actor=None))
    click.echo(f"Created {len(assignments)} assignments in '{key}'.")


def register(main: click.Group) -> None:
    main.add_command(assign_command)
