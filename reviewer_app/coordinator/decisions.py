"""Decisions: one outcome per proposal in the ranking phase, then the call is closed as decided.

The outcome is prefilled from the ranking status (or, once the call's partial lottery is
drawn, from the draw, with the draw as the rationale of a departure); departing from the
ranking needs a written rationale, so that every decision a coordinator signs can be explained
later. Services add and flush; the
caller commits once. Every decision is audited.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.events import CallDecided, DecisionRecorded
from ..display import display_money
from ..errors import DomainError
from ..extensions import db
from ..locks import lock_call
from ..models import Call, Decision, DecisionOutcome, Phase, Proposal, User, utcnow
from ..models.audit import record
from ..models.types import Cents
from ..ranking import rank_call
from ..scoring.engine import ProposalResult, Ranking, Status

if TYPE_CHECKING:  # the analytics (numpy) are imported only for a call with a drawn lottery
    from ..analytics.lottery import LotteryDraw

# What the ranking suggests. An incomplete evaluation suggests nothing: the coordinator must
# choose, and explain, rather than have a missing review turn silently into a rejection.
SUGGESTED: dict[Status, DecisionOutcome | None] = {
    Status.MAIN: DecisionOutcome.FUNDED,
    Status.RESERVE: DecisionOutcome.RESERVE,
    Status.BELOW_THRESHOLD: DecisionOutcome.REJECTED,
    Status.INCOMPLETE: None,
}


class DecisionError(DomainError):
    """A decision the rules refuse; ``str()`` is a message for the user."""


class DecisionsClosed(DecisionError):
    """Decisions are recorded only in the ranking phase."""


class DecisionsInvalid(DecisionError):
    """Some entries are refused; ``errors`` maps proposal id -> field (``outcome``,
    ``amount_eur`` or ``rationale``) -> message. Nothing was saved."""

    def __init__(self, errors: dict[int, dict[str, str]]) -> None:
        self.errors = errors
        super().__init__(_l("Some decisions need correcting: nothing was saved."))


class DecisionsOverBudget(DecisionError):
    """The funded decisions would cost more than the call's budget. Nothing was saved."""

    def __init__(self, funding: FundingSummary) -> None:
        self.funding = funding
        super().__init__(over_budget_message(funding))


def format_eur(amount: Decimal) -> str:
    """An amount for a message, grouped in the user's language: 3,500,000.00 or 3.500.000,00."""
    return display_money(amount)


def over_budget_message(funding: FundingSummary) -> str:
    return str(
        _(
            "The funded decisions total %(total)s EUR, more than the call's budget of "
            "%(budget)s EUR. Lower a granted amount or change a decision.",
            total=format_eur(funding.total),
            budget=format_eur(funding.budget or Decimal(0)),
        )
    )


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
    amount_eur: Decimal | None = None  # the granted amount; None: the requested funding


@dataclass(frozen=True)
class FundingSummary:
    """What the funded decisions cost against the call's budget. A funded decision costs its
    granted amount, or the requested funding when no amount was granted."""

    total: Decimal
    budget: Decimal | None
    funded: int  # how many decisions are "funded"

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.total > self.budget

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.total


def granted_amount(proposal: Proposal, amount_eur: Decimal | None) -> Decimal | None:
    """What funding ``proposal`` costs: the granted amount, else the requested funding."""
    return amount_eur if amount_eur is not None else proposal.requested_funding_eur


def funding_summary(call: Call, entries: Iterable[DecisionEntry] = ()) -> FundingSummary:
    """The funded total of the call's decisions, ``entries`` taking the place of the recorded
    decisions of their proposals (to check a change before it is saved). The recorded ones are
    summed in SQL: the page of a 10,000-proposal call must not load every proposal."""
    # One entry per proposal of this call (the last one given counts, as in a form).
    planned = {e.proposal.id: e for e in entries if e.proposal.call_id == call.id}
    replaced = list(planned)
    cost = func.coalesce(Decision.amount_eur, Proposal.requested_funding_eur)
    query = (
        select(func.count(), func.sum(cost, type_=Cents()))
        .select_from(Decision)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(Proposal.call_id == call.id, Decision.outcome == DecisionOutcome.FUNDED)
    )
    if replaced:
        query = query.where(Proposal.id.not_in(replaced))
    funded, total = db.session.execute(query).one()
    total = total if total is not None else Decimal(0)
    for entry in planned.values():
        if entry.outcome is DecisionOutcome.FUNDED:
            funded += 1
            total += granted_amount(entry.proposal, entry.amount_eur) or Decimal(0)
    return FundingSummary(total=total, budget=call.budget_eur, funded=int(funded))


