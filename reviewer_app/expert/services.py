"""The expert's writes and queries: assignments, declarations, reviews.

Services add and flush; the view commits once. Access rules live here too, so that every page
and download of the expert area answers the same question the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, undefer
from sqlalchemy.orm.exc import StaleDataError

from ..audit.events import (
    ConflictDeclared,
    LateConflictDeclared,
    ReviewDraftSaved,
    ReviewSubmitted,
)
from ..errors import DomainError
from ..extensions import db
from ..locks import lock_call
from ..models import (
    Assignment,
    Call,
    ConflictDeclaration,
    Document,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    SavedThrough,
    Score,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.reviews import new_score, write_scores
from ..models.versions import keep_version
from ..scoring.comment_fields import compose, too_short


class AssignmentState(StrEnum):
    DECLARATION_NEEDED = "declaration_needed"
    CONFLICT = "conflict"
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"


class AlreadyDeclared(DomainError):
    """The assignment has a declaration already; it is made once."""


class ReviewLocked(DomainError):
    """The review cannot change: it is submitted, or the call is past its evaluation phase."""


class StaleReview(DomainError):
    """The review was saved since the page was loaded (another tab, autosave, a colleague)."""


class IncompleteReview(DomainError, ValueError):
    """A submitted review needs a value on the scale and a long enough comment per criterion."""


@dataclass(frozen=True)
class ScoreInput:
    """What the expert typed for one criterion; ``value`` None means not chosen yet."""

    value: Decimal | None
    comment: str  # composed of ``parts`` when the criterion has several comment boxes
    parts: Mapping[str, str] | None = None  # box key -> text


def state_of(assignment: Assignment) -> AssignmentState:
    if assignment.declaration is None:
        return AssignmentState.DECLARATION_NEEDED
    if assignment.declaration.has_conflict:
        return AssignmentState.CONFLICT
    if assignment.review is None:
        return AssignmentState.NOT_STARTED
    if assignment.review.is_submitted:
        return AssignmentState.SUBMITTED
    return AssignmentState.DRAFT


def list_assignments(expert: User) -> list[Assignment]:
    """The expert's assignments in calls past setup, with everything the list shows loaded."""
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Assignment.proposal)
            .join(Proposal.call)
            .where(Assignment.expert_id == expert.id, Call.phase != Phase.SETUP)
            .options(
                joinedload(Assignment.proposal).joinedload(Proposal.call),
                joinedload(Assignment.declaration),
                joinedload(Assignment.review),
            )
            .order_by(Call.deadline, Call.title, Call.id, Proposal.reference)
        ).unique()
    )


def find_assignment(expert: User, assignment_id: int) -> Assignment | None:
    """The expert's own assignment in a call past setup, else None (the caller answers 404).

    Loads what the proposal page needs: proposal, call, criteria, documents, declaration, scores.
    """
    return db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .join(Proposal.call)
        .where(
            Assignment.id == assignment_id,
            Assignment.expert_id == expert.id,
            Call.phase != Phase.SETUP,
        )
        .options(
            joinedload(Assignment.proposal).joinedload(Proposal.call).selectinload(Call.criteria),
            joinedload(Assignment.proposal).selectinload(Proposal.documents),
            joinedload(Assignment.declaration),
            joinedload(Assignment.review).selectinload(Review.scores),
        )
    ).first()


def find_document(assignment: Assignment, document_id: int) -> Document | None:
    """A document of the assignment's proposal, with its content loaded, else None."""
    return db.session.scalars(
        select(Document)
        .where(Document.id == document_id, Document.proposal_id == assignment.proposal_id)
        # Content is deferred everywhere else; a download is the one place that needs it.
        .options(undefer(Document.content))
    ).first()


def declare(
    assignment: Assignment, *, has_conflict: bool, reason: str, confidentiality_accepted: bool
) -> ConflictDeclaration:
    """Record the expert's conflict-of-interest and confidentiality declaration.

    A conflict hides the proposal from the expert for good, so it is never changed afterwards.

    :raises AlreadyDeclared: the assignment has a declaration.
    :raises ValueError: a conflict without a reason, or no conflict without confidentiality.
    """
    if assignment.declaration is not None:
        raise AlreadyDeclared(assignment.id)
    reason = reason.strip()
    if has_conflict and not reason:
        raise ValueError("a conflict needs a reason")
    if not has_conflict and not confidentiality_accepted:
        raise ValueError("confidentiality must be accepted")
    declaration = ConflictDeclaration(
        assignment=assignment,
        has_conflict=has_conflict,
        reason=reason if has_conflict else "",
        confidentiality_accepted=confidentiality_accepted,
    )
    db.session.add(declaration)
    db.session.flush()
    record(
        ConflictDeclared(
            proposal=assignment.proposal.reference,
            has_conflict=has_conflict,
            reason=declaration.reason,
            confidentiality_accepted=confidentiality_accepted,
        ),
        assignment,
        call_id=assignment.proposal.call_id,
        actor_id=assignment.expert_id,
    )
    return declaration


