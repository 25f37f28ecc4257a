"""Wiring of the web side: blueprints, error pages, template helpers, the user loader."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .extensions import db, login_manager
from .models import User


def register_web(app: Flask) -> None:
    from .auth import bp as auth_bp
    from .consensus import bp as consensus_bp
    from .coordinator import bp as coordinator_bp
    from .expert import bp as expert_bp
    from .reports import bp as reports_bp

    for blueprint in (auth_bp, expert_bp, coordinator_bp, consensus_bp, reports_bp):
        app.register_blueprint(blueprint)

    login_manager.login_view = "auth.login"
    login_manager.login_message = ""  # the login page itself says why; no flash noise

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from flask import redirect, url_for

        from .auth.services import stash_expired_post

        # A form posted after sign-out keeps its input too (the CSRF token may still be valid).
        stashed = stash_expired_post(request)
        if stashed is not None:
            return stashed
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.template_filter("role_label")
    def role_label(role: str) -> str:
        return {
            "coordinator": _("coordinator"),
            "expert": _("expert"),
            "observer": _("observer"),
        }.get(str(role), str(role))

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        return {
            "current_locale": str(get_locale() or "en"),
            "format_date": format_date,
            "format_datetime": format_datetime,
            "format_decimal": format_decimal,
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

    @app.errorhandler(CSRFError)
    def csrf_error(_e: CSRFError) -> Any:
        from .auth.services import stash_expired_post

        # A form posted after the session expired carries a stale CSRF token: keep the input.
        stashed = stash_expired_post(request)
        if stashed is not None:
            return stashed
        return error_page(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and send the form again."),
        )

    @app.errorhandler(500)
    def server_error(_e: Exception) -> tuple[str, int]:
        db.session.rollback()
        return error_page(
            500, _("Something went wrong"), _("The error has been logged. Nothing was saved.")
        )