def check_decisions_open(call: Call) -> None:
    """:raises DecisionsClosed: the call is not in the ranking phase (as committed: the call
    stays locked until the caller's transaction ends, so no phase move slips in between)."""
    if lock_call(call) is not Phase.RANKING:
        raise DecisionsClosed(
            _l("Decisions are recorded only while the call is in the ranking phase.")
        )


def _amount_problem(call: Call, entry: DecisionEntry) -> str | None:
    """Why the entry's granted amount is refused, if it is. Grants may be cut, never raised."""
    requested = entry.proposal.requested_funding_eur
    amount = entry.amount_eur
    problem = None
    if amount is None:
        if (
            entry.outcome is DecisionOutcome.FUNDED
            and requested is None
            and call.budget_eur is not None
        ):
            problem = _(
                "Give the granted amount: the proposal requests no amount and the call has a "
                "budget."
            )
    elif entry.outcome is not DecisionOutcome.FUNDED:
        problem = _("Only a funded decision has a granted amount.")
    elif amount <= 0:
        problem = _("The granted amount must be more than zero.")
    elif requested is not None and amount > requested:
        problem = _(
            "The granted amount is more than the requested funding of %(requested)s EUR.",
            requested=format_eur(requested),
        )
    return None if problem is None else str(problem)


def decision_problems(
    call: Call, entries: Iterable[DecisionEntry], ranking: Ranking | None = None
) -> dict[int, dict[str, str]]:
    """What the rules refuse in ``entries``: proposal id -> field -> message (empty: none).

    The rules of every entry on its own; :func:`record_decisions` adds the budget of them all.
    """
    ranking = ranking or rank_call(call)
    errors: dict[int, dict[str, str]] = {}
    for entry in entries:
        problems: dict[str, str] = {}
        if entry.proposal.call_id != call.id:
            problems["outcome"] = str(_l("This proposal belongs to another call."))
        else:
            status = ranking.row(entry.proposal.reference).status
            if needs_rationale(status, entry.outcome) and not entry.rationale.strip():
                problems["rationale"] = str(
                    _l("Give a rationale: this outcome departs from the ranking.")
                    if prefill_outcome(status) is not None
                    else _l("Give a rationale: the evaluation of this proposal is incomplete.")
                )
            amount_problem = _amount_problem(call, entry)
            if amount_problem:
                problems["amount_eur"] = amount_problem
        if problems:
            errors[entry.proposal.id] = problems
    return errors


@dataclass(frozen=True)
class Suggestion:
    """What the decisions page proposes for a proposal that has no decision yet."""

    outcome: DecisionOutcome | None
    rationale: str = ""  # given when the outcome departs from the ranking


def suggestions(
    call: Call, ranking: Ranking, references: Collection[str] | None = None
) -> dict[str, Suggestion]:
    """Each proposal's suggested outcome (of ``references`` only, if given: the page's rows),
    by reference: the ranking's, or, once the call's partial lottery is drawn, the draw's for
    every proposal that passes (funded if the draw funds it, otherwise not on the main list),
    with the draw as the rationale where it departs from the ranking."""
    drawn = None
    if call.lottery_result is not None:
        from ..call_analytics import published_draw

        drawn = published_draw(call)
    funded = set(drawn.funded) if drawn is not None else set()
    out = {}
    for row in ranking.rows:
        if references is not None and row.reference not in references:
            continue
        ranked = prefill_outcome(row.status)
        if drawn is None or not row.passes:
            out[row.reference] = Suggestion(ranked)
            continue
        outcome: DecisionOutcome | None
        if row.reference in funded:
            outcome = DecisionOutcome.FUNDED
        else:
            outcome = DecisionOutcome.RESERVE if ranked is DecisionOutcome.FUNDED else ranked
        rationale = "" if outcome is ranked else _lottery_reason(drawn, row.reference)
        out[row.reference] = Suggestion(outcome, rationale)
    return out


