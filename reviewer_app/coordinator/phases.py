"""The phases of a call and the rules for moving between them.

A call goes ``setup -> evaluation -> consensus -> ranking -> decided``, one step at a time and
never back: every later step rests on what the earlier ones froze (individual reviews freeze at
``consensus``, everything at ``decided``). The web views and ``reviewer-app call phase`` both
call :func:`move_phase`, so they refuse the same moves with the same reasons.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.events import PhaseMoved, ReviewReopened
from ..errors import DomainError
from ..extensions import db
from ..labels import outcome_label, phase_label
from ..locks import lock_call
from ..models import (
    PHASE_ORDER,
    Assignment,
    Call,
    ConsensusReport,
    ConsensusStatus,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    SavedThrough,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.versions import keep_version


class PhaseError(DomainError):
    """The move makes no sense now; the message says why, for the coordinator to act on.

    ``confirm`` names the confirmation that lets the move go ahead (``open_reviews``,
    ``unfinished_consensus`` or ``close``); None when the move is refused whatever is confirmed.
    """

    def __init__(self, message: str, *, confirm: str | None = None) -> None:
        super().__init__(message)
        self.confirm = confirm


def next_phase(phase: Phase) -> Phase | None:
    index = PHASE_ORDER.index(phase)
    return PHASE_ORDER[index + 1] if index + 1 < len(PHASE_ORDER) else None


def open_review_count(call: Call) -> int:
    """Assignments still owing a submitted review (an expert who declared a conflict owes none)."""
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call.id)
        .options(selectinload(Assignment.declaration), selectinload(Assignment.review))
    ).all()
    return sum(
        1
        for a in assignments
        if not a.has_conflict and (a.review is None or not a.review.is_submitted)
    )


def unfinished_consensus(call: Call) -> list[Proposal]:
    """Proposals without a final consensus report, by reference: the ranking scores them on
    their individual reviews, and nobody can finish their consensus after ``consensus``."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(
                Proposal.call_id == call.id,
                ~Proposal.consensus.has(ConsensusReport.status == ConsensusStatus.FINAL),
            )
            .order_by(Proposal.reference)
        )
    )


def understaffed_proposals(call: Call) -> list[tuple[Proposal, int]]:
    """Proposals with fewer assigned, non-conflicted experts than ``rules.min_reviews``."""
    need = call.scheme.rules.min_reviews
    proposals = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id)
        .order_by(Proposal.reference)
        .options(selectinload(Proposal.assignments).selectinload(Assignment.declaration))
    ).all()
    short = []
    for proposal in proposals:
        have = sum(1 for a in proposal.assignments if not a.has_conflict)
        if have < need:
            short.append((proposal, have))
    return short


LISTED = 20  # references named in a message; the rest are counted


def listing(references: list[str], total: int) -> str:
    """The first references and how many more: a message about a 10,000-proposal call stays
    readable (and the page that shows it small)."""
    shown = ", ".join(references[:LISTED])
    if total > LISTED:
        return shown + " " + _("and %(num)d more", num=total - LISTED)
    return shown


def _missing_decisions(call: Call) -> tuple[list[str], int]:
    """The first references without a decision, and how many there are."""
    undecided = select(Proposal.reference).where(
        Proposal.call_id == call.id, ~Proposal.decision.has()
    )
    total = db.session.scalar(select(func.count()).select_from(undecided.subquery())) or 0
    first = list(db.session.scalars(undecided.order_by(Proposal.reference).limit(LISTED)))
    return first, total


def _unexplained_departures(call: Call) -> list[Proposal]:
    # The ranking may have moved since a decision was recorded; whoever closes the call (web
    # page or command line) must not sign a departure from it that nobody explained.
    from .decisions import unexplained_departures  # decisions imports this module

    return unexplained_departures(call)


