from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import JSON, CheckConstraint, ColumnElement, ForeignKey, Text, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import Cents, Hundredths, utcnow
from .users import enum_column

if TYPE_CHECKING:
    from .calls import Criterion
    from .proposals import Proposal
    from .users import User


class Assignment(Model):
    """An expert asked to evaluate one proposal."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("proposal_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_rapporteur: Mapped[bool] = mapped_column(default=False)
    due_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="assignments")
    expert: Mapped[User] = relationship(back_populates="assignments")
    declaration: Mapped[ConflictDeclaration | None] = relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )
    review: Mapped[Review | None] = relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )

    @property
    def has_conflict(self) -> bool:
        return self.declaration is not None and self.declaration.has_conflict

    @property
    def conflict_before_opening(self) -> bool:
        """A conflict declared before the proposal opened (not one found later): such an
        expert never was on the panel, so gets no letter (pseudonyms.panel_letters)."""
        return self.has_conflict and self.declaration.conflict_found_at is None  # type: ignore[union-attr]


class ConflictDeclaration(Model):
    __tablename__ = "conflict_declarations"
    __table_args__ = (
        UniqueConstraint("assignment_id"),
        CheckConstraint("NOT has_conflict OR reason <> ''", name="conflict_needs_reason"),
        CheckConstraint(
            "has_conflict OR confidentiality_accepted", name="confidentiality_before_access"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    has_conflict: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    confidentiality_accepted: Mapped[bool] = mapped_column(default=False)
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the expert found the conflict after the proposal had opened (the declaration
    # said none): the review they wrote is kept but no longer counts.
    conflict_found_at: Mapped[datetime | None] = mapped_column(default=None)

    assignment: Mapped[Assignment] = relationship(back_populates="declaration")


def without_conflict() -> ColumnElement[bool]:
    """SQL for :attr:`Assignment.has_conflict` being false, in a query that outer-joins each
    assignment to its declaration: undeclared, or declared without a conflict. Such an
    assignment counts towards a proposal's reviews."""
    return or_(ConflictDeclaration.id.is_(None), ConflictDeclaration.has_conflict.is_(False))


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Review(Model):
    """One expert's individual evaluation of one proposal."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "review_status"), default=ReviewStatus.DRAFT
    )
    # Optimistic locking: every save bumps it; a save carrying an older number is refused.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list[Score]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_submitted(self) -> bool:
        return self.status is ReviewStatus.SUBMITTED


class Score(Model):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("review_id", "criterion_id"),
        CheckConstraint("value IS NULL OR value >= 0", name="score_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal | None] = mapped_column(Hundredths)  # a draft may leave it empty
    comment: Mapped[str] = mapped_column(Text, default="")
    # A criterion with several comment boxes (scoring/comment_fields.py): each box's text by
    # field key, for the form; ``comment`` holds them composed, for every other reader.
    parts: Mapped[dict[str, str] | None] = mapped_column(JSON)

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class ConsensusStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class ConsensusReport(Model):
    """The rapporteur's consensus of a proposal's individual reviews; only a final one counts."""

    __tablename__ = "consensus_reports"
    __table_args__ = (UniqueConstraint("proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    rapporteur_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ConsensusStatus] = mapped_column(
        enum_column(ConsensusStatus, "consensus_status"), default=ConsensusStatus.DRAFT
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finalised_at: Mapped[datetime | None]
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why the consensus crosses a threshold that the reviews' aggregate did not (or the other
    # way round); finalising such a consensus needs it. For the decision makers, not the applicant.
    justification: Mapped[str] = mapped_column(Text, default="")
    # The panel's overall view of the proposal, written for the applicant (EU consensus report:
    # the overall comment); it opens the applicant's evaluation summary.
    overall_comment: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship(back_populates="consensus")
    scores: Mapped[list[ConsensusScore]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    approvals: Mapped[list[ConsensusApproval]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    minority_views: Mapped[list[ConsensusMinorityView]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_final(self) -> bool:
        return self.status is ConsensusStatus.FINAL


class ConsensusScore(Model):
    __tablename__ = "consensus_scores"
    __table_args__ = (
        UniqueConstraint("report_id", "criterion_id"),
        CheckConstraint("value IS NULL OR value >= 0", name="score_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("consensus_reports.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal | None] = mapped_column(Hundredths)
    comment: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[ConsensusReport] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class ConsensusApproval(Model):
    """Another expert of the proposal approves the consensus draft or comments on it."""

    __tablename__ = "consensus_approvals"
    __table_args__ = (UniqueConstraint("report_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("consensus_reports.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    approved: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[ConsensusReport] = relationship(back_populates="approvals")
    expert: Mapped[User] = relationship()


class ConsensusMinorityView(Model):
    """An expert of the panel who does not share the consensus says why (EU practice: the
    minority view is recorded beside the consensus). Written by that expert, or recorded on
    their behalf by the rapporteur or a coordinator; one per expert and report."""

    __tablename__ = "consensus_minority_views"
    __table_args__ = (
        UniqueConstraint("report_id", "expert_id"),
        CheckConstraint("text <> ''", name="text_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("consensus_reports.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[ConsensusReport] = relationship(back_populates="minority_views")
    expert: Mapped[User] = relationship(foreign_keys=[expert_id])


class DecisionOutcome(StrEnum):
    FUNDED = "funded"
    RESERVE = "reserve"
    REJECTED = "rejected"
    INELIGIBLE = "ineligible"


class Decision(Model):
    """A proposal's outcome. A funded decision may grant less than was requested (the granted
    amount is cut in grant preparation); ``amount_eur`` empty means the requested funding."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("proposal_id"),
        CheckConstraint("amount_eur IS NULL OR amount_eur > 0", name="amount_positive"),
        CheckConstraint("amount_eur IS NULL OR outcome = 'funded'", name="amount_only_when_funded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    outcome: Mapped[DecisionOutcome] = mapped_column(enum_column(DecisionOutcome, "outcome"))
    rationale: Mapped[str] = mapped_column(Text, default="")
    amount_eur: Mapped[Decimal | None] = mapped_column(Cents)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="decision")
    decided_by: Mapped[User | None] = relationship()


