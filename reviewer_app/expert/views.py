from __future__ import annotations

from typing import Any

from flask import render_template

from ..auth.access import role_required
from ..models import Role
from . import bp


@bp.route("/")
@role_required(Role.EXPERT)
def assignments() -> Any:
    """The expert's assignments (placeholder until the workflow lands)."""
    return render_template("expert/assignments.html")
