"""Sign-in, passwords, invitations, and keeping input posted after a session expired."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Request, current_app, redirect, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Invitation, StashedForm, User, utcnow
from ..models.audit import record


def _hasher() -> PasswordHasher:
    """argon2id; the profile is configuration so that the test suite can use the cheapest one."""
    profile = current_app.config.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    return PasswordHasher.from_parameters(getattr(profiles, profile))


MIN_PASSWORD_LENGTH = 10


class InvitationError(Exception):
    """The invitation link is unknown, used or expired."""


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same answer for every miss)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.password_hash is None or not user.active:
        _hasher().hash(password)  # same work either way: no timing hint that the e-mail exists
        return None
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(user: User, created_by: User | None = None) -> str:
    """Make a single-use invitation for ``user``; returns the token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITATION_VALID_DAYS"]
    db.session.add(
        Invitation(
            user=user,
            token_hash=_token_hash(token),
            expires_at=utcnow() + timedelta(days=days),
            created_by_id=created_by.id if created_by else None,
        )
    )
    record("user.invite", user, email=user.email)
    return token


def invitation_url(token: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/invitation/{token}"


def find_invitation(token: str) -> Invitation:
    """:raises InvitationError: unknown, used or expired."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid."))
    if invitation.used_at is not None:
        raise InvitationError(_("This invitation link has already been used."))
    if invitation.expires_at < utcnow():
        raise InvitationError(
            _("This invitation link has expired. Ask the coordinator for a new one.")
        )
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """:raises InvitationError: unknown, used or expired."""
    invitation = find_invitation(token)
    invitation.used_at = utcnow()
    set_password(invitation.user, password)
    record("user.accept_invitation", invitation.user, actor_id=invitation.user_id)
    return invitation.user


def stash_expired_post(request: Request) -> Any | None:
    """Keep the input of a form posted without a valid session; send the user to sign in.

    Only views marked ``keeps_input_on_expiry`` qualify. The stash is bound to this browser's
    session and handed back only after sign-in, to the page it came from.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method != "POST" or not getattr(view, "keeps_input_on_expiry", False):
        return None
    data = {k: v for k, v in request.form.items(multi=False) if k != "csrf_token"}
    token = secrets.token_urlsafe(24)
    db.session.add(StashedForm(token=token, path=request.path, data=data))
    db.session.commit()
    session["stashed_form"] = token
    return redirect(url_for("auth.login", next=request.path, kept="1"))


def pop_stashed_form(path: str) -> dict[str, Any] | None:
    """The input stashed for ``path`` in this browser session, once (and then forgotten)."""
    token = session.get("stashed_form")
    if not token:
        return None
    stash = db.session.scalar(select(StashedForm).where(StashedForm.token == token))
    if stash is None or stash.path != path:
        return None
    session.pop("stashed_form", None)
    data = dict(stash.data)
    db.session.delete(stash)
    return data
