"""The consensus step: who may do what on a proposal's consensus report, the rapporteur's draft
(prefilled from the reviews), the experts' approvals and minority views. Services add and flush;
the view commits once. Every write is audited.

Making a report final, and reopening it, is in ``finalising``; the lists of the call's
and an expert's consensus work in ``lists``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..audit.events import (
    ConsensusApproved,
    ConsensusCommented,
    ConsensusSaved,
    MinorityViewRecorded,
)
from ..errors import DomainError
from ..extensions import db
from ..locks import lock_call
from ..models import (
    Assignment,
    Call,
    ConsensusApproval,
    ConsensusMinorityView,
    ConsensusReport,
    Phase,
    Proposal,
    Review,
    Role,
    SavedThrough,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.reviews import new_consensus_score, write_scores
from ..models.versions import keep_version
from ..pseudonyms import panel_letters
from ..scoring.consensus import ConsensusEffect, consensus_effect
from ..scoring.engine import EvaluationIn, ProposalIn, ReviewIn, evaluate
from ..scoring.scheme import Scale


class ConsensusError(DomainError):
    """A consensus write that the rules refuse; ``str()`` is a message for the user."""


class ConsensusClosed(ConsensusError):
    """The call is not in the consensus phase, or the report is final."""


class StaleReport(ConsensusError):
    """Someone saved the report since this form was loaded."""


class NotAllowed(ConsensusError):
    """The user's part in this proposal does not allow this write."""


class Part(StrEnum):
    """What a user may do with a proposal's consensus."""

    COORDINATOR = "coordinator"  # edit, finalise, reopen
    OBSERVER = "observer"  # read
    RAPPORTEUR = "rapporteur"  # draft
    EXPERT = "expert"  # read, approve or comment


class Refusal(StrEnum):
    """Why an assigned expert may not see the other reviews (yet)."""

    PHASE = "phase"
    OWN_REVIEW = "own_review"


@dataclass(frozen=True)
class Access:
    part: Part | None
    refusal: Refusal | None = None
    assignment: Assignment | None = None

    @property
    def can_read(self) -> bool:
        return self.part is not None and self.refusal is None


def load_proposal(proposal_id: int) -> Proposal | None:
    """The proposal with everything the consensus page shows, in a fixed number of queries."""
    return db.session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.call).selectinload(Call.criteria),
            selectinload(Proposal.assignments).joinedload(Assignment.expert),
            selectinload(Proposal.assignments).joinedload(Assignment.declaration),
            selectinload(Proposal.assignments)
            .joinedload(Assignment.review)
            .selectinload(Review.scores),
            selectinload(Proposal.consensus).selectinload(ConsensusReport.scores),
            selectinload(Proposal.consensus)
            .selectinload(ConsensusReport.approvals)
            .joinedload(ConsensusApproval.expert),
            selectinload(Proposal.consensus).selectinload(ConsensusReport.minority_views),
        )
    )


def access_for(proposal: Proposal, user: User) -> Access:
    """The user's part in the proposal's consensus; ``part=None`` means the page does not exist
    for them (an expert not assigned, or conflicted)."""
    if user.role is Role.COORDINATOR:
        return Access(Part.COORDINATOR)
    if user.role is Role.OBSERVER:
        return Access(Part.OBSERVER)
    assignment = next((a for a in proposal.assignments if a.expert_id == user.id), None)
    if assignment is None or assignment.has_conflict:
        return Access(None)
    part = Part.RAPPORTEUR if assignment.is_rapporteur else Part.EXPERT
    if proposal.call.phase is not Phase.CONSENSUS:
        return Access(part, Refusal.PHASE, assignment)
    if assignment.review is None or not assignment.review.is_submitted:
        return Access(part, Refusal.OWN_REVIEW, assignment)
    return Access(part, None, assignment)


