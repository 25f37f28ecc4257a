"""Importing the decisions of a call, with the same rules as the decisions page."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import limits
from ..coordinator.decisions import (
    DecisionEntry,
    DecisionError,
    check_decisions_open,
    decision_problems,
    record_decisions,
)
from ..extensions import db
from ..models import (
    Call,
    Decision,
    DecisionOutcome,
    Proposal,
    User,
)
from ..ranking import rank_call
from .checks import Check
from .tables import ImportRejected, Row, RowError, Table

# --- decisions ----------------------------------------------------------------------------------

DECISION_COLUMNS = ("reference", "outcome", "amount_eur", "rationale")


def import_decisions(call: Call, table: Table, actor: User) -> list[Decision]:
    """Record decisions (call in ``ranking``) with the rules of the decisions page, which this
    import reaches through the same service (:func:`~.coordinator.decisions.record_decisions`).

    Columns ``reference`` and ``outcome`` (funded, reserve, rejected or ineligible) are required;
    ``amount_eur`` (the granted amount of a funded proposal; empty: the requested funding) and
    ``rationale`` (required where the outcome departs from the ranking) are optional. Proposals
    missing from the file keep their decision. ``actor`` is recorded as the decision maker.

    :raises ImportRejected: a bad row (every one is listed), the wrong phase, or funded decisions
        above the call's budget; nothing is written.
    """
    try:
        check_decisions_open(call)
    except DecisionError as exc:
        raise ImportRejected([RowError(None, None, str(exc))]) from None
    check = Check()
    check.require_columns(table, ("reference", "outcome"))
    check.refuse_unknown_columns(table, DECISION_COLUMNS)
    check.raise_if_any()
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(selectinload(Proposal.decision))
        )
    }
    outcomes = {o.value: o for o in DecisionOutcome}
    seen: dict[str, int | None] = {}
    planned: list[tuple[Row, DecisionEntry]] = []
    for row in table.rows:
        reference = check.text(
            row, "reference", required=True, max_length=limits.PROPOSAL_REFERENCE
        )
        proposal = proposals.get(reference)
        if reference and proposal is None:
            check.add(
                row,
                "reference",
                gettext("'%(ref)s' is not a proposal of this call", ref=reference),
            )
        elif proposal is not None:
            check.unique(row, "reference", reference, seen)
        word = check.text(row, "outcome", required=True).lower()
        outcome = outcomes.get(word)
        if word and outcome is None:
            check.add(
                row,
                "outcome",
                gettext(
                    "must be one of %(choices)s, got %(value)s",
                    choices=", ".join(outcomes),
                    value=limits.excerpt(repr(word)),
                ),
            )
        amount = check.number(row, "amount_eur")
        rationale = check.text(row, "rationale", max_length=limits.DECISION_RATIONALE)
        if proposal is not None and outcome is not None:
            planned.append((row, DecisionEntry(proposal, outcome, rationale, amount)))
    if not table.rows:
        check.add(None, None, gettext("the file has no decisions"))
    # The rules of the decisions page, row by row, reported with the rows' own problems.
    ranking = rank_call(call)
    entries = [entry for _row, entry in planned]
    rows = {entry.proposal.id: row for row, entry in planned}
    for proposal_id, problems in decision_problems(call, entries, ranking).items():
        for column, message in problems.items():
            check.add(rows[proposal_id], column, message)
    check.raise_if_any()
    try:
        return record_decisions(call, entries, actor, ranking)
    except DecisionError as exc:  # the phase, or the funded total above the budget
        raise ImportRejected([RowError(None, None, str(exc))]) from None
