"""What the ranking and the decisions pages share: the call as they load it, and the labels and
formatters their templates read."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..loaders import call_or_404
from ..models import Call, Role
from ..scoring.numbers import format_money, format_score


def load_ranked_call(key: str) -> Call:
    return call_or_404(key, selectinload(Call.criteria))


def status_labels() -> dict[str, str]:
    return {
        "main": _("Main list"),
        "reserve": _("Reserve list"),
        "below_threshold": _("Below threshold"),
        "incomplete": _("Incomplete"),
    }


def outcome_labels() -> dict[str, str]:
    return {
        "funded": _("Funded"),
        "reserve": _("Reserve"),
        "rejected": _("Rejected"),
        "ineligible": _("Ineligible"),
    }


def flag_label(flag: str, titles: dict[str, str]) -> str:
    if flag == "ex_aequo":
        return _("ex aequo")
    if flag == "no_funding_amount":
        return _("no funding amount")
    if flag.startswith("disagreement:"):
        key = flag.split(":", 1)[1]
        return _("experts disagree on %(criterion)s", criterion=titles.get(key, key))
    return flag


def page_helpers(call: Call) -> dict[str, Any]:
    return {
        "format_score": format_score,
        "format_money": format_money,
        "status_labels": status_labels(),
        "outcome_labels": outcome_labels(),
        "flag_label": flag_label,
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