def panel(proposal: Proposal) -> list[Assignment]:
    """The experts whose judgement counts: assigned and not conflicted, in assignment order."""
    return sorted((a for a in proposal.assignments if not a.has_conflict), key=lambda a: a.id)


def expert_labels(
    proposal: Proposal, anonymous: Callable[[str], str] = "Expert {}".format
) -> dict[int, str]:
    """User id -> how the expert is shown: ``anonymous(letter)`` ("Expert A", the letter from
    ``pseudonyms.panel_letters``, as in every export and report) or the name, as the call says."""
    if not proposal.call.anonymise_experts:
        return {a.expert_id: a.expert.name for a in panel(proposal)}
    letters = panel_letters(
        (a.id, a.expert_id, a.conflict_before_opening) for a in proposal.assignments
    )
    return {expert_id: anonymous(mark) for expert_id, mark in letters.items()}


def submitted_reviews(proposal: Proposal) -> list[Assignment]:
    return [a for a in panel(proposal) if a.review is not None and a.review.is_submitted]


@dataclass(frozen=True)
class CriterionDraft:
    key: str
    value: Decimal | None
    comment: str
    aggregate: Fraction | None = None
    disagreement: bool = False  # the individual scores spread at least rules.disagreement_spread


@dataclass(frozen=True)
class Prefill:
    criteria: tuple[CriterionDraft, ...] = field(default_factory=tuple)

    def get(self, key: str) -> CriterionDraft:
        return next(c for c in self.criteria if c.key == key)


def reviews_in(proposal: Proposal) -> tuple[ReviewIn, ...]:
    """The proposal's submitted reviews by its panel, as the scoring engine takes them."""
    keys = {c.id: c.key for c in proposal.call.criteria}
    return tuple(
        ReviewIn(
            proposal=proposal.reference,
            expert=str(a.expert_id),
            scores=tuple(
                (keys[s.criterion_id], s.value) for s in review.scores if s.value is not None
            ),
        )
        for a in submitted_reviews(proposal)
        if (review := a.review) is not None
    )


def prefill(proposal: Proposal) -> Prefill:
    """The draft a rapporteur starts from: per criterion a suggested score, the engine's
    aggregate of the submitted reviews rounded to the scale, and an empty comment. The
    consensus text is written for the applicant; the experts' comments stay beside it on the
    page, as reference, and are never copied into it."""
    scheme = proposal.call.scheme
    result = evaluate(
        EvaluationIn(
            scheme=scheme,
            proposals=(ProposalIn(reference=proposal.reference, title=proposal.title),),
            reviews=reviews_in(proposal),
        )
    ).rows[0]
    return Prefill(
        tuple(
            CriterionDraft(
                key=c.key,
                value=None if c.score is None else round_to_scale(c.score, scheme.scale),
                comment="",
                aggregate=c.score,
                disagreement=c.disagreement,
            )
            for c in result.criteria
        )
    )


def effect_of(proposal: Proposal, values: Mapping[str, Decimal | None]) -> ConsensusEffect:
    """What the consensus scores ``values`` (criterion key -> score; None: not chosen) do to
    the proposal against its reviews' aggregate: thresholds met, totals, crossings."""
    return consensus_effect(proposal.call.scheme, reviews_in(proposal), values)


def scores_of(report: ConsensusReport, proposal: Proposal) -> dict[str, Decimal | None]:
    keys = {c.id: c.key for c in proposal.call.criteria}
    return {keys[s.criterion_id]: s.value for s in report.scores if s.criterion_id in keys}


def round_to_scale(value: Fraction, scale: Scale) -> Decimal:
    """The scale value nearest to ``value``, halves rounded up (3.25 on a half-point scale: 3.5)."""
    steps = (Fraction(value) - Fraction(scale.min)) / Fraction(scale.step)
    whole = (steps.numerator * 2 + steps.denominator) // (steps.denominator * 2)
    result = scale.min + scale.step * whole
    return min(max(result, scale.min), scale.max)


