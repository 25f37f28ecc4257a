"""Audit events of accounts: invitations, sign-in, passwords, two-factor sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from .data import AuditData


class SignInFailure(StrEnum):
    PASSWORD = "password"
    CODE = "code"
    LOCKED = "locked"
    WRONG = "wrong"  # re-authentication on the account page


@dataclass(frozen=True)
class UserCreated(AuditData):
    action = "user.create"
    label = _l("Account created")
    email: str
    role: str


@dataclass(frozen=True)
class UserInvited(AuditData):
    action = "user.invite"
    label = _l("Invitation sent")
    email: str
    earlier_links_ended: int = 0


@dataclass(frozen=True)
class ResetLinkSent(AuditData):
    action = "user.password_reset_link"
    label = _l("Password reset link sent")
    email: str
    earlier_links_ended: int = 0


@dataclass(frozen=True)
class ResetLinkRefused(AuditData):
    """A reset asked for an unknown or inactive address, or over the hourly limit."""

    action = "user.password_reset_refused"
    label = _l("Password reset refused")
    email: str


@dataclass(frozen=True)
class InvitationAccepted(AuditData):
    action = "user.accept_invitation"
    label = _l("Invitation accepted")
    sessions_ended: int = 0


@dataclass(frozen=True)
class PasswordReset(AuditData):
    action = "user.password_reset"
    label = _l("Password reset")
    sessions_ended: int = 0


@dataclass(frozen=True)
class PasswordChanged(AuditData):
    action = "user.password_change"
    label = _l("Password changed")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class SignedIn(AuditData):
    action = "user.login"
    label = _l("Signed in")
    two_factor: bool = False


@dataclass(frozen=True)
class SignInFailed(AuditData):
    action = "user.login_failed"
    label = _l("Sign-in failed")
    email: str
    reason: SignInFailure
    locked_now: bool = False


@dataclass(frozen=True)
class ReauthenticationFailed(AuditData):
    action = "user.reauth_failed"
    label = _l("Password check failed")
    reason: SignInFailure
    locked_now: bool = False


@dataclass(frozen=True)
class SignedOut(AuditData):
    action = "user.logout"
    label = _l("Signed out")


@dataclass(frozen=True)
class OtherSessionsEnded(AuditData):
    action = "user.sessions_ended"
    label = _l("Sessions ended")
    count: int


@dataclass(frozen=True)
class RecoveryCodeUsed(AuditData):
    action = "user.recovery_code_used"
    label = _l("Recovery code used")
    left: int


@dataclass(frozen=True)
class RecoveryCodesRenewed(AuditData):
    action = "user.recovery_codes_renewed"
    label = _l("Recovery codes renewed")


@dataclass(frozen=True)
class TwoFactorEnabled(AuditData):
    action = "user.two_factor_enable"
    label = _l("Two-factor sign-in turned on")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class TwoFactorDisabled(AuditData):
    action = "user.two_factor_disable"
    label = _l("Two-factor sign-in turned off")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class TwoFactorReset(AuditData):
    action = "user.two_factor_reset"
    label = _l("Two-factor sign-in reset")
    sessions_ended: int = 0
