"""Helpers of the coordinator tests: reviews and conflict declarations in a given state."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    ConflictDeclaration,
    Review,
    ReviewStatus,
    Score,
    utcnow,
)


@pytest.fixture
def make_review(app_ctx: Flask) -> Callable[..., Review]:
    def make(assignment: Assignment, *, submitted: bool = True, value: str = "4") -> Review:
        criteria = list(assignment.proposal.call.criteria)
        if assignment.declaration is None:
            assignment.declaration = ConflictDeclaration(
                has_conflict=False, confidentiality_accepted=True
            )
        review = Review(
            assignment=assignment,
            status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
            submitted_at=utcnow() if submitted else None,
        )
        review.scores = [
            Score(criterion=c, value=Decimal(value), comment="A comment long enough. " * 3)
            for c in criteria
        ]
        db.session.add(review)
        db.session.commit()
        return review

    return make


@pytest.fixture
def declare_conflict(app_ctx: Flask) -> Callable[..., ConflictDeclaration]:
    def declare(
        assignment: Assignment, reason: str = "I work for the applicant."
    ) -> ConflictDeclaration:
        declaration = ConflictDeclaration(assignment=assignment, has_conflict=True, reason=reason)
        db.session.add(declaration)
        db.session.commit()
        return declaration

    return declare