# A conflict found after opening is declared while the review can still matter to the call's
# outcome before it is ranked; from ranking on, the coordinator handles it.
LATE_CONFLICT_PHASES = (Phase.EVALUATION, Phase.CONSENSUS)


class LateConflictRefused(DomainError):
    """A conflict cannot be declared now (no declaration yet, a conflict already, or the call
    is past consensus); the message says which."""


def can_declare_late_conflict(assignment: Assignment) -> bool:
    declaration = assignment.declaration
    return (
        declaration is not None
        and not declaration.has_conflict
        and assignment.proposal.call.phase in LATE_CONFLICT_PHASES
    )


def declare_late_conflict(assignment: Assignment, reason: str) -> LateConflictDeclared:
    """The expert found a conflict of interest after the proposal opened.

    The declaration becomes a conflict: the proposal closes for the expert, their review (draft
    or submitted) is kept but no longer counts anywhere (ranking, consensus, reports), and a
    rapporteur gives up the role. The caller tells the coordinators (``late_conflict_notices``).

    :raises LateConflictRefused: see ``can_declare_late_conflict``.
    :raises ValueError: no reason given.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a conflict needs a reason")
    # Waits for a phase move in flight (and for the same declaration sent twice): the state is
    # read again once the lock is held, so a conflict lands once and never after consensus.
    lock_call(assignment.proposal.call)
    db.session.refresh(assignment)
    if assignment.declaration is not None:
        db.session.refresh(assignment.declaration)
    if not can_declare_late_conflict(assignment):
        raise LateConflictRefused(assignment.id)
    declaration = assignment.declaration
    assert declaration is not None  # can_declare_late_conflict
    declaration.has_conflict = True
    declaration.reason = reason
    declaration.conflict_found_at = utcnow()
    was_rapporteur = assignment.is_rapporteur
    assignment.is_rapporteur = False
    event = LateConflictDeclared(
        proposal=assignment.proposal.reference,
        reason=reason,
        review_withdrawn=assignment.review is not None,
        was_rapporteur=was_rapporteur,
    )
    db.session.flush()
    record(event, assignment, call_id=assignment.proposal.call_id, actor_id=assignment.expert_id)
    return event


@dataclass(frozen=True)
class OtherReview:
    """Another expert's submitted review of the same proposal, as the panel shows experts."""

    label: str  # "Expert B", or the name where the call shows names
    scores: dict[str, Score]  # criterion key -> score


def other_reviews(assignment: Assignment) -> list[OtherReview] | None:
    """The panel's other submitted reviews of the proposal, in the panel's letter order, once
    the expert's own review is submitted and the call opens them (``reviews_open_after_submit``);
    None while they are closed to the expert. Drafts and conflicted experts' reviews never show.
    """
    from ..consensus.services import expert_labels, submitted_reviews
    from ..labels import expert_letter_label

    proposal = assignment.proposal
    own = assignment.review
    if (
        not proposal.call.reviews_open_after_submit
        or assignment.has_conflict
        or own is None
        or not own.is_submitted
    ):
        return None
    labels = expert_labels(proposal, expert_letter_label)
    # submitted_reviews keeps the panel's order (by assignment), the order of the letters.
    return [
        OtherReview(label=labels.get(other.expert_id, ""), scores=scores_by_key(other))
        for other in submitted_reviews(proposal)
        if other.id != assignment.id
    ]


def can_write(assignment: Assignment) -> bool:
    """Whether the expert may still change the review of this assignment."""
    review = assignment.review
    return (
        assignment.proposal.call.phase is Phase.EVALUATION
        and not assignment.has_conflict
        and assignment.declaration is not None
        and (review is None or not review.is_submitted)
    )


def current_version(assignment: Assignment) -> int:
    """The version a form must carry to save; 0 while there is no review yet."""
    return assignment.review.version if assignment.review is not None else 0


def scores_by_key(assignment: Assignment) -> dict[str, Score]:
    review = assignment.review
    if review is None:
        return {}
    keys = {c.id: c.key for c in assignment.proposal.call.criteria}
    return {keys[s.criterion_id]: s for s in review.scores if s.criterion_id in keys}


