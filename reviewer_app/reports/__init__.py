"""Reports: plain report data, SVG charts, PDF rendering, and their download routes.

The page modules add their routes to ``bp`` when ``blueprint`` imports them; the services
beside them import without the pages.
"""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")


def blueprint() -> Blueprint:
    """``bp`` with every route of the area."""
    from . import views  # noqa: F401  (imported for their routes)

    return bp
