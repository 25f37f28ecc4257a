"""Signing in and out, invitations, passwords, two-factor authentication, the account page.

The page modules add their routes to ``bp`` when ``blueprint`` imports them; the services
beside them import without the pages.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")


def blueprint() -> Blueprint:
    """``bp`` with every route of the area."""
    from . import account_views, views  # noqa: F401  (imported for their routes)

    return bp