def check_move(
    call: Call,
    target: Phase,
    *,
    confirm_open_reviews: bool = False,
    confirm_unfinished_consensus: bool = False,
    confirm_close: bool = False,
) -> None:
    """Refuse a move that makes no sense, without changing anything.

    Three moves need a confirmation that the coordinator saw what they leave behind: closing the
    evaluation with reviews still open, moving to ranking with consensus reports that are not
    final, and closing the call (``decided`` cannot be undone).

    :raises PhaseError: with the reason; ``confirm`` says which confirmation would let it pass.
    """
    expected = next_phase(call.phase)
    if target == call.phase:
        raise PhaseError(
            _("The call is already in the phase “%(phase)s”.", phase=phase_label(target))
        )
    if expected is None:
        raise PhaseError(_("The call is decided; its phase cannot change any more."))
    if target != expected:
        raise PhaseError(
            _(
                "A call moves one step at a time: from “%(current)s” the next phase is "
                "“%(next)s”, not “%(target)s”.",
                current=phase_label(call.phase),
                next=phase_label(expected),
                target=phase_label(target),
            )
        )
    proposal_count = db.session.scalar(
        select(func.count(Proposal.id)).where(Proposal.call_id == call.id)
    )
    if not proposal_count:
        raise PhaseError(_("The call has no proposals yet: add or import proposals first."))
    if target is Phase.EVALUATION:
        short = understaffed_proposals(call)
        if short:
            need = call.scheme.rules.min_reviews
            listed = listing([f"{p.reference} ({have}/{need})" for p, have in short], len(short))
            raise PhaseError(
                _(
                    "Proposals with fewer than %(need)d assigned experts without a conflict "
                    "(assigned/needed): %(list)s. Assign more experts first.",
                    need=need,
                    list=listed,
                )
            )
    if target is Phase.CONSENSUS and not confirm_open_reviews:
        still_open = open_review_count(call)
        if still_open:
            raise PhaseError(
                _(
                    "Reviews still open: %(num)d. Confirm that you want to close the "
                    "evaluation anyway: open reviews will not count.",
                    num=still_open,
                ),
                confirm="open_reviews",
            )
    if target is Phase.RANKING and not confirm_unfinished_consensus:
        unfinished = unfinished_consensus(call)
        if unfinished:
            raise PhaseError(
                _(
                    "Consensus reports not final: %(list)s (%(final)d of %(total)d final). "
                    "These proposals are ranked on their individual reviews. Confirm that you "
                    "want to move to ranking anyway.",
                    list=listing([p.reference for p in unfinished], len(unfinished)),
                    final=proposal_count - len(unfinished),
                    total=proposal_count,
                ),
                confirm="unfinished_consensus",
            )
    if target is Phase.DECIDED:
        if call.panel_review and not call.panel_report.strip():
            raise PhaseError(
                _("The call has a panel review: write the panel's report before closing it.")
            )
        missing, missing_count = _missing_decisions(call)
        if missing_count:
            raise PhaseError(
                _(
                    "Proposals without a decision: %(list)s.",
                    list=listing(missing, missing_count),
                )
            )
        departures = _unexplained_departures(call)
        if departures:
            raise PhaseError(
                _(
                    "These decisions now depart from the ranking without a rationale: "
                    "%(list)s. Give a rationale or change the decision first.",
                    list=listing([p.reference for p in departures], len(departures)),
                )
            )
        from .decisions import format_eur, funding_summary, outcome_counts, over_budget_message

        funding = funding_summary(call)
        if funding.over_budget:
            raise PhaseError(over_budget_message(funding))
        if not confirm_close:
            counts = ", ".join(
                f"{outcome_label(outcome)} {count}"
                for outcome, count in outcome_counts(call).items()
                if count
            )
            raise PhaseError(
                _(
                    "Closing the call cannot be undone. Decisions: %(counts)s; funded total "
                    "%(total)s EUR, budget %(budget)s. Confirm that you want to close the call.",
                    counts=counts,
                    total=format_eur(funding.total),
                    budget=(
                        f"{format_eur(funding.budget)} EUR"
                        if funding.budget is not None
                        else _("none")
                    ),
                ),
                confirm="close",
            )


def move_phase(
    call: Call,
    target: Phase,
    *,
    confirm_open_reviews: bool = False,
    confirm_unfinished_consensus: bool = False,
    confirm_close: bool = False,
    actor: User | None = None,
) -> None:
    """Move ``call`` one step forward to ``target`` and record the move in the audit log.
    ``actor`` is who moves it (None: the command line, which acts as the system).

    :raises PhaseError: the move is refused; nothing is changed.
    """
    # Writes that depend on the phase (a submit in flight) finish before, or wait and then see
    # the new phase; what is counted below is what is committed.
    db.session.flush()
    lock_call(call)
    db.session.expire_all()
    check_move(
        call,
        target,
        confirm_open_reviews=confirm_open_reviews,
        confirm_unfinished_consensus=confirm_unfinished_consensus,
        confirm_close=confirm_close,
    )
    source = call.phase
    open_reviews = open_review_count(call) if target is Phase.CONSENSUS else None
    unfinished = len(unfinished_consensus(call)) if target is Phase.RANKING else None
    call.phase = target
    if target is Phase.DECIDED:
        call.decided_at = utcnow()
        call.decided_by_id = actor.id if actor is not None else None
    record(
        PhaseMoved(
            from_phase=source,
            to_phase=target,
            open_reviews=open_reviews,
            unfinished_consensus=unfinished,
        ),
        call,
        call_id=call.id,
        actor_id=actor.id if actor is not None else None,
    )
    db.session.flush()


class ReopenError(DomainError):
    """The review cannot be reopened; the message says why."""


def reopen_review(review: Review, reason: str, *, actor: User | None = None) -> None:
    """Turn a submitted review back into a draft so its expert can correct it.

    Only during ``evaluation``: afterwards the individual reviews are frozen. The draft is kept
    as a version by ``actor`` (None: the command line).

    :raises ReopenError: wrong phase, not submitted, or no reason given.
    """
    call = review.assignment.proposal.call
    if call.phase is not Phase.EVALUATION:
        raise ReopenError(_("Reviews can be reopened only while the call is in evaluation."))
    if not review.is_submitted:
        raise ReopenError(_("This review is not submitted; there is nothing to reopen."))
    reason = reason.strip()
    if not reason:
        raise ReopenError(_("Give a reason for reopening the review."))
    review.status = ReviewStatus.DRAFT
    review.submitted_at = None
    review.updated_at = utcnow()
    db.session.flush()
    kept = keep_version(
        review, SavedThrough.REOPEN, saved_by_id=actor.id if actor is not None else None
    )
    record(
        ReviewReopened(
            proposal=review.assignment.proposal.reference,
            expert_id=review.assignment.expert_id,
            reason=reason,
            version=kept.number,
        ),
        review,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    db.session.flush()
