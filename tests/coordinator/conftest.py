"""Helpers of the coordinator tests: reviews and conflict declarations in a given state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    ConflictDeclaration,
)


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
