"""Input posted without a valid session: kept for its own user, and for nobody else.

An expert whose session ends while writing must not lose the text. But a stash that takes any
anonymous POST lets anyone plant text in an expert's form. So every form that keeps input renders
a signed, expiring ticket naming its user and page (``stash_ticket``); a POST without a valid
session is kept only when its ticket is valid for that page, only up to ``STASH_MAX_CHARS``, only
until ``STASH_VALID_HOURS`` have passed, and it is handed back only to the user the ticket names,
after that user signs in again in the same browser. Anything else is refused and stores nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Request, current_app, redirect, session, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import StashedForm, User, utcnow

F = TypeVar("F", bound=Callable[..., Any])

TICKET_FIELD = "_stash"
SESSION_KEY = "stashed_form"
_SALT = "reviewer_app.stash"
# Never stored: the CSRF token and the ticket itself.
_NOT_KEPT = frozenset({"csrf_token", TICKET_FIELD})
MAX_FIELDS = 200


def keeps_input_on_expiry(
    back_to: Callable[..., str] | None = None,
) -> Callable[[F], F]:
    """Mark a form view whose posted input is stashed when the session has expired.

    ``back_to(**view_args)`` is the page to return to after sign-in when the form posts to an
    address that has no page of its own (the page then restores the input); by default the
    posted address itself.
    """

    def decorator(view: F) -> F:
        # An attribute of the view function, read by the expiry handler through the endpoint.
        setattr(view, "keeps_input_on_expiry", back_to or True)  # noqa: B010
        return view

    return decorator


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _valid_for() -> timedelta:
    return timedelta(hours=int(current_app.config["STASH_VALID_HOURS"]))


def stash_ticket(path: str) -> str:
    """The ticket for a form that posts to ``path``, for the signed-in user."""
    return _serializer().dumps({"u": int(current_user.id), "p": path})


def stash_field(path: str | None = None) -> Markup:
    """The hidden field with the ticket, for templates: ``{{ stash_field() }}`` in a form that
    posts to the page itself, ``{{ stash_field(action_url) }}`` in one that posts elsewhere."""
    if not current_user.is_authenticated:
        return Markup("")
    from flask import request

    ticket = stash_ticket(path or request.path)
    return Markup('<input type="hidden" name="{}" value="{}">').format(TICKET_FIELD, ticket)


def _ticket_owner(request: Request) -> User | None:
    ticket = request.form.get(TICKET_FIELD, "")
    if not ticket or len(ticket) > 500:
        return None
    try:
        payload = _serializer().loads(ticket, max_age=int(_valid_for().total_seconds()))
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict) or payload.get("p") != request.path:
        return None
    user_id = payload.get("u")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and user.active else None


def _bounded(request: Request) -> dict[str, str] | None:
    data = {k: v for k, v in request.form.items(multi=False) if k not in _NOT_KEPT}
    size = sum(len(k) + len(v) for k, v in data.items())
    if len(data) > MAX_FIELDS or size > int(current_app.config["STASH_MAX_CHARS"]):
        return None
    return data


def stash_expired_post(request: Request) -> Response | None:
    """Keep a form posted without a valid session and send the user to sign in, or None.

    None means "not kept" (the caller answers as it would without a stash): the view does not
    keep input, the ticket is missing, forged, expired or for another page, or the input is too
    large.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    back_to = getattr(view, "keeps_input_on_expiry", None)
    if request.method != "POST" or not back_to:
        return None
    owner = _ticket_owner(request)
    data = _bounded(request) if owner is not None else None
    if owner is None or data is None:
        return None
    now = utcnow()
    # One stash per user and page: a second expired post replaces the first.
    db.session.execute(
        delete(StashedForm).where(
            (StashedForm.expires_at < now)
            | ((StashedForm.user_id == owner.id) & (StashedForm.path == request.path))
        )
    )
    token = secrets.token_urlsafe(24)
    db.session.add(
        StashedForm(
            token=token,
            user_id=owner.id,
            path=request.path,
            data=data,
            expires_at=now + _valid_for(),
        )
    )
    db.session.commit()
    session[SESSION_KEY] = token
    page = back_to(**(request.view_args or {})) if callable(back_to) else request.path
    return redirect(url_for("auth.login", next=page, kept="1"))


def pop_stashed_form(*paths: str) -> tuple[str, dict[str, Any]] | None:
    """The input this browser stashed, by the signed-in user, for a form that posts to one of
    ``paths``: (the path, the input), once. The caller commits (the stash is then gone)."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not current_user.is_authenticated:
        return None
    stash = db.session.scalar(select(StashedForm).where(StashedForm.token == token))
    if stash is None or stash.path not in paths:
        return None
    session.pop(SESSION_KEY, None)
    path, data = stash.path, dict(stash.data)
    db.session.delete(stash)
    if stash.user_id != current_user.id or stash.expires_at < utcnow():
        return None  # another person signed in on this browser, or too late: dropped unseen
    return path, data


def delete_expired_stashes() -> int:
    """Remove stashes past their time (``reviewer-app cleanup``); returns how many."""
    result = db.session.execute(delete(StashedForm).where(StashedForm.expires_at < utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