AnyScore = TypeVar("AnyScore", Score, ConsensusScore)


def write_scores(
    scores: list[AnyScore],
    make: Callable[[Criterion], AnyScore],
    criteria: Iterable[Criterion],
    values: Mapping[str, tuple[Decimal | None, str]],
    parts: Mapping[str, Mapping[str, str] | None] | None = None,
) -> None:
    """Write each criterion's value and comment into ``scores`` (a review's or a consensus
    report's), making the missing rows with ``make``. The one write path of criterion scores:
    the expert's page, the consensus page and the imports all come through here, so a score
    is stored the same way whoever enters it. Criteria not in ``values`` are left as they are;
    comments are stored without surrounding whitespace. ``parts`` (a review's criteria with
    several comment boxes) keeps each box's text too; the composed ``comment`` is the one
    everybody else reads."""
    by_criterion = {s.criterion_id: s for s in scores}
    for criterion in criteria:
        if criterion.key not in values:
            continue
        value, comment = values[criterion.key]
        score = by_criterion.get(criterion.id)
        if score is None:
            score = make(criterion)
            scores.append(score)
        score.value = value
        score.comment = stored_comment(comment)
        if parts is not None and isinstance(score, Score):
            given = parts.get(criterion.key)
            score.parts = None if given is None else {k: v.strip() for k, v in given.items()}


def stored_comment(comment: str) -> str:
    """A comment as it is stored (the bulk import writes rows without ``write_scores``)."""
    return comment.strip()


def new_score(criterion: Criterion) -> Score:
    return Score(criterion=criterion)


def new_consensus_score(criterion: Criterion) -> ConsensusScore:
    return ConsensusScore(criterion=criterion)
