"""Single-use account links: invitations and password resets.

One rule for both: a link is random (only its SHA-256 is stored), works once, expires, and every
other open link of the same account ends when a new one is issued or one is used. So a link in
an old e-mail can never set a password on an account that has moved on.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..audit.events import ResetLinkSent, UserInvited
from ..errors import DomainError
from ..extensions import db
from ..models import AccountLink, LinkPurpose, User, utcnow
from ..models.audit import record


class LinkError(DomainError):
    """The link is unknown, used, replaced or expired; the message says which."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _valid_for(purpose: LinkPurpose) -> timedelta:
    if purpose is LinkPurpose.INVITATION:
        return timedelta(days=current_app.config["INVITATION_VALID_DAYS"])
    return timedelta(hours=current_app.config["PASSWORD_RESET_VALID_HOURS"])


def end_open_links(user: User) -> int:
    """End every open link of ``user``; returns how many were still open."""
    now = utcnow()
    result = db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.used_at.is_(None),
            AccountLink.ended_at.is_(None),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def issue_link(user: User, purpose: LinkPurpose, created_by: User | None = None) -> str:
    """A fresh link for ``user``; earlier open links of the account end. Returns the token."""
    db.session.flush()  # the user may be new: it needs its id
    ended = end_open_links(user)
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=utcnow() + _valid_for(purpose),
            created_by_id=created_by.id if created_by else None,
        )
    )
    kind = UserInvited if purpose is LinkPurpose.INVITATION else ResetLinkSent
    record(
        kind(email=user.email, earlier_links_ended=ended),
        user,
        actor_id=created_by.id if created_by else None,
    )
    return token


def link_url(token: str, purpose: LinkPurpose) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    path = "invitation" if purpose is LinkPurpose.INVITATION else "password/reset"
    return f"{base}/{path}/{token}"


def find_link(token: str, purpose: LinkPurpose) -> AccountLink:
    """The open link for ``token``.

    :raises LinkError: unknown, used, replaced by a newer link, or expired.
    """
    link = (
        db.session.scalar(select(AccountLink).where(AccountLink.token_hash == token_hash(token)))
        if 0 < len(token) <= 100
        else None
    )
    if link is None or link.purpose is not purpose:
        raise LinkError(_("This link is not valid."))
    if link.used_at is not None:
        raise LinkError(_("This link has already been used."))
    if link.ended_at is not None:
        raise LinkError(
            _(
                "A newer link was sent for this account, or the account is set up. This one no longer works."
            )
        )
    if link.expires_at < utcnow() or not link.user.active:
        raise LinkError(_("This link has expired. Ask for a new one."))
    return link


def use_link(token: str, purpose: LinkPurpose) -> User:
    """Mark the link used and end every other open link of its account.

    :raises LinkError: see :func:`find_link`.
    """
    link = find_link(token, purpose)
    # Guarded update: of two requests racing with one link, only one sees its row change.
    claimed = db.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise LinkError(_("This link has already been used."))
    end_open_links(link.user)
    db.session.expire(link)
    return link.user
