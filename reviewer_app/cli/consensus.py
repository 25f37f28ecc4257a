"""``reviewer-app consensus``: import final consensus scores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import FORMAT_OPTION, commit_import, find_call, load_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.group("consensus", cls=AppGroup)
def consensus_group() -> None:
    """Consensus reports."""


@consensus_group.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite consensus reports that are final.")
@FORMAT_OPTION
def import_command(key: str, file: Path, replace: bool, fmt: str | None) -> None:
    """Import consensus scores into call KEY (in the consensus phase) from FILE.

    CSV columns: proposal (reference), then for each criterion <key> (the score) and
    <key>_comment. Each row becomes a final consensus report, which overrides the individual
    scores in the ranking. One bad row and nothing is imported.
    """
    from ..importers import import_consensus

    call = find_call(key)
    table = load_table(file, fmt)
    reports = commit_import(
        file, lambda: import_consensus(call, table, replace=replace, actor=None)
    )
    click.echo(f"Imported {len(reports)} final consensus reports into '{key}'.")


def register(main: click.Group) -> None:
    main.add_command(consensus_group)