def _lottery_reason(drawn: LotteryDraw, reference: str) -> str:
    low, high = round(drawn.rule.low * 100), round(drawn.rule.high * 100)
    if reference in drawn.order:
        n = drawn.order.index(reference) + 1
        if reference in drawn.funded:
            return _(
                "Funded by the partial lottery drawn with seed %(seed)s: drawn %(n)s. among "
                "the proposals with a funded probability from %(low)s %% to %(high)s %%.",
                seed=drawn.seed, n=n, low=low, high=high,
            )  # fmt: skip
        return _(
            "Not funded by the partial lottery drawn with seed %(seed)s: drawn %(n)s., after "
            "the budget was spent.",
            seed=drawn.seed, n=n,
        )  # fmt: skip
    if reference in drawn.sure:
        if reference in drawn.funded:
            return _(
                "Funded under the partial lottery drawn with seed %(seed)s: its funded "
                "probability is above %(high)s %%, so it is funded before the draw.",
                seed=drawn.seed, high=high,
            )  # fmt: skip
        return _(
            "Not funded under the partial lottery drawn with seed %(seed)s: it no longer fits "
            "the budget.",
            seed=drawn.seed,
        )  # fmt: skip
    return _(
        "Not funded under the partial lottery drawn with seed %(seed)s: its funded probability "
        "is below %(low)s %%.",
        seed=drawn.seed, low=low,
    )  # fmt: skip


@dataclass(frozen=True)
class DecisionRow:
    """A proposal on the decisions page: its ranking result, the suggestion and the decision."""

    proposal: Proposal
    result: ProposalResult
    suggested: DecisionOutcome | None
    decision: Decision | None
    suggested_rationale: str = ""


def decision_rows(
    call: Call, ranking: Ranking | None = None, references: Collection[str] | None = None
) -> list[DecisionRow]:
    """The call's proposals (or only ``references``) in ranking order with their suggested and
    recorded outcome (``suggestions``)."""
    ranking = ranking or rank_call(call)
    statement = select(Proposal).where(Proposal.call_id == call.id)
    if references is not None:
        statement = statement.where(Proposal.reference.in_(list(references)))
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            statement.options(selectinload(Proposal.decision).selectinload(Decision.decided_by))
        )
    }
    advice = suggestions(call, ranking, proposals.keys())
    return [
        DecisionRow(
            proposal=proposals[row.reference],
            result=row,
            suggested=advice[row.reference].outcome,
            decision=proposals[row.reference].decision,
            suggested_rationale=advice[row.reference].rationale,
        )
        for row in ranking.rows
        if row.reference in proposals
    ]


@dataclass(frozen=True)
class DecisionState:
    """Where the call's decisions stand, over every proposal (not only a page of them)."""

    total: int
    missing: list[str]  # references without a decision, in ranking order
    unexplained: list[str]  # decisions that depart from the ranking without a rationale

    @property
    def done(self) -> int:
        return self.total - len(self.missing)


def decision_state(call: Call, ranking: Ranking) -> DecisionState:
    """One light query (reference, outcome, whether a rationale is given), whatever the size."""
    recorded = {
        reference: (outcome, bool((rationale or "").strip()))
        for reference, outcome, rationale in db.session.execute(
            select(Proposal.reference, Decision.outcome, Decision.rationale)
            .join(Decision, Decision.proposal_id == Proposal.id)
            .where(Proposal.call_id == call.id)
        ).tuples()
    }
    missing, unexplained = [], []
    for row in ranking.rows:
        decided = recorded.get(row.reference)
        if decided is None:
            missing.append(row.reference)
        elif needs_rationale(row.status, decided[0]) and not decided[1]:
            unexplained.append(row.reference)
    return DecisionState(len(ranking.rows), missing, unexplained)


