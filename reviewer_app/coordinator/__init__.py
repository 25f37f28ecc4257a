"""The coordinator's area: calls, proposals, experts, assignment, progress, ranking, decisions.

The blueprint is made here; each page module adds its routes to it when imported, and is named
in ``blueprint``: a new page module is one line more. The services beside them import without
the pages (the command line uses them and starts faster so).
"""

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/calls", template_folder="templates")


def blueprint() -> Blueprint:
    """``bp`` with every route of the area."""
    from . import (  # noqa: F401  (imported for their routes)
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

    return bp
