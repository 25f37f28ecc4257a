"""The coordinator's area: calls, proposals, experts, assignment, progress, ranking, decisions.

The blueprint is made here; each page module below adds its routes to it when imported, and is
named in the list: a new page module is one line more.
"""

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/calls", template_folder="templates")

# The page modules register their routes on ``bp``; imported for that effect, after ``bp``.
from . import (  # noqa: E402
    analytics_views,
    audit_views,
    call_views,
    decision_views,
    expert_views,
    panel_views,
    progress_views,
    proposal_views,
    ranking_views,
    view_helpers,
)

__all__ = [
    "analytics_views",
    "audit_views",
    "bp",
    "call_views",
    "decision_views",
    "expert_views",
    "panel_views",
    "progress_views",
    "proposal_views",
    "ranking_views",
    "view_helpers",
]
