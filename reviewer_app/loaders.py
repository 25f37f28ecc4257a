"""One loader per object named in a URL: the object, or 404. Views call these and hold no
queries of their own for it; whether the signed-in user may see the object is the view's
check (an expert's objects answer 404 too, see auth/access.py)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm.interfaces import ORMOption

from .extensions import db
from .models import Call, Role, User


def call_or_404(key: str, *options: ORMOption) -> Call:
    """The call with ``key``, loaded with ``options`` (eager loads the page needs)."""
    call: Call = db.one_or_404(select(Call).where(Call.key == key).options(*options))
    return call


def expert_or_404(user_id: int | None) -> User:
    """The expert's account ``user_id`` (from the URL or a form field); any other account is
    404, as a missing one is."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.role is not Role.EXPERT:
        abort(404)
    return user
