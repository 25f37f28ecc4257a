"""Sign-in throttling, on Flask-Limiter and its storage (Redis with REDIS_URL, else memory).

Two limits (OWASP ASVS 2.2.1):
- per account: after ``LOGIN_FAILURES_PER_ACCOUNT`` failed sign-ins within
  ``LOGIN_FAILURE_WINDOW_MINUTES``, the account's sign-ins are refused for
  ``LOGIN_LOCK_MINUTES``, whatever the password. The key is the e-mail as typed (normalised), so
  an address without an account is locked the same way and the answer never tells whether an
  account exists;
- per address: ``SIGN_IN_ADDRESS_LIMIT`` failed attempts from one IP address (the decorator
  ``limit_failures_per_address``), against one machine trying many accounts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, g
from limits import RateLimitItem, parse

from ..extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])

_FAILURES = "sign-in-failures"
_LOCK = "sign-in-lock"


def _key(email: str) -> str:
    # A hash: the storage (Redis) need not hold the addresses people typed.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _failure_limit() -> RateLimitItem:
    config = current_app.config
    return parse(
        f"{int(config['LOGIN_FAILURES_PER_ACCOUNT'])} per "
        f"{int(config['LOGIN_FAILURE_WINDOW_MINUTES'])} minutes"
    )


def _lock_limit() -> RateLimitItem:
    return parse(f"1 per {int(current_app.config['LOGIN_LOCK_MINUTES'])} minutes")


def _prefix() -> str:
    return str(current_app.config.get("RATELIMIT_KEY_PREFIX", ""))


def _counting() -> bool:
    """False when rate limiting is switched off (``RATELIMIT_ENABLED = False``): then nothing
    is counted and no account is locked, instead of every sign-in failing."""
    return bool(limiter.enabled)


def account_locked(email: str) -> bool:
    """True while sign-ins of this e-mail are refused."""
    if not _counting():
        return False
    return not limiter.limiter.test(_lock_limit(), _prefix(), _LOCK, _key(email))


def note_failure(email: str) -> bool:
    """Count a failed sign-in (password or code); True if the account is locked from now on."""
    if not _counting():
        return False
    key = _key(email)
    failures = _failure_limit()
    limiter.limiter.hit(failures, _prefix(), _FAILURES, key)
    if limiter.limiter.test(failures, _prefix(), _FAILURES, key):
        return False
    limiter.limiter.hit(_lock_limit(), _prefix(), _LOCK, key)
    limiter.limiter.clear(failures, _prefix(), _FAILURES, key)
    return True


def clear_failures(email: str) -> None:
    """A successful sign-in forgets the earlier failures (not a running lock)."""
    if _counting():
        limiter.limiter.clear(_failure_limit(), _prefix(), _FAILURES, _key(email))


def mark_failed() -> None:
    """Tell the per-address limit that this request was a failed attempt."""
    g.sign_in_failed = True


def _failed(_response: Response) -> bool:
    return bool(g.get("sign_in_failed", False))


def limit_failures_per_address(view: F) -> F:
    """Answer 429 once an address has had too many failed attempts (POST only)."""
    limited = limiter.limit(
        lambda: str(current_app.config["SIGN_IN_ADDRESS_LIMIT"]),
        methods=["POST"],
        deduct_when=_failed,
        scope="sign-in-address",
    )(view)
    return cast(F, limited)


def limit_requests_per_address(limit_key: str) -> Callable[[F], F]:
    """A plain per-address limit on POSTs (forgotten-password mails), read from the config."""

    def decorator(view: F) -> F:
        limited = limiter.limit(
            lambda: str(current_app.config[limit_key]), methods=["POST"], scope=limit_key
        )(view)
        return cast(F, limited)

    return decorator


def allow_mail_to(email: str) -> bool:
    """At most ``PASSWORD_RESET_MAILS_PER_HOUR`` reset mails to one address (silently)."""
    limit = parse(f"{int(current_app.config['PASSWORD_RESET_MAILS_PER_HOUR'])} per hour")
    return limiter.limiter.hit(limit, _prefix(), "reset-mail", _key(email))
