from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..models import Role
from ..models.audit import record
from . import bp
from .forms import LanguageForm, LoginForm, SetPasswordForm
from .services import InvitationError, accept_invitation, authenticate, find_invitation


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would let a phishing link borrow our login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(role: Role) -> str:
    if role is Role.EXPERT:
        return url_for("expert.assignments")
    return url_for("coordinator.calls")


@bp.route("/")
def index() -> Any:
    """Send each role to its own start page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user.role))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with e-mail and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            login_user(user)
            session.permanent = True
            record("user.login", user)
            db.session.commit()
            return redirect(_safe_next(form.next.data) or home_for(user.role))
    kept = request.args.get("kept") == "1"
    return render_template("auth/login.html", form=form, kept=kept)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Sign out."""
    record("user.logout", current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    """Switch the interface language (kept on the account when signed in)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["language"] = form.language.data
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    return redirect(_safe_next(form.next.data) or url_for("auth.index"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str) -> Any:
    """First visit of an invited user: set a password, then sign in."""
    try:
        invitation = find_invitation(token)
    except InvitationError as exc:
        return render_template("auth/invitation_invalid.html", message=str(exc)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        user = accept_invitation(token, form.password.data or "")
        db.session.commit()
        login_user(user)
        flash(_("Welcome, %(name)s. Your password is set.", name=user.name), "success")
        return redirect(home_for(user.role))
    return render_template("auth/set_password.html", form=form, user=invitation.user)
