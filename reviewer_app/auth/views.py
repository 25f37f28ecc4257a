"""Signing in and out, the second factor, invitation and password-reset links, language."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..audit.events import ResetLinkRefused, SignedOut
from ..extensions import db
from ..formhelpers import add_error
from ..loaders import user_or_none
from ..mail import MailError, in_language_of, send_mail
from ..models import LinkPurpose, Role, User
from ..models.audit import record
from . import bp, two_factor
from .forms import CodeForm, ForgotPasswordForm, LanguageForm, LoginForm, SetPasswordForm
from .links import LinkError, find_link, issue_link, link_url
from .services import (
    PasswordRefused,
    SignInRefusal,
    accept_invitation,
    check_password,
    check_second_factor,
    find_user,
    locked_message,
    reset_password,
    signed_in,
)
from .sessions import EndReason, end_session, start_session
from .throttle import (
    allow_mail_to,
    limit_failures_per_address,
    limit_requests_per_address,
    mark_failed,
)

# Between a right password and the second factor: who, since when, and where to go after.
PENDING_KEY = "pending_sign_in"
PENDING_SECONDS = 300


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would let a phishing link borrow our sign-in.

    Control characters (a newline would split the Location header) and backslashes (which some
    browsers read as a slash, making ``/\\evil.example`` another site) are refused too.
    """
    if not target or len(target) > 500:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(role: Role) -> str:
    if role is Role.EXPERT:
        return url_for("expert.assignments")
    return url_for("coordinator.calls")


def _complete_sign_in(
    user: User, next_target: str | None, *, two_factor_passed: bool = False
) -> Response:
    signed_in(user)
    start_session(user, two_factor_passed=two_factor_passed)
    db.session.commit()
    if two_factor.is_required_for(user) and not user.has_two_factor:
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(safe_next(next_target) or home_for(user.role))


def _ask_second_factor(user: User, next_target: str | None) -> Response:
    session[PENDING_KEY] = {"u": user.id, "t": int(time.time()), "n": safe_next(next_target) or ""}
    db.session.commit()  # a password rehash, if any
    return redirect(url_for("auth.login_code"))


def _sign_in_or_ask(user: User, next_target: str | None) -> Response:
    if user.has_two_factor:
        return _ask_second_factor(user, next_target)
    return _complete_sign_in(user, next_target)


@bp.route("/")
def index() -> Any:
    """Send each role to its own start page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user.role))


@bp.route("/login", methods=["GET", "POST"])
@limit_failures_per_address
def login() -> Any:
    """Sign in with e-mail and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    locked = False
    if form.validate_on_submit():
        attempt = check_password(form.email.data or "", form.password.data or "")
        if attempt.user is not None:
            return _sign_in_or_ask(attempt.user, form.next.data)
        mark_failed()
        db.session.commit()  # the audit of the failure
        locked = attempt.refusal is SignInRefusal.LOCKED
        if not locked:
            add_error(form.password, _("Wrong e-mail or password."))
    return render_template(
        "auth/login.html",
        form=form,
        kept=request.args.get("kept") == "1",
        locked_message=locked_message() if locked else None,
        two_factor_rule=two_factor.requirement().value,
    ), (429 if locked else 200)


@bp.route("/login/code", methods=["GET", "POST"])
@limit_failures_per_address
def login_code() -> Any:
    """The second factor: a code from the authenticator app, or a recovery code."""
    pending = session.get(PENDING_KEY)
    user = _pending_user(pending)
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    locked = False
    if form.validate_on_submit():
        refusal = check_second_factor(user, form.code.data or "")
        if refusal is None:
            after = pending.get("n") if isinstance(pending, dict) else None
            return _complete_sign_in(user, after, two_factor_passed=True)
        mark_failed()
        db.session.commit()
        locked = refusal is SignInRefusal.LOCKED
        if locked:
            session.pop(PENDING_KEY, None)
        else:
            add_error(form.code, _("This code is not right, or it was used already."))
    return render_template(
        "auth/code.html", form=form, locked_message=locked_message() if locked else None
    ), (429 if locked else 200)