def report_values(report: ConsensusReport, proposal: Proposal) -> Prefill:
    by_criterion = {s.criterion_id: s for s in report.scores}
    return Prefill(
        tuple(
            CriterionDraft(
                key=c.key,
                value=by_criterion[c.id].value if c.id in by_criterion else None,
                comment=by_criterion[c.id].comment if c.id in by_criterion else "",
            )
            for c in proposal.call.criteria
        )
    )


def check_open(proposal: Proposal) -> None:
    if lock_call(proposal.call) is not Phase.CONSENSUS:
        raise ConsensusClosed(
            _l("The call is not in the consensus phase: the report is read-only.")
        )


def save_draft(
    proposal: Proposal,
    actor: User,
    values: dict[str, tuple[Decimal, str]],
    *,
    version: int | None,
    justification: str = "",
    overall_comment: str = "",
) -> ConsensusReport:
    """Write the consensus draft (created on the first save) from ``values``: criterion key ->
    (score, comment), the ``justification`` of a threshold crossed (a draft may leave it
    and the comments empty; finalising may not) and the ``overall_comment`` for the applicant. ``version`` is the report version the form
    was loaded with (None: there was no report yet).

    :raises ConsensusClosed: wrong phase, or the report is final.
    :raises NotAllowed: the actor is neither the rapporteur nor a coordinator.
    :raises StaleReport: the report changed since ``version``.
    """
    access = access_for(proposal, actor)
    if (
        access.part not in (Part.RAPPORTEUR, Part.COORDINATOR)
        or access.refusal is Refusal.OWN_REVIEW
    ):
        raise NotAllowed(_l("Only the rapporteur or a coordinator can edit the consensus report."))
    check_open(proposal)
    scale = proposal.call.scheme.scale
    criteria = proposal.call.criteria
    for criterion in criteria:
        if criterion.key not in values or values[criterion.key][0] is None:
            # The page always sends every criterion; an importer or script may not.
            raise ConsensusError(
                _l("%(criterion)s: a score is needed, even in a draft.", criterion=criterion.title)
            )
        value = values[criterion.key][0]
        if not scale.contains(value):
            raise ConsensusError(
                _l(
                    "%(criterion)s: %(value)s is not on the scale.",
                    criterion=criterion.title,
                    value=value,
                )
            )
    report = proposal.consensus
    if report is None:
        if version is not None:
            raise StaleReport(_l("The report was removed since you opened it."))
        report = ConsensusReport(proposal=proposal, rapporteur_id=_rapporteur_id(proposal))
        db.session.add(report)
    else:
        if report.is_final:
            raise ConsensusClosed(_l("The report is final: a coordinator must reopen it first."))
        if version != report.version:
            raise StaleReport(
                _l(
                    "Someone else saved this report while you were editing it. "
                    "Your changes were not saved; the current version is shown."
                )
            )
    write_scores(report.scores, new_consensus_score, criteria, values)
    report.justification = justification.strip()
    report.overall_comment = overall_comment.strip()
    report.updated_at = utcnow()
    flush_report()
    kept = keep_version(report, SavedThrough.PAGE, saved_by_id=actor.id)
    record(
        ConsensusSaved(
            proposal=proposal.reference,
            version=kept.number,
            scores={k: None if v is None else str(v) for k, (v, _c) in values.items()},
            justification=report.justification,
            overall_comment=report.overall_comment,
        ),
        report,
        call_id=proposal.call_id,
        actor_id=actor.id,
    )
    return report


def _rapporteur_id(proposal: Proposal) -> int | None:
    return next((a.expert_id for a in proposal.assignments if a.is_rapporteur), None)


def flush_report() -> None:
    """Flush, turning a lost race (a concurrent save, or a concurrent first draft hitting the
    one-report-per-proposal constraint) into :class:`StaleReport`; the caller rolls back."""
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        raise StaleReport(
            _l("Someone else saved this report at the same moment. Your changes were not saved.")
        ) from None


