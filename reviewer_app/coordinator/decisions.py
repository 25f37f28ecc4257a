"""Decisions: one outcome per proposal in the ranking phase, then the call is closed as decided.

The outcome is prefilled from the ranking status; departing from it needs a written rationale,
so that every decision a coordinator signs can be explained later. Services add and flush; the
caller commits once. Every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Call, Decision, DecisionOutcome, Phase, Proposal, User, utcnow
from ..models.audit import record
from ..ranking import rank_call
from ..scoring.engine import ProposalResult, Ranking, Status

# What the ranking suggests. An incomplete evaluation suggests nothing: the coordinator must
# choose, and explain, rather than have a missing review turn silently into a rejection.
SUGGESTED: dict[Status, DecisionOutcome | None] = {
    Status.MAIN: DecisionOutcome.FUNDED,
    Status.RESERVE: DecisionOutcome.RESERVE,
    Status.BELOW_THRESHOLD: DecisionOutcome.REJECTED,
    Status.INCOMPLETE: None,
}


class DecisionError(Exception):
    """A decision the rules refuse; ``str()`` is a message for the user."""


class DecisionsClosed(DecisionError):
    """Decisions are recorded only in the ranking phase."""


class DecisionsInvalid(DecisionError):
    """Some entries are refused; ``errors`` maps proposal id -> message. Nothing was saved."""

    def __init__(self, errors: dict[int, str]) -> None:
        self.errors = errors
        super().__init__(_l("Some decisions need correcting: nothing was saved."))


def prefill_outcome(status: Status) -> DecisionOutcome | None:
    """The outcome the ranking status suggests; None when the coordinator must choose."""
    return SUGGESTED[status]


def needs_rationale(status: Status, outcome: DecisionOutcome) -> bool:
    return prefill_outcome(status) is not outcome


def missing_decisions(call: Call) -> list[Proposal]:
    """The call's proposals without a decision, by reference (the phase control refuses
    ``decided`` while any is left)."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id, ~Proposal.decision.has())
            .order_by(Proposal.reference)
        )
    )


@dataclass(frozen=True)
class DecisionEntry:
    proposal: Proposal
    outcome: DecisionOutcome
    rationale: str = ""


@dataclass(frozen=True)
class DecisionRow:
    """A proposal on the decisions page: its ranking result, the suggestion and the decision."""

    proposal: Proposal
    result: ProposalResult
    suggested: DecisionOutcome | None
    decision: Decision | None


def decision_rows(call: Call, ranking: Ranking | None = None) -> list[DecisionRow]:
    """The call's proposals in ranking order with their suggested and recorded outcome."""
    ranking = ranking or rank_call(call)
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(selectinload(Proposal.decision).selectinload(Decision.decided_by))
        )
    }
    return [
        DecisionRow(
            proposal=proposals[row.reference],
            result=row,
            suggested=prefill_outcome(row.status),
            decision=proposals[row.reference].decision,
        )
        for row in ranking.rows
    ]


