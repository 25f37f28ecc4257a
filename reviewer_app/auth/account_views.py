"""The signed-in user's own account: password, two-factor sign-in, other sessions."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.events import (
    OtherSessionsEnded,
    RecoveryCodesRenewed,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from ..extensions import db
from ..formhelpers import add_error
from ..mail import MailError, in_language_of, send_mail
from ..models import User
from ..models.audit import record
from . import bp, two_factor
from .forms import ChangePasswordForm, CodeForm, ConfirmFactorsForm
from .services import (
    PasswordRefused,
    SignInRefusal,
    change_password,
    confirm_identity,
    locked_message,
)
from .sessions import EndReason, end_other_sessions, mark_two_factor_passed

SETUP_SECRET_KEY = "two_factor_setup_secret"


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _account_page(**forms: Any) -> Any:
    user = _user()
    return render_template(
        "auth/account.html",
        password_form=forms.get("password_form") or ChangePasswordForm(),
        confirm_form=forms.get("confirm_form") or ConfirmFactorsForm(),
        two_factor_required=two_factor.is_required_for(user),
        codes_left=two_factor.recovery_codes_left(user) if user.has_two_factor else 0,
    )


@bp.route("/account")
@login_required
def account() -> Any:
    """The user's own account page."""
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_own_password() -> Any:
    """Change the password; every other session of the account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(_user(), form.current.data or "", form.password.data or "")
        except PasswordRefused as exc:
            db.session.rollback()
            add_error(form[exc.field or "password"], str(exc))
        else:
            db.session.commit()
            _notify(_user(), "password")
            flash(
                _("Your password is changed. Other sessions of your account are signed out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(password_form=form), 422


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_own_sessions() -> Any:
    """Sign out every other browser of this account."""
    ended = end_other_sessions(_user(), EndReason.SIGNED_OUT, keep_current=True)
    record(OtherSessionsEnded(count=ended), _user(), actor_id=current_user.id)
    db.session.commit()
    flash(_("Signed out elsewhere: %(count)d other sessions.", count=ended), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup() -> Any:
    """Set up two-factor sign-in: scan the QR code, confirm with a code, keep the recovery codes."""
    user = _user()
    if user.has_two_factor:
        return redirect(url_for("auth.account"))
    secret = session.get(SETUP_SECRET_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = two_factor.new_secret()
        session[SETUP_SECRET_KEY] = secret
    form = CodeForm()
    if form.validate_on_submit():
        step = two_factor.enrolment_step(secret, form.code.data or "")
        if step is not None:
            codes = two_factor.enable(user, secret, step)
            # Sessions signed in with the password alone end; this one has shown the code.
            ended = end_other_sessions(user, EndReason.TWO_FACTOR_CHANGED, keep_current=True)
            mark_two_factor_passed()
            record(TwoFactorEnabled(other_sessions_ended=ended), user, actor_id=user.id)
            db.session.commit()
            session.pop(SETUP_SECRET_KEY, None)
            _notify(user, "two_factor_on")
            return render_template("auth/recovery_codes.html", codes=codes, first_time=True)
        add_error(
            form.code,
            _("This code does not match. Check the time on your phone and type the newest code."),
        )
    uri = two_factor.provisioning_uri(user, secret)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr_svg=two_factor.qr_code_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=two_factor.is_required_for(user),
    )


def _confirmed(form: ConfirmFactorsForm) -> bool:
    """Password and a current code, counted towards the sign-in lock; errors go on the form."""
    if not form.validate_on_submit():
        return False
    refusal = confirm_identity(_user(), form.password.data or "", form.code.data or "")
    if refusal is None:
        return True
    db.session.commit()  # the failure's audit and count
    if refusal is SignInRefusal.LOCKED:
        add_error(form.password, locked_message())
    else:
        add_error(
            form.code, _("The password or the code is not right, or the code was used already.")
        )
    return False


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes() -> Any:
    """Replace the recovery codes (password and a current code confirm it is the user)."""
    user = _user()
    if not user.has_two_factor:
        return redirect(url_for("auth.account"))
    form = ConfirmFactorsForm()
    if _confirmed(form):
        codes = two_factor.new_recovery_codes(user)
        record(RecoveryCodesRenewed(), user, actor_id=user.id)
        db.session.commit()
        _notify(user, "recovery_codes")
        return render_template("auth/recovery_codes.html", codes=codes, first_time=False)
    return _account_page(confirm_form=form), 422


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor() -> Any:
    """Turn two-factor sign-in off, where the server does not require it."""
    user = _user()
    if two_factor.is_required_for(user):
        flash(_("Two-factor sign-in is required for your role and stays on."), "warning")
        return redirect(url_for("auth.account"))
    if not user.has_two_factor:
        return redirect(url_for("auth.account"))
    form = ConfirmFactorsForm()
    if _confirmed(form):
        two_factor.disable(user)
        ended = end_other_sessions(user, EndReason.TWO_FACTOR_CHANGED, keep_current=True)
        record(TwoFactorDisabled(other_sessions_ended=ended), user, actor_id=user.id)
        db.session.commit()
        _notify(user, "two_factor_off")
        flash(_("Two-factor sign-in is off."), "info")
        return redirect(url_for("auth.account"))
    return _account_page(confirm_form=form), 422


def _notify(user: User, what: str) -> None:
    """Tell the account's owner by e-mail that a sign-in factor changed (ASVS 2.2.3)."""
    with in_language_of(user):
        subject, event = {
            "password": (
                _("Your password was changed"),
                _("The password of %(email)s was changed.", email=user.email),
            ),
            "two_factor_on": (
                _("Two-factor sign-in is on"),
                _("Two-factor sign-in was turned on for %(email)s.", email=user.email),
            ),
            "two_factor_off": (
                _("Two-factor sign-in is off"),
                _("Two-factor sign-in was turned off for %(email)s.", email=user.email),
            ),
            "recovery_codes": (
                _("New recovery codes"),
                _(
                    "New recovery codes were made for %(email)s; the earlier ones no longer work.",
                    email=user.email,
                ),
            ),
        }[what]
        body = _(
            "Hello %(name)s,\n\n%(event)s\n\nIf this was not you, tell the coordinator of "
            "your call at once.",
            name=user.name,
            event=event,
        )
    try:
        send_mail(user.email, subject, body, to_name=user.name)
    except MailError:
        current_app.logger.error("notice to user %s not sent", user.id)
