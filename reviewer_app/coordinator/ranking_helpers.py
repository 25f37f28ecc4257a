"""What the ranking and the decisions pages share: the call as they load it, and the labels and
formatters their templates read."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..loaders import call_or_404
from ..models import Assignment, Call, Proposal, Role
from ..scoring.numbers import format_money, format_score


def load_ranked_call(key: str) -> Call:
    return call_or_404(key, selectinload(Call.criteria))


def proposals_by_reference(call: Call) -> dict[str, Proposal]:
    """The call's proposals with their experts and decisions, as the ranking rows show them."""
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(
                selectinload(Proposal.assignments).selectinload(Assignment.expert),
                selectinload(Proposal.assignments).selectinload(Assignment.declaration),
                selectinload(Proposal.decision),
            )
        )
    }
    for proposal in proposals.values():
        proposal.call = call  # already loaded: spares one query per proposal
    return proposals


def page_helpers(call: Call) -> dict[str, Any]:
    return {
        "format_score": format_score,
        "format_money": format_money,
        "titles": {c.key: c.title for c in call.criteria},
        "reports": {
            name: name in current_app.view_functions
            for name in (
                "reports.decision_report",
                "reports.feedback_report",
                "reports.feedback_reports_zip",
            )
        },
        "is_coordinator_user": current_user.role is Role.COORDINATOR,
    }
