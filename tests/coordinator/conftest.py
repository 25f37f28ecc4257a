"""Helpers of the coordinator tests: conflict declarations, made as the expert makes them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from reviewer_app.models import Assignment, ConflictDeclaration

from ..factories import declare_for


@pytest.fixture
def declare_conflict(app_ctx: Flask) -> Callable[..., ConflictDeclaration]:
    """The expert's declaration of a conflict, through the declaration service."""

    def declare(
        assignment: Assignment, reason: str = "I work for the applicant."
    ) -> ConflictDeclaration:
        declare_for(assignment, conflict=reason)
        return assignment.declaration

    return declare
