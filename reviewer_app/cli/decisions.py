"""``reviewer-app decisions``: record a call's decisions from a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import FORMAT_OPTION, commit_import, fail, find_call, load_table

if TYPE_CHECKING:  # imported where used: the command line starts without them
    from ..models import User


@click.group("decisions", cls=AppGroup)
def decisions_group() -> None:
    """Decisions."""


def _coordinator(email: str) -> User:
    """The active coordinator account of ``email``: decisions are signed by a person."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Role, User

    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        fail(f"--by: no user with the e-mail {email!r}")
    if user.role is not Role.COORDINATOR:
        fail(f"--by: {email} is a {user.role.value}, not a coordinator")
    if not user.active:
        fail(f"--by: {email} is deactivated")
    return user


@decisions_group.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--by",
    "by_email",
    required=True,
    metavar="EMAIL",
    help="The coordinator who takes the decisions; recorded as their author, as on the page.",
)
@FORMAT_OPTION
def import_command(key: str, file: Path, by_email: str, fmt: str | None) -> None:
    """Record the decisions of call KEY (in the ranking phase) from FILE.

    Columns: reference, outcome (funded, reserve, rejected or ineligible), and optionally
    amount_eur (the granted amount of a funded proposal, at most the requested funding; empty:
    the requested funding) and rationale (required when the outcome departs from the ranking).
    The rules of the decisions page apply, and the funded total must stay within the call's
    budget. One bad row and nothing is recorded.
    """
    from ..coordinator.decisions import format_eur, funding_summary
    from ..importers import import_decisions

    call = find_call(key)
    actor = _coordinator(by_email)
    table = load_table(file, fmt)
    written = commit_import(file, lambda: import_decisions(call, table, actor))
    unchanged = len(table.rows) - len(written)
    funding = funding_summary(call)
    budget = f"{format_eur(funding.budget)} EUR" if funding.budget is not None else "none"
    click.echo(
        f"Recorded {len(written)} decisions in '{key}' ({unchanged} unchanged). "
        f"Funded: {funding.funded}, {format_eur(funding.total)} EUR; budget: {budget}."
    )


def register(main: click.Group) -> None:
    main.add_command(decisions_group)
