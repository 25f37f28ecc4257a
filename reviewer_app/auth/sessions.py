"""Server-side sign-in sessions.

Flask's session is a signed cookie: on its own, signing out cannot make a copied cookie stop
working. So the cookie carries a random session id, and the ``user_sessions`` row with its hash
decides whether the session is alive. Signing out, a password change or reset, a two-factor reset
and the idle or absolute timeouts end the row; from then on the cookie opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from ..extensions import db
from ..models import Role, User, UserSession, utcnow

SESSION_ID_KEY = "sid"
# Kept across the new session made at sign-in: the interface language, and the ticket of input
# stashed while the old session had expired (auth.stash).
KEPT_AT_SIGN_IN = ("language", "stashed_form")
# last_seen_at is written at most this often: one small write a minute, not one per request.
TOUCH_EVERY = timedelta(seconds=60)


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    EXPIRED = "expired"
    PASSWORD_CHANGED = "password"
    TWO_FACTOR_CHANGED = "two_factor"  # turned on, off or reset
    DEACTIVATED = "deactivated"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_timeout(role: Role) -> timedelta:
    """Experts read long proposals; everyone else gets the shorter idle timeout."""
    key = "EXPERT_SESSION_IDLE_MINUTES" if role is Role.EXPERT else "SESSION_IDLE_MINUTES"
    return timedelta(minutes=int(current_app.config[key]))


def absolute_timeout() -> timedelta:
    return timedelta(hours=int(current_app.config["SESSION_MAX_HOURS"]))


def start_session(user: User, *, two_factor_passed: bool = False) -> None:
    """Sign ``user`` in with a new session id (what the old cookie held is dropped).

    A session this browser still had ends first: a cookie someone planted or copied before the
    sign-in never becomes a signed-in one (session fixation).
    """
    previous = _current_row()
    if previous is not None and previous.ended_at is None:
        previous.ended_at, previous.end_reason = utcnow(), EndReason.SIGNED_OUT
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(user_id=user.id, token_hash=_hash(token), two_factor_passed=two_factor_passed)
    )
    session[SESSION_ID_KEY] = token
    session.permanent = True
    login_user(user)


def _current_row() -> UserSession | None:
    token = session.get(SESSION_ID_KEY)
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))


def load_session_user() -> User | None:
    """The user of this request's session if it is alive, else None; ends timed-out sessions.

    Runs once per request, before the view (``before_request``), and commits its own small
    write there, so that it never commits a view's half-done work.
    """
    if SESSION_ID_KEY not in session:
        return None
    row = _current_row()
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    now = utcnow()
    reason = _timed_out(row, now)
    if reason is None and row.user.has_two_factor and not row.two_factor_passed:
        # Signed in with the password alone before two-factor sign-in was turned on.
        reason = EndReason.TWO_FACTOR_CHANGED
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        db.session.commit()
        g.session_ended = reason
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row.user


def _timed_out(row: UserSession, now: datetime) -> EndReason | None:
    if now - row.created_at > absolute_timeout():
        return EndReason.EXPIRED
    if now - row.last_seen_at > idle_timeout(row.user.role):
        return EndReason.IDLE
    return None


def mark_two_factor_passed() -> None:
    """This browser's session has passed a second factor (it set two-factor sign-in up)."""
    row = _current_row()
    if row is not None:
        row.two_factor_passed = True


def end_session(reason: EndReason = EndReason.SIGNED_OUT) -> None:
    """End this browser's session on the server and forget the cookie's content."""
    row = _current_row()
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), reason
    logout_user()
    session.clear()


def end_other_sessions(user: User, reason: EndReason, *, keep_current: bool = False) -> int:
    """End every open session of ``user`` (but this browser's when ``keep_current``)."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep_current and isinstance(session.get(SESSION_ID_KEY), str):
        query = query.where(UserSession.token_hash != _hash(session[SESSION_ID_KEY]))
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_old_sessions(keep_days: int = 90) -> int:
    """Remove session rows that ended, or timed out, more than ``keep_days`` ago."""
    from sqlalchemy import delete, or_

    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(
        delete(UserSession).where(
            or_(UserSession.ended_at < cutoff, UserSession.last_seen_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