def save_draft(
    assignment: Assignment,
    expected_version: int,
    scores: Mapping[str, ScoreInput],
    *,
    autosave: bool = False,
) -> Review:
    """Keep the expert's input as a draft; partial input is fine, given values must be on the scale.

    :raises ReviewLocked: submitted, or the call is not in evaluation.
    :raises StaleReview: the review changed since ``expected_version``.
    :raises ValueError: a value off the scale.
    """
    path = SavedThrough.AUTOSAVE if autosave else SavedThrough.PAGE
    review, number = _write(assignment, expected_version, scores, path=path)
    record(
        ReviewDraftSaved(
            proposal=assignment.proposal.reference,
            scores=_summary(scores),
            autosave=autosave,
            version=number,
        ),
        review,
        call_id=assignment.proposal.call_id,
        actor_id=assignment.expert_id,
    )
    return review


def submit_review(
    assignment: Assignment, expected_version: int, scores: Mapping[str, ScoreInput]
) -> Review:
    """Save and submit: from now on the review is read-only and counts.

    :raises ReviewLocked: submitted, or the call is not in evaluation.
    :raises StaleReview: the review changed since ``expected_version``.
    :raises IncompleteReview: a criterion without a value or with too short a comment.
    :raises ValueError: a value off the scale.
    """
    scheme = assignment.proposal.call.scheme
    minimum = scheme.rules.comment_min_chars
    missing = [
        c.key
        for c in scheme.criteria
        if (given := scores.get(c.key)) is None
        or given.value is None
        or (
            too_short(c.comment_fields, given.parts or {})
            if c.comment_fields
            else len(given.comment.strip()) < minimum
        )
    ]
    if missing:
        raise IncompleteReview(", ".join(missing))
    review, number = _write(
        assignment, expected_version, scores, path=SavedThrough.PAGE, submit=True
    )
    record(
        ReviewSubmitted(
            proposal=assignment.proposal.reference, scores=_summary(scores), version=number
        ),
        review,
        call_id=assignment.proposal.call_id,
        actor_id=assignment.expert_id,
    )
    return review


def _write(
    assignment: Assignment,
    expected_version: int,
    scores: Mapping[str, ScoreInput],
    *,
    path: SavedThrough,
    submit: bool = False,
) -> tuple[Review, int]:
    """Write the scores (and the submission) in one flush and keep the result as a version.

    :returns: the review and the number of the version kept.
    """
    # Waits for a phase move in flight, then sees its result: nothing lands after the close.
    lock_call(assignment.proposal.call)
    if assignment.declaration is not None:  # a conflict declared meanwhile closes the review
        db.session.refresh(assignment.declaration)
    if not can_write(assignment):
        raise ReviewLocked(assignment.id)
    if expected_version != current_version(assignment):
        raise StaleReview(assignment.id)
    call = assignment.proposal.call
    scale = call.scheme.scale
    for given in scores.values():
        if given.value is not None and not scale.contains(given.value):
            raise ValueError(f"{given.value} is not on the scale")
    # Everything is read before anything changes, and autoflush is off while the rows change,
    # so that a concurrent save surfaces at the one flush below and nowhere else.
    criteria = list(call.criteria)
    assignment_id = assignment.id
    review = assignment.review
    now = utcnow()
    with db.session.no_autoflush:
        if review is None:
            review = Review(assignment=assignment, status=ReviewStatus.DRAFT)
            db.session.add(review)
        # Touching the row moves the version counter even when only scores changed.
        review.updated_at = now
        if submit:
            review.status = ReviewStatus.SUBMITTED
            review.submitted_at = now
        # Every criterion is written: one the form left out is stored empty.
        entered = {c.key: scores.get(c.key, ScoreInput(None, "")) for c in criteria}
        # Several boxes make one comment, in the scheme's own words whatever the expert reads.
        boxes = {c.key: c.comment_fields for c in call.scheme.criteria}
        write_scores(
            review.scores,
            new_score,
            criteria,
            {
                key: (e.value, compose(boxes[key], e.parts or {}) if boxes.get(key) else e.comment)
                for key, e in entered.items()
            },
            parts={key: e.parts for key, e in entered.items()},
        )
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as exc:
        # Another request saved between our read and our write (the version moved, or it
        # created the review first): the same outcome as a stale page. The caller rolls back.
        raise StaleReview(assignment_id) from exc
    # The expert's own page is the only way here: they are the author of the version.
    kept = keep_version(review, path, saved_by_id=assignment.expert_id)
    return review, kept.number


def _summary(scores: Mapping[str, ScoreInput]) -> dict[str, str | None]:
    return {k: None if v.value is None else str(v.value) for k, v in scores.items()}
