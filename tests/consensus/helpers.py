"""Rows that the consensus, ranking and decision tests start from: submitted reviews."""

from __future__ import annotations

from decimal import Decimal

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    ConflictDeclaration,
    Review,
    ReviewStatus,
    Score,
    utcnow,
)


def submit_review(
    assignment: Assignment,
    scores: dict[str, str | Decimal],
    *,
    comment: str = "",
    status: ReviewStatus = ReviewStatus.SUBMITTED,
) -> Review:
    """A review with one score per criterion key; comments say who wrote them."""
    db.session.add(
        ConflictDeclaration(
            assignment=assignment, has_conflict=False, confidentiality_accepted=True
        )
    )
    criteria = {c.key: c for c in assignment.proposal.call.criteria}
    review = Review(
        assignment=assignment,
        status=status,
        submitted_at=utcnow() if status is ReviewStatus.SUBMITTED else None,
        scores=[
            Score(
                criterion=criteria[key],
                value=Decimal(value),
                comment=comment or f"{key} comment from reviewer {assignment.expert_id}",
            )
            for key, value in scores.items()
        ],
    )
    db.session.add(review)
    db.session.commit()
    return review


def declare_conflict(assignment: Assignment, reason: str = "Former colleague") -> None:
    db.session.add(ConflictDeclaration(assignment=assignment, has_conflict=True, reason=reason))
    db.session.commit()


def uniform(value: str) -> dict[str, str]:
    return {"compute": value, "expertise": value, "funding": value}
