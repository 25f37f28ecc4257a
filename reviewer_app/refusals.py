"""Where a refused request goes: the web side of ``errors.DomainError``.

A service refuses by raising a ``DomainError``; the view lets it through. The handler here rolls
the transaction back, flashes the message and sends the user to the page the view names with
``@back_on_refusal`` (built from the view's own URL arguments), else to the page of this site
they came from, else shows a 409 page. So a view is: load, check, validate, call one service,
commit, redirect; it catches a refusal itself only to do more (keep typed text in a re-rendered
form, put the message beside a field).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from .errors import DomainError
from .extensions import db

F = TypeVar("F", bound=Callable[..., Any])

Target = str | Callable[..., str]


def back_on_refusal(target: Target) -> Callable[[F], F]:
    """A refusal during this view leads to ``target``: an endpoint called with the view's URL
    arguments, or a function of those arguments that returns a URL."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g.refusal_target = target
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def refusal_goes_to(url: str) -> None:
    """A refusal from here on leads to ``url`` (for a target the URL arguments cannot name)."""
    g.refusal_target = lambda **_arguments: url


def _target_url() -> str | None:
    target: Target | None = g.get("refusal_target")
    if target is None:
        return None
    arguments = request.view_args or {}
    if callable(target):
        return target(**arguments)
    # Only the arguments the target's URL takes: the others would become a query string.
    endpoint = f"{request.blueprint}{target}" if target.startswith(".") else target
    taken = set().union(*(r.arguments for r in current_app.url_map.iter_rules(endpoint)))
    return url_for(target, **{k: v for k, v in arguments.items() if k in taken})


def register_refusals(app: Flask, error_page: Callable[[int, str, str], Any]) -> None:
    @app.errorhandler(DomainError)
    def refused(exc: DomainError) -> Any:
        """Nothing is saved, the message is shown, and the user goes back."""
        db.session.rollback()
        target = _target_url()
        if target is None:
            back = urlsplit(request.referrer or "")
            same_site = back.netloc == request.host and back.path.startswith("/")
            if same_site and not (request.method == "GET" and back.path == request.path):
                target = back.path + (f"?{back.query}" if back.query else "")
        if target is None:
            return error_page(409, _("Not possible"), str(exc))
        flash(str(exc), exc.category)
        return redirect(target)
