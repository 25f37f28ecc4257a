"""Consensus phase: the rapporteur drafts, the other experts of the proposal approve or comment.

The page modules add their routes to ``bp`` when ``blueprint`` imports them; the services
beside them import without the pages.
"""

from flask import Blueprint

bp = Blueprint("consensus", __name__, url_prefix="/consensus", template_folder="templates")


def blueprint() -> Blueprint:
    """``bp`` with every route of the area."""
    from . import views  # noqa: F401  (imported for their routes)

    return bp
