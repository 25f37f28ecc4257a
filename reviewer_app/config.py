"""Configuration: package defaults, then the instance folder's config.py, then the environment.

The environment wins because that is how operators configure a deployment; explicit overrides
passed to ``create_app`` (tests, the demo) win over everything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import NoAppException

from .languages import DEFAULT_LANGUAGE, LANGUAGES

# Modes in which a missing SECRET_KEY is tolerated: a random one is made and kept in instance/.
RELAXED_MODES = frozenset({"demo", "development", "test"})


class ConfigError(NoAppException):
    """The configuration cannot work; the CLI prints the message as one line, no traceback."""


class Defaults:
    REVIEWER_APP_MODE = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: decided by the mode (Secure everywhere but demo, development and tests); see below.
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The cookie lives as long as the longest session may; the server-side row decides sooner.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_MAX_HOURS = 12  # a new sign-in at least every 12 hours (ASVS 3.3.2)
    SESSION_IDLE_MINUTES = 30  # coordinators and observers
    EXPERT_SESSION_IDLE_MINUTES = 120  # experts read long proposals; their typed text is kept
    # Sign-in throttling (auth.throttle); storage in Redis when REDIS_URL is set.
    REDIS_URL: str | None = None
    RATELIMIT_KEY_PREFIX = "reviewer_app"
    LOGIN_FAILURES_PER_ACCOUNT = 5
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_LOCK_MINUTES = 15
    SIGN_IN_ADDRESS_LIMIT = "30 per 15 minutes"  # failed attempts from one IP address
    PASSWORD_RESET_ADDRESS_LIMIT = "10 per hour"
    PASSWORD_RESET_MAILS_PER_HOUR = 3
    PASSWORD_RESET_VALID_HOURS = 2
    # Two-factor sign-in: "coordinator", "all" or "none"; None means the mode's default.
    TWO_FACTOR_REQUIRED_FOR: str | None = None
    TWO_FACTOR_ISSUER = "reviewer_app"
    # Input posted after a session expired (auth.stash).
    STASH_VALID_HOURS = 24
    STASH_MAX_CHARS = 200_000
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0: none, direct).
    TRUSTED_PROXIES = 0
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # argon2-cffi profile name
    WTF_CSRF_TIME_LIMIT = (
        None  # tied to the session instead: a long review must not expire its form
    )
    BABEL_DEFAULT_LOCALE = DEFAULT_LANGUAGE
    LANGUAGES = LANGUAGES
    BOOTSTRAP_SERVE_LOCAL = True
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
    INVITATION_VALID_DAYS = 14
    MAIL_SERVER: str | None = None  # None: write mail to the console and instance/outbox/
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    # The name people read in the header, the window title and e-mails (a site may brand it).
    PRODUCT_NAME = "Reviewer App"
    MAIL_SENDER = "Reviewer App <noreply@localhost>"
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Large reports are made in the background (reports/jobs.py): "rq" (RQ workers on Redis,
    # `reviewer-app worker`), "thread" (a thread of the app server) or "inline" (in the
    # request). None: "rq" when REDIS_URL is set, else "thread".
    REPORT_JOBS: str | None = None
    REPORT_JOBS_QUEUE = "reviewer-app-reports"
    # A job not touched for this long lost its worker (a restart): the next request starts anew.
    REPORT_JOB_STALE_SECONDS = 1800
    # Processes that render a large call's feedback reports (reports/parallel.py).
    REPORT_PROCESSES = min(4, os.cpu_count() or 1)
    # The analytics page of a call with more proposals computes its figures as a report job
    # (a 10,000-proposal call takes about 5 s); a smaller call's come in the request.
    ANALYTICS_INLINE_PROPOSALS = 1000


ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "PRODUCT_NAME",
    "PUBLIC_BASE_URL",
    "REDIS_URL",
    "TWO_FACTOR_REQUIRED_FOR",
    "AUDIT_KEY",
    "REPORT_JOBS",
    "REPORT_JOBS_QUEUE",
)
# Read from the environment as whole numbers.
INTEGER_KEYS = (
    "MAIL_PORT",
    "SESSION_IDLE_MINUTES",
    "EXPERT_SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "TRUSTED_PROXIES",
    "REPORT_JOB_STALE_SECONDS",
    "REPORT_PROCESSES",
    "ANALYTICS_INLINE_PROPOSALS",
)
TWO_FACTOR_CHOICES = ("coordinator", "all", "none")
REPORT_JOB_CHOICES = ("rq", "thread", "inline")
# Modes served on a developer's own machine over plain http.
LOCAL_MODES = frozenset({"demo", "development", "test"})


def load_config(
    app: Flask, overrides: Mapping[str, Any] | None, *, require_secret: bool = True
) -> None:
    """Fill ``app.config``; ``require_secret=False`` lets ``check-config`` report a missing
    SECRET_KEY instead of stopping at it."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config["REVIEWER_APP_MODE"] = os.environ.get(
        "REVIEWER_APP_MODE", app.config["REVIEWER_APP_MODE"]
    )
    for key in ENVIRONMENT_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    for key in INTEGER_KEYS:
        if os.environ.get(key):
            app.config[key] = _integer(key, os.environ[key])
    if os.environ.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = _boolean(
            "SESSION_COOKIE_SECURE", os.environ["SESSION_COOKIE_SECURE"]
        )
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    if overrides:
        app.config.update(overrides)

    instance = Path(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'reviewer_app.db'}")
    app.config.setdefault("OUTBOX_DIR", str(instance / "outbox"))
    # The scheme files a coordinator picks from when creating a call.
    app.config.setdefault("CRITERIA_DIR", str(Path(app.root_path).parent / "criteria"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        instance.mkdir(parents=True, exist_ok=True)

    _mode_defaults(app)
    if not app.config.get("SECRET_KEY"):
        if app.config["REVIEWER_APP_MODE"] not in RELAXED_MODES:
            if not require_secret:
                return  # check-config reports it
            raise ConfigError(
                "SECRET_KEY is not set: export SECRET_KEY=<a long random string> "
                "(or REVIEWER_APP_MODE=demo for a local demo)."
            )
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _mode_defaults(app: Flask) -> None:
    """Settings whose safe value depends on the mode, unless set explicitly."""
    config = app.config
    local = config["REVIEWER_APP_MODE"] in LOCAL_MODES
    if config.get("SESSION_COOKIE_SECURE") is None:
        # Browsers send a Secure cookie over https only: the local demo is served over http.
        config["SESSION_COOKIE_SECURE"] = not local
    if config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_NAME"] == "session":
        # __Host-: the browser refuses the cookie unless Secure, for this host, on path /.
        config["SESSION_COOKIE_NAME"] = "__Host-session"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    if not config.get("TWO_FACTOR_REQUIRED_FOR"):
        config["TWO_FACTOR_REQUIRED_FOR"] = (
            "none" if config["REVIEWER_APP_MODE"] == "demo" else "coordinator"
        )
    rule = str(config["TWO_FACTOR_REQUIRED_FOR"]).strip().lower()
    if rule not in TWO_FACTOR_CHOICES:
        raise ConfigError(
            f"TWO_FACTOR_REQUIRED_FOR={config['TWO_FACTOR_REQUIRED_FOR']!r}: "
            f"use one of {', '.join(TWO_FACTOR_CHOICES)}."
        )
    config["TWO_FACTOR_REQUIRED_FOR"] = rule
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    jobs = config.get("REPORT_JOBS") or ("rq" if config.get("REDIS_URL") else "thread")
    jobs = str(jobs).strip().lower()
    if jobs not in REPORT_JOB_CHOICES:
        raise ConfigError(f"REPORT_JOBS={jobs!r}: use one of {', '.join(REPORT_JOB_CHOICES)}.")
    if jobs == "rq" and not config.get("REDIS_URL"):
        raise ConfigError("REPORT_JOBS=rq needs REDIS_URL (the queue lives in Redis).")
    config["REPORT_JOBS"] = jobs
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")


def _integer(key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{key}={value!r}: a whole number is needed.") from None
    if number < 0:
        raise ConfigError(f"{key}={value!r}: the number cannot be negative.")
    return number


def _boolean(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key}={value!r}: use true or false.")


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out (postgres://) and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _instance_secret(instance: Path) -> str:
    # Kept on disk so that demo sessions survive a restart of the server.
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
