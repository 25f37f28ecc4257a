"""Two-factor sign-in: TOTP (RFC 6238, through pyotp) and single-use recovery codes.

A code is accepted for the current 30-second step and one step either side (clock drift), and
never twice: the last accepted step is kept on the user. Recovery codes are random (80 bits),
shown once, stored as SHA-256 hashes, and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from enum import StrEnum

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..models import RecoveryCode, Role, User, utcnow

RECOVERY_CODE_COUNT = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are typed by hand


class Requirement(StrEnum):
    """Who must use two-factor sign-in (``TWO_FACTOR_REQUIRED_FOR``)."""

    COORDINATOR = "coordinator"
    ALL = "all"
    NONE = "none"


def requirement() -> Requirement:
    return Requirement(current_app.config["TWO_FACTOR_REQUIRED_FOR"])


def is_required_for(user: User) -> bool:
    rule = requirement()
    return rule is Requirement.ALL or (
        rule is Requirement.COORDINATOR and user.role is Role.COORDINATOR
    )


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    issuer = str(current_app.config["TWO_FACTOR_ISSUER"])
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (no image file, nothing sent anywhere)."""
    # Imported here: qrcode brings Pillow, which nothing else needs.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return Markup(svg)


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def is_code_shaped(code: str) -> bool:
    """Six ASCII digits (an authenticator's code) rather than a recovery code."""
    code = _normalise(code)
    return len(code) == 6 and code.isascii() and code.isdigit()


def _matching_step(secret: str, code: str, after_step: int | None) -> int | None:
    code = _normalise(code)
    # ASCII only: str.isdigit() also accepts "١٢٣٤٥٦" or "１２３４５６", which compare_digest refuses.
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if after_step is not None and step <= after_step:
            continue  # used already: a code seen over a shoulder must not work again
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enrolment_step(secret: str, code: str) -> int | None:
    """For enrolment: the time step of ``code`` if the new authenticator's code matches."""
    return _matching_step(secret, code, None)


def verify_code(user: User, code: str) -> bool:
    """A current TOTP code of ``user``, not used before; marks it used."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return False
    # Guarded: of two requests racing with one code, only one moves the step on.
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["totp_last_step"])
    return getattr(claimed, "rowcount", 0) == 1


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True, once, for each of the user's recovery codes."""
    if len(_normalise(code)) != 16:
        return False
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    # Guarded: of two requests racing with one code, only one uses it.
    claimed = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(row)
    return getattr(claimed, "rowcount", 0) == 1


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def enable(user: User, secret: str, step: int) -> list[str]:
    """Turn two-factor sign-in on with a ``secret`` confirmed by the code of ``step`` (which is
    then used up); returns new recovery codes."""
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    return new_recovery_codes(user)


def disable(user: User) -> None:
    """Turn it off (the user's choice where allowed, or ``users reset-2fa``)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