def respond(proposal: Proposal, expert: User, *, approved: bool, comment: str) -> ConsensusApproval:
    """The expert approves the current draft, or comments on it (a comment is then required).

    :raises ConsensusClosed: wrong phase, no draft yet, or the report is final.
    :raises NotAllowed: the user is not one of the proposal's other experts.
    :raises ConsensusError: disapproval without a comment.
    """
    access = access_for(proposal, expert)
    if access.part is not Part.EXPERT or not access.can_read:
        raise NotAllowed(_l("Only the other experts of the proposal approve the consensus report."))
    check_open(proposal)
    report = proposal.consensus
    if report is None:
        raise ConsensusClosed(_l("There is no consensus draft to approve yet."))
    if report.is_final:
        raise ConsensusClosed(_l("The report is final."))
    comment = comment.strip()
    if not approved and not comment:
        raise ConsensusError(_l("Say what should change in the draft."))
    approval = next((a for a in report.approvals if a.expert_id == expert.id), None)
    if approval is None:
        approval = ConsensusApproval(expert=expert, approved=approved)
        report.approvals.append(approval)
    approval.approved = approved
    approval.comment = comment
    approval.at = utcnow()
    db.session.flush()
    kind = ConsensusApproved if approved else ConsensusCommented
    record(
        kind(proposal=proposal.reference, version=report.version, comment=comment),
        report,
        call_id=proposal.call_id,
        actor_id=expert.id,
    )
    return approval


def record_minority_view(
    proposal: Proposal, actor: User, expert_id: int, text: str
) -> ConsensusMinorityView | None:
    """Record (or change) the minority view of the panel expert ``expert_id`` on the consensus
    draft; an empty ``text`` withdraws it (the result is then None). An expert writes their own;
    the rapporteur or a coordinator may record one on behalf of any expert of the panel.

    :raises NotAllowed: an observer, an expert for someone else, or an expert who may not read
        the reviews yet.
    :raises ConsensusClosed: wrong phase, no draft yet, or the report is final.
    :raises ConsensusError: ``expert_id`` is not an expert of the panel with a submitted review.
    """
    access = access_for(proposal, actor)
    if access.part is Part.OBSERVER or access.part is None or not access.can_read:
        raise NotAllowed(_l("Only the experts of the proposal record a minority view."))
    if access.part is Part.EXPERT and expert_id != actor.id:
        raise NotAllowed(
            _l("Only the rapporteur or a coordinator records a view on behalf of another expert.")
        )
    check_open(proposal)
    report = proposal.consensus
    if report is None:
        raise ConsensusClosed(_l("There is no consensus draft yet."))
    if report.is_final:
        raise ConsensusClosed(_l("The report is final: a coordinator must reopen it first."))
    if expert_id not in {a.expert_id for a in submitted_reviews(proposal)}:
        raise ConsensusError(_l("Choose an expert of the panel who submitted a review."))
    text = text.strip()
    view = next((v for v in report.minority_views if v.expert_id == expert_id), None)
    if not text:
        if view is None:
            return None  # nothing to withdraw
        report.minority_views.remove(view)
    else:
        if view is None:
            view = ConsensusMinorityView(expert_id=expert_id, text=text)
            report.minority_views.append(view)
        view.text = text
        view.recorded_by_id = actor.id
        view.recorded_at = utcnow()
    db.session.flush()
    record(
        MinorityViewRecorded(
            proposal=proposal.reference, expert_id=expert_id, text=text, withdrawn=not text
        ),
        report,
        call_id=proposal.call_id,
        actor_id=actor.id,
    )
    return view if text else None


def approval_is_current(approval: ConsensusApproval, report: ConsensusReport) -> bool:
    """An approval speaks for the draft as it was then; a later save makes it out of date."""
    return approval.at >= report.updated_at
