"""``reviewer-app reviews``: import offline individual reviews."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import FORMAT_OPTION, commit_import, find_call, streamed_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.group("reviews", cls=AppGroup)
def reviews_group() -> None:
    """Individual reviews."""


@reviews_group.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite reviews that are already submitted.")
@FORMAT_OPTION
def import_command(key: str, file: Path, replace: bool, fmt: str | None) -> None:
    """Import offline reviews into call KEY (in the evaluation phase) from FILE.

    CSV columns: proposal (reference), expert (e-mail), then for each criterion <key> (the score)
    and <key>_comment. Each row records a no-conflict declaration and a submitted review. One bad
    row and nothing is imported. A CSV file is read as the import goes (up to 100,000 rows).
    """
    from ..importers import import_reviews

    call = find_call(key)
    with streamed_table(file, fmt) as table:
        reviews = commit_import(
            file, lambda: import_reviews(call, table, replace=replace, actor=None)
        )
    click.echo(f"Imported {len(reviews)} submitted reviews into '{key}'.")


def register(main: click.Group) -> None:
    main.add_command(reviews_group)
