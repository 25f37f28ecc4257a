"""``reviewer-app proposals``: import the proposals of a call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import FORMAT_OPTION, commit_import, find_call, load_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.group("proposals", cls=AppGroup)
def proposals_group() -> None:
    """Proposals of a call."""


@proposals_group.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@FORMAT_OPTION
def import_command(key: str, file: Path, fmt: str | None) -> None:
    """Import proposals into call KEY from FILE (CSV or a JSON list of objects).

    Columns: reference and title (required); acronym, applicant, country, requested_funding_eur,
    summary (optional); any other column is kept as an extra field. A reference already in the
    call is an error. One bad row and nothing is imported.
    """
    from ..importers import import_proposals

    call = find_call(key)
    table = load_table(file, fmt)
    proposals = commit_import(file, lambda: import_proposals(call, table, actor=None))
    click.echo(f"Imported {len(proposals)} proposals into '{key}'.")


def register(main: click.Group) -> None:
    main.add_command(proposals_group)
