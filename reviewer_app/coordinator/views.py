from __future__ import annotations

from typing import Any

from flask import render_template

from ..auth.access import role_required
from ..models import Role
from . import bp


@bp.route("/")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def calls() -> Any:
    """List of calls (placeholder until the coordinator workflow lands)."""
    return render_template("coordinator/calls.html")