def record_decisions(
    call: Call, entries: list[DecisionEntry], actor: User, ranking: Ranking | None = None
) -> list[Decision]:
    """Record or change the decisions of ``entries``, all of them or none.

    An entry that repeats the recorded decision changes nothing and is not audited again. The
    web page and ``reviewer-app decisions import`` both come here, so they refuse the same.

    :raises DecisionsClosed: the call is not in the ranking phase.
    :raises DecisionsInvalid: an entry departs from the ranking without a rationale, has a
        granted amount it cannot have, or belongs to another call; ``errors`` says which.
    :raises DecisionsOverBudget: the funded decisions would cost more than the budget.
    """
    check_decisions_open(call)
    ranking = ranking or rank_call(call)
    errors = decision_problems(call, entries, ranking)
    if errors:
        raise DecisionsInvalid(errors)
    funding = funding_summary(call, entries)
    if funding.over_budget:
        raise DecisionsOverBudget(funding)
    written = []
    for entry in entries:
        status = ranking.row(entry.proposal.reference).status
        rationale = entry.rationale.strip()
        decision = entry.proposal.decision
        if decision is not None and (
            decision.outcome,
            decision.rationale,
            decision.amount_eur,
        ) == (entry.outcome, rationale, entry.amount_eur):
            continue
        previous = decision.outcome.value if decision is not None else None
        if decision is None:
            decision = Decision(proposal=entry.proposal, outcome=entry.outcome)
            db.session.add(decision)
        decision.outcome = entry.outcome
        decision.rationale = rationale
        decision.amount_eur = entry.amount_eur
        decision.decided_by_id = actor.id
        decision.decided_at = utcnow()
        db.session.flush()
        record(
            DecisionRecorded(
                proposal=entry.proposal.reference,
                outcome=entry.outcome,
                previous=previous,
                status=status.value,
                suggested=(s.value if (s := prefill_outcome(status)) else None),
                rationale=rationale,
                amount_eur=None if entry.amount_eur is None else str(entry.amount_eur),
            ),
            decision,
            call_id=call.id,
            actor_id=actor.id,
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


def close_call(call: Call, actor: User, *, confirmed: bool = False) -> None:
    """Move the call to ``decided`` (everything becomes read-only), recording who and when.

    ``confirmed``: the actor saw the decisions, the funded total and the budget, and confirmed
    that the call closes for good.

    :raises PhaseError: the move is refused (wrong phase, decisions missing, a decision that now
        departs from the ranking without a rationale, funded decisions above the budget, not
        confirmed); nothing changed.
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
    move_phase(call, Phase.DECIDED, confirm_close=confirmed, actor=actor)
    funding = funding_summary(call)
    record(
        CallDecided(
            decisions={
                outcome.value: count for outcome, count in _outcome_counts(call).items() if count
            },
            funded_total_eur=str(funding.total),
            budget_eur=None if funding.budget is None else str(funding.budget),
        ),
        call,
        call_id=call.id,
        actor_id=actor.id,
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


NO_DECISION = "none"  # the closing page's filter: proposals without a decision yet


def references_with_outcome(call: Call, outcome: str) -> set[str] | None:
    """The references of the call's proposals whose decision has ``outcome`` (a
    DecisionOutcome value), or that have none (``NO_DECISION``); None, no filter, for anything
    else (an empty or stale value)."""
    if outcome == NO_DECISION:
        decided = select(Decision.proposal_id)
        statement = select(Proposal.reference).where(
            Proposal.call_id == call.id, Proposal.id.not_in(decided)
        )
    elif outcome in {o.value for o in DecisionOutcome}:
        statement = (
            select(Proposal.reference)
            .join(Decision, Decision.proposal_id == Proposal.id)
            .where(Proposal.call_id == call.id, Decision.outcome == DecisionOutcome(outcome))
        )
    else:
        return None
    return set(db.session.scalars(statement))


def outcome_counts(call: Call) -> dict[DecisionOutcome, int]:
    """How many of the call's decisions have each outcome (every outcome, zeros included)."""
    return _outcome_counts(call)


def _outcome_counts(call: Call) -> dict[DecisionOutcome, int]:
    outcomes = db.session.scalars(
        select(Decision.outcome).join(Decision.proposal).where(Proposal.call_id == call.id)
    ).all()
    return {o: outcomes.count(o) for o in DecisionOutcome}
