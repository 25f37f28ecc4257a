"""``reviewer-app call``: create a call from a criteria file, list calls, move a call's phase."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from ._common import LazyChoice, fail, find_call

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass

# The key appears in commands, file names and URLs: keep it to characters that need no quoting.
CALL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# The option that gives each confirmation a refused move asks for (PhaseError.confirm).
CONFIRM_OPTIONS = {
    "open_reviews": "--confirm-open-reviews",
    "unfinished_consensus": "--confirm-unfinished-consensus",
    "close": "--confirm-close",
}


@click.group("call", cls=AppGroup)
def call_group() -> None:
    """Calls: create one, list them, move one to its next phase."""


def _budget(value: str | None) -> Decimal | None:
    from .. import limits

    if value is None:
        return None
    try:
        budget = Decimal(value.replace("_", "").strip())
    except InvalidOperation:
        fail(f"--budget: a number of euros such as 25000000 or 1500000.50, got {value!r}")
    exponent = budget.as_tuple().exponent
    if not budget.is_finite() or budget < 0 or (isinstance(exponent, int) and exponent < -2):
        fail(f"--budget: a non-negative amount with at most two decimals, got {value!r}")
    if budget > limits.MAX_EUR:
        fail(f"--budget: {value} is implausibly large")
    return budget


@call_group.command("create")
@click.option(
    "--criteria",
    "criteria_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The scoring scheme (TOML), e.g. criteria/ai-factories-2024.toml.",
)
@click.option("--key", required=True, help="Short unique key of the call, e.g. ai-factories-2024.")
@click.option("--title", required=True, help="The call's title.")
@click.option("--budget", help="Total budget in euros; draws the funding line.")
@click.option(
    "--deadline",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Review deadline, YYYY-MM-DD.",
)
def create(
    criteria_file: Path, key: str, title: str, budget: str | None, deadline: datetime | None
) -> None:
    """Create a call in the setup phase with a frozen copy of the criteria file."""
    from .. import limits
    from ..coordinator.calls import CallKeyTaken, create_call
    from ..extensions import db
    from ..scoring.scheme import SchemeError
    from ..scoring.scheme_parser import load_scheme_file

    amount = _budget(budget)
    key, title = key.strip(), title.strip()
    if not CALL_KEY.fullmatch(key):
        fail(f"--key: letters, digits, '-', '_' or '.', at most 64 characters, got {key!r}")
    if not title or len(title) > limits.CALL_TITLE:
        fail(f"--title: 1 to {limits.CALL_TITLE} characters")
    try:
        scheme = load_scheme_file(criteria_file)
    except SchemeError as exc:
        fail(*(str(p) for p in exc.problems))
    text = criteria_file.read_text(encoding="utf-8")
    try:
        call = create_call(
            scheme,
            text,
            key=key,
            title=title,
            budget_eur=amount,
            deadline=deadline.date() if deadline else None,
            actor=None,
        )
    except CallKeyTaken:
        fail(f"a call with key '{key}' already exists")
    db.session.commit()
    click.echo(
        f"Created call '{call.key}' ({len(scheme.criteria)} criteria: "
        f"{', '.join(scheme.criterion_keys)}), phase setup."
    )


@call_group.command("list")
def list_calls() -> None:
    """List the calls with their phase and number of proposals."""
    from sqlalchemy import func, select

    from ..extensions import db
    from ..models import Call, Proposal

    rows = db.session.execute(
        select(Call.key, Call.phase, Call.title, func.count(Proposal.id))
        .outerjoin(Proposal, Proposal.call_id == Call.id)
        .group_by(Call.id)
        .order_by(Call.key)
    ).all()
    if not rows:
        click.echo("No calls yet. Create one with: reviewer-app call create --help")
        return
    width = max(len(r[0]) for r in rows)
    for key, phase, title, count in rows:
        click.echo(f"{key:<{width}}  {phase.value:<10}  {count:>4} proposals  {title}")


def _phases() -> list[str]:
    from ..models import Phase

    return [p.value for p in Phase]


@call_group.command("phase")
@click.argument("key")
@click.argument("phase", type=LazyChoice(_phases))
@click.option(
    "--confirm-open-reviews",
    is_flag=True,
    help="Close the evaluation although some reviews are not submitted (they will not count).",
)
@click.option(
    "--confirm-unfinished-consensus",
    is_flag=True,
    help="Move to ranking although some consensus reports are not final (those proposals are "
    "ranked on their individual reviews).",
)
@click.option(
    "--confirm-close",
    is_flag=True,
    help="Move to decided: close the call for good. Without it, the decisions, the funded "
    "total and the budget are shown and nothing changes.",
)
def phase(
    key: str,
    phase: str,
    confirm_open_reviews: bool,
    confirm_unfinished_consensus: bool,
    confirm_close: bool,
) -> None:
    """Move call KEY to PHASE: setup, evaluation, consensus, ranking or decided.

    A call moves one step at a time and never back; a move that makes no sense (no proposals,
    too few experts, missing decisions, funded decisions above the budget) is refused with the
    reason. Open reviews, consensus reports that are not final and closing the call for good
    each need their --confirm-... option.
    """
    from ..coordinator.phases import PhaseError, move_phase
    from ..extensions import db
    from ..models import Phase

    call = find_call(key)
    source = call.phase
    try:
        move_phase(
            call,
            Phase(phase),
            confirm_open_reviews=confirm_open_reviews,
            confirm_unfinished_consensus=confirm_unfinished_consensus,
            confirm_close=confirm_close,
        )
    except PhaseError as exc:
        option = CONFIRM_OPTIONS.get(exc.confirm or "")
        fail(str(exc.message) + (f" Add {option} to go ahead." if option else ""))
    db.session.commit()
    click.echo(f"Call '{key}' moved from {source.value} to {phase}.")


def register(main: click.Group) -> None:
    main.add_command(call_group)
