"""Sign-in, password changes and resets: the verbs the auth views and the CLI call.

Views commit; these functions add and flush. Every outcome that matters to an auditor (a sign-in,
a failed one, a lock, a password change or reset, two-factor changes) is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.events import (
    InvitationAccepted,
    PasswordChanged,
    PasswordReset,
    ReauthenticationFailed,
    RecoveryCodeUsed,
    SignedIn,
    SignInFailed,
    SignInFailure,
    TwoFactorReset,
)
from ..errors import DomainError
from ..extensions import db
from ..models import LinkPurpose, User, utcnow
from ..models.audit import record
from . import throttle, two_factor
from .links import find_link, use_link
from .passwords import hash_password, needs_rehash, password_problem, verify_password
from .sessions import EndReason, end_other_sessions


class PasswordRefused(DomainError):
    """The new password breaks a rule, or the current one is wrong; the message says which."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(message, field)  # the form field the message belongs beside


def locked_message() -> str:
    return str(
        _(
            "Too many failed sign-ins for this account. Sign-in is paused for %(minutes)d minutes, "
            "whatever the password. If you forgot it, ask for a new one below.",
            minutes=int(current_app.config["LOGIN_LOCK_MINUTES"]),
        )
    )


class SignInRefusal(StrEnum):
    WRONG = "wrong"  # e-mail or password (never which)
    LOCKED = "locked"  # too many failures: refused whatever the password


@dataclass(frozen=True)
class SignInAttempt:
    """The outcome of checking an e-mail and password."""

    user: User | None
    refusal: SignInRefusal | None


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def check_new_password(user: User | None, password: str) -> None:
    """:raises PasswordRefused: the password breaks a rule."""
    inputs = (user.email, user.name) if user is not None else ()
    problem = password_problem(password, user_inputs=inputs)
    if problem is not None:
        raise PasswordRefused(problem.message)


def check_password(email: str, password: str) -> SignInAttempt:
    """The first factor: the account's password, behind the per-account lock.

    A wrong password and an unknown e-mail get the same answer after the same work, and both
    count towards the lock, so neither the answer nor its timing tells whether an account exists.
    """
    email = email.strip().lower()
    if throttle.account_locked(email):
        record(
            SignInFailed(email=email, reason=SignInFailure.LOCKED), find_user(email), actor_id=None
        )
        return SignInAttempt(None, SignInRefusal.LOCKED)
    user = find_user(email)
    usable = user is not None and user.active and user.password_hash is not None
    if not verify_password(user.password_hash if usable and user else None, password):
        locked = throttle.note_failure(email)
        record(
            SignInFailed(email=email, reason=SignInFailure.PASSWORD, locked_now=locked),
            user,
            actor_id=None,
        )
        return SignInAttempt(None, SignInRefusal.LOCKED if locked else SignInRefusal.WRONG)
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInAttempt(user, None)


def check_second_factor(user: User, code: str) -> SignInRefusal | None:
    """A TOTP code or a recovery code; failures count towards the same lock as passwords."""
    if throttle.account_locked(user.email):
        record(SignInFailed(email=user.email, reason=SignInFailure.LOCKED), user, actor_id=None)
        return SignInRefusal.LOCKED
    if two_factor.verify_code(user, code):
        return None
    if two_factor.use_recovery_code(user, code):
        record(RecoveryCodeUsed(left=two_factor.recovery_codes_left(user)), user, actor_id=None)
        return None
    locked = throttle.note_failure(user.email)
    record(
        SignInFailed(email=user.email, reason=SignInFailure.CODE, locked_now=locked),
        user,
        actor_id=None,
    )
    return SignInRefusal.LOCKED if locked else SignInRefusal.WRONG


def confirm_identity(user: User, password: str, code: str | None = None) -> SignInRefusal | None:
    """A signed-in user proves again who they are before changing how they sign in: the
    password, and a current code where ``code`` is asked for. Failures count towards the same
    lock as sign-ins, so a session left open is no tool for guessing the password."""
    if throttle.account_locked(user.email):
        record(ReauthenticationFailed(reason=SignInFailure.LOCKED), user, actor_id=user.id)
        return SignInRefusal.LOCKED
    confirmed = verify_password(user.password_hash, password)
    if confirmed and code is not None:
        confirmed = two_factor.verify_code(user, code)
    if confirmed:
        return None
    locked = throttle.note_failure(user.email)
    record(
        ReauthenticationFailed(reason=SignInFailure.WRONG, locked_now=locked),
        user,
        actor_id=user.id,
    )
    return SignInRefusal.LOCKED if locked else SignInRefusal.WRONG


def signed_in(user: User) -> None:
    """Book-keeping of a completed sign-in (the view starts the session)."""
    throttle.clear_failures(user.email)
    user.last_seen_at = utcnow()
    record(SignedIn(two_factor=user.has_two_factor), user, actor_id=user.id)


def change_password(user: User, current: str, new: str) -> None:
    """Change the signed-in user's password; every other session of theirs ends.

    :raises PasswordRefused: the current password is wrong, or the new one breaks a rule.
    """
    refusal = confirm_identity(user, current)
    if refusal is SignInRefusal.LOCKED:
        raise PasswordRefused(locked_message(), field="current")
    if refusal is not None:
        raise PasswordRefused(_("The current password is not right."), field="current")
    if verify_password(user.password_hash, new):
        raise PasswordRefused(_("The new password is the one you have now."))
    check_new_password(user, new)
    set_password(user, new)
    ended = end_other_sessions(user, EndReason.PASSWORD_CHANGED, keep_current=True)
    record(PasswordChanged(other_sessions_ended=ended), user, actor_id=user.id)


def accept_invitation(token: str, password: str) -> User:
    """Set the first password through an invitation link (which ends every other link).

    :raises LinkError: the link is unknown, used, replaced or expired.
    :raises PasswordRefused: the password breaks a rule.
    """
    user = _user_of_link(token, LinkPurpose.INVITATION)
    check_new_password(user, password)
    use_link(token, LinkPurpose.INVITATION)
    had_password = user.password_hash is not None
    set_password(user, password)
    # A link for an account that had a password replaces it: its sessions end, as on a reset.
    ended = end_other_sessions(user, EndReason.PASSWORD_CHANGED) if had_password else 0
    record(InvitationAccepted(sessions_ended=ended), user, actor_id=user.id)
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; every session of the account ends.

    :raises LinkError: the link is unknown, used, replaced or expired.
    :raises PasswordRefused: the password breaks a rule.
    """
    user = _user_of_link(token, LinkPurpose.PASSWORD_RESET)
    check_new_password(user, password)
    use_link(token, LinkPurpose.PASSWORD_RESET)
    set_password(user, password)
    ended = end_other_sessions(user, EndReason.PASSWORD_CHANGED)
    record(PasswordReset(sessions_ended=ended), user, actor_id=user.id)
    return user


def _user_of_link(token: str, purpose: LinkPurpose) -> User:
    return find_link(token, purpose).user


def reset_two_factor(user: User, actor: User | None = None) -> int:
    """Turn two-factor sign-in off for a locked-out user and end their sessions (CLI)."""
    two_factor.disable(user)
    ended = end_other_sessions(user, EndReason.TWO_FACTOR_CHANGED)
    record(TwoFactorReset(sessions_ended=ended), user, actor_id=actor.id if actor else None)
    return ended