def record_decisions(
    call: Call, entries: list[DecisionEntry], actor: User, ranking: Ranking | None = None
) -> list[Decision]:
    """Record or change the decisions of ``entries``, all of them or none.

    An entry that repeats the recorded decision changes nothing and is not audited again.

    :raises DecisionsClosed: the call is not in the ranking phase.
    :raises DecisionsInvalid: an entry departs from the ranking without a rationale, or belongs
        to another call; ``errors`` says which.
    """
    if call.phase is not Phase.RANKING:
        raise DecisionsClosed(
            _l("Decisions are recorded only while the call is in the ranking phase.")
        )
    ranking = ranking or rank_call(call)
    errors: dict[int, str] = {}
    for entry in entries:
        if entry.proposal.call_id != call.id:
            errors[entry.proposal.id] = str(_l("This proposal belongs to another call."))
            continue
        status = ranking.row(entry.proposal.reference).status
        if needs_rationale(status, entry.outcome) and not entry.rationale.strip():
            errors[entry.proposal.id] = str(
                _l("Give a rationale: this outcome departs from the ranking.")
                if prefill_outcome(status) is not None
                else _l("Give a rationale: the evaluation of this proposal is incomplete.")
            )
    if errors:
        raise DecisionsInvalid(errors)
    written = []
    for entry in entries:
        status = ranking.row(entry.proposal.reference).status
        rationale = entry.rationale.strip()
        decision = entry.proposal.decision
        if decision is not None and (decision.outcome, decision.rationale) == (
            entry.outcome,
            rationale,
        ):
            continue
        previous = decision.outcome.value if decision is not None else None
        if decision is None:
            decision = Decision(proposal=entry.proposal, outcome=entry.outcome)
            db.session.add(decision)
        decision.outcome = entry.outcome
        decision.rationale = rationale
        decision.decided_by_id = actor.id
        decision.decided_at = utcnow()
        db.session.flush()
        record(
            "decision.record",
            decision,
            call_id=call.id,
            actor_id=actor.id,
            proposal=entry.proposal.reference,
            outcome=entry.outcome.value,
            previous=previous,
            status=status.value,
            suggested=(s.value if (s := prefill_outcome(status)) else None),
            rationale=rationale,
        )
        written.append(decision)
    return written


def record_decision(
    proposal: Proposal,
    outcome: DecisionOutcome,
    rationale: str,
    actor: User,
    ranking: Ranking | None = None,
) -> Decision | None:
    """Record one proposal's decision (see :func:`record_decisions`).

    :raises DecisionsClosed: the call is not in the ranking phase.
    :raises DecisionsInvalid: a departure from the ranking without a rationale.
    """
    written = record_decisions(
        proposal.call, [DecisionEntry(proposal, outcome, rationale)], actor, ranking
    )
    return written[0] if written else proposal.decision


def close_call(call: Call, actor: User) -> None:
    """Move the call to ``decided`` (everything becomes read-only), recording who and when.

    :raises PhaseError: the move is refused (wrong phase, decisions missing, a decision that now
        departs from the ranking without a rationale); nothing changed.
    """
    from .phases import PhaseError, move_phase

    if call.phase is Phase.RANKING:
        # The ranking may have moved since a decision was recorded (a corrected funding amount
        # shifts the funding line): every departure must still be explained when it is signed.
        unexplained = unexplained_departures(call)
        if unexplained:
            raise PhaseError(
                str(
                    _l(
                        "These decisions now depart from the ranking without a rationale: "
                        "%(list)s. Give a rationale or change the decision first.",
                        list=", ".join(p.reference for p in unexplained),
                    )
                )
            )
    move_phase(call, Phase.DECIDED)
    # move_phase knows the signed-in user only in a request; the actor is explicit here.
    call.decided_by_id = actor.id
    call.decided_at = call.decided_at or utcnow()
    record(
        "call.decide",
        call,
        call_id=call.id,
        actor_id=actor.id,
        decisions={
            outcome.value: count for outcome, count in _outcome_counts(call).items() if count
        },
    )
    db.session.flush()


def unexplained_departures(call: Call, ranking: Ranking | None = None) -> list[Proposal]:
    """Proposals whose recorded decision departs from the current ranking without a rationale."""
    ranking = ranking or rank_call(call)
    return [
        row.proposal
        for row in decision_rows(call, ranking)
        if row.decision is not None
        and needs_rationale(row.result.status, row.decision.outcome)
        and not row.decision.rationale.strip()
    ]


def _outcome_counts(call: Call) -> dict[DecisionOutcome, int]:
    outcomes = db.session.scalars(
        select(Decision.outcome).join(Decision.proposal).where(Proposal.call_id == call.id)
    ).all()
    return {o: outcomes.count(o) for o in DecisionOutcome}
