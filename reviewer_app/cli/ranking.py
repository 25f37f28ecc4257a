"""``reviewer-app ranking``: the ranking of a call, as the scoring rules compute it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from ._common import fail, find_call

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass


@click.command("ranking")
@click.argument("key")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table for people, csv or json for programs.",
)
@with_appcontext
def ranking_command(key: str, fmt: str) -> None:
    """Print the ranking of call KEY: scores, totals, rank, status against the funding line.

    CSV columns: rank, reference, title, reviews, one per criterion, total, weighted_total,
    status (main, reserve, below_threshold, incomplete), flags (;-separated). Rules:
    docs/scoring.md.
    """
    from ..ranking import rank_call, ranking_csv, ranking_json_text, ranking_table
    from ..scoring.engine import EvaluationError

    call = find_call(key)
    try:
        ranking = rank_call(call, with_scores=fmt == "json")  # JSON lists every score
    except EvaluationError as exc:
        fail("the stored scores cannot be ranked:", *exc.problems)
    render = {"table": ranking_table, "csv": ranking_csv, "json": ranking_json_text}[fmt]
    click.echo(render(ranking), nl=False)


def register(main: click.Group) -> None:
    main.add_command(ranking_command)