def _pending_user(pending: Any) -> User | None:
    if not isinstance(pending, dict) or not isinstance(pending.get("u"), int):
        return None
    if time.time() - float(pending.get("t", 0)) > PENDING_SECONDS:
        return None
    user = user_or_none(pending["u"])
    return user if user is not None and user.active and user.has_two_factor else None


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Sign out: the session ends on the server too."""
    record(SignedOut(), current_user._get_current_object(), actor_id=current_user.id)
    end_session(EndReason.SIGNED_OUT)
    db.session.commit()
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
    return redirect(safe_next(form.next.data) or url_for("auth.index"))


def _set_password_page(token: str, purpose: LinkPurpose) -> Any:
    try:
        link = find_link(token, purpose)
    except LinkError as exc:
        return render_template("auth/link_invalid.html", message=str(exc), purpose=purpose), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        write = accept_invitation if purpose is LinkPurpose.INVITATION else reset_password
        try:
            user = write(token, form.password.data or "")
        except PasswordRefused as exc:
            db.session.rollback()
            add_error(form.password, str(exc))
        except LinkError as exc:  # used meanwhile in another tab
            db.session.rollback()
            return render_template("auth/link_invalid.html", message=str(exc), purpose=purpose), 410
        else:
            db.session.commit()
            flash(_("Your password is set."), "success")
            return _sign_in_or_ask(user, None)
    return render_template(
        "auth/set_password.html", form=form, user=link.user, purpose=purpose.value
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str) -> Any:
    """First visit of an invited user: set a password, then sign in."""
    return _set_password_page(token, LinkPurpose.INVITATION)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    """Choose a new password through a link sent by e-mail."""
    return _set_password_page(token, LinkPurpose.PASSWORD_RESET)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limit_requests_per_address("PASSWORD_RESET_ADDRESS_LIMIT")
def forgot_password() -> Any:
    """Ask for a password-reset link; the answer is the same whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").lower()
        user = find_user(email)
        if user is not None and user.active and allow_mail_to(email):
            _send_reset_link(user)
        else:
            record(ResetLinkRefused(email=email), user, actor_id=None)
            db.session.commit()
        hours = int(current_app.config["PASSWORD_RESET_VALID_HOURS"])
        flash(
            _(
                "If an account exists for %(email)s, a link to choose a new password is on its "
                "way. It works once, for %(hours)d hours.",
                email=email,
                hours=hours,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _send_reset_link(user: User) -> None:
    token = issue_link(user, LinkPurpose.PASSWORD_RESET)
    hours = int(current_app.config["PASSWORD_RESET_VALID_HOURS"])
    with in_language_of(user):
        subject = _("Choose a new password")
        body = _(
            "Hello %(name)s,\n\nsomeone (we hope you) asked to choose a new password for "
            "%(email)s. Open this link within %(hours)d hours; it works once:\n\n%(url)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.",
            name=user.name,
            email=user.email,
            hours=hours,
            url=link_url(token, LinkPurpose.PASSWORD_RESET),
        )
    try:
        send_mail(user.email, subject, body, to_name=user.name)
    except MailError:
        # Same answer as for an unknown address: the page must not tell who has an account.
        db.session.rollback()
        current_app.logger.error("password reset mail to user %s not sent", user.id)
        return
    db.session.commit()


@bp.before_app_request
def _load_signed_in_user() -> Response | None:
    """Check the server-side session once per request, and send a coordinator who must use
    two-factor sign-in and has not set it up to the set-up page before anything else."""
    if request.endpoint is None or request.endpoint.endswith("static"):
        return None
    from .sessions import load_session_user

    user = load_session_user()
    g.session_user = user
    if (
        user is not None
        and request.endpoint not in OPEN_BEFORE_ENROLMENT
        and two_factor.is_required_for(user)
        and not user.has_two_factor
    ):
        return redirect(url_for("auth.two_factor_setup"))
    return None


# Pages a user who must still enrol in two-factor sign-in may open.
OPEN_BEFORE_ENROLMENT = frozenset(
    {"auth.two_factor_setup", "auth.logout", "auth.set_language", "auth.index", "auth.login"}
)
