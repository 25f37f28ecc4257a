"""Wiring of the web side: blueprints, error pages, template helpers, the user loader."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, g, redirect, render_template, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .display import display_date, display_datetime
from .extensions import db, login_manager
from .labels import role_label
from .models import User
from .refusals import register_refusals
from .security import register_security


def register_web(app: Flask) -> None:
    from . import areas

    register_security(app)  # first: the id converter must be in place before any route
    for area in areas():
        app.register_blueprint(area.blueprint())

    login_manager.login_view = "auth.login"
    login_manager.login_message = ""  # the login page itself says why; no flash noise

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The server-side session decides (auth.sessions); it is checked once per request, in
        # before_request, and only looked up here if something asks for the user earlier.
        if "session_user" not in g:
            from .auth.sessions import load_session_user

            g.session_user = load_session_user()
        user: User | None = g.session_user
        return user if user is not None and str(user.id) == user_id else None

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from flask import url_for

        from .auth.stash import stash_expired_post

        # A form posted after sign-out keeps its input, if it carries its user's ticket.
        stashed = stash_expired_post(request)
        if stashed is not None:
            return stashed
        if g.get("session_ended"):
            flash(
                _("Your session ended after a while without activity. Please sign in again."),
                "info",
            )
        if request.method != "GET":
            return redirect(url_for("auth.login"))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    app.add_template_filter(role_label, "role_label")

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        from .auth.stash import stash_field
        from .labels import template_helpers as label_helpers

        return {
            **label_helpers(),
            "stash_field": stash_field,
            "current_locale": str(get_locale() or "en"),
            # One way of writing dates per language (display.py), whatever style a page asks.
            "format_date": display_date,
            "format_datetime": display_datetime,
            "format_decimal": format_decimal,
            # Counts as the reader's language groups them (1,000 / 1.000).
            "format_count": lambda number: format_decimal(number, format="#,##0"),
        }

    def error_page(code: int, title: str, message: str) -> tuple[str, int]:
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(404)
    def not_found(_e: Exception) -> tuple[str, int]:
        return error_page(404, _("Not found"), _("There is nothing at this address."))

    @app.errorhandler(403)
    def forbidden(_e: Exception) -> tuple[str, int]:
        return error_page(403, _("Not allowed"), _("Your role does not give access to this page."))

    @app.errorhandler(413)
    def too_large(_e: Exception) -> tuple[str, int]:
        return error_page(413, _("File too large"), _("The upload is larger than allowed."))

    @app.errorhandler(429)
    def too_many(_e: Exception) -> tuple[str, int]:
        return error_page(
            429,
            _("Too many attempts"),
            _("Too many attempts from this address. Please wait a few minutes and try again."),
        )

    @app.errorhandler(CSRFError)
    def csrf_error(_e: CSRFError) -> Any:
        from .auth.stash import stash_expired_post

        # A form posted after the session expired carries a stale CSRF token: keep the input.
        stashed = stash_expired_post(request)
        if stashed is not None:
            return stashed
        return error_page(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and send the form again."),
        )

    register_refusals(app, error_page)

    @app.errorhandler(500)
    def server_error(_e: Exception) -> tuple[str, int]:
        db.session.rollback()
        return error_page(
            500, _("Something went wrong"), _("The error has been logged. Nothing was saved.")
        )
