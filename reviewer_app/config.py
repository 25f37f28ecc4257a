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
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # argon2-cffi profile name
    WTF_CSRF_TIME_LIMIT = (
        None  # tied to the session instead: a long review must not expire its form
    )
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "de")
    BOOTSTRAP_SERVE_LOCAL = True
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
    INVITATION_VALID_DAYS = 14
    MAIL_SERVER: str | None = None  # None: write mail to the console and instance/outbox/
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "reviewer_app <noreply@localhost>"
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"


ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "PUBLIC_BASE_URL",
)


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config["REVIEWER_APP_MODE"] = os.environ.get(
        "REVIEWER_APP_MODE", app.config["REVIEWER_APP_MODE"]
    )
    for key in ENVIRONMENT_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if os.environ.get("MAIL_PORT"):
        app.config["MAIL_PORT"] = int(os.environ["MAIL_PORT"])
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

    if not app.config.get("SECRET_KEY"):
        if app.config["REVIEWER_APP_MODE"] not in RELAXED_MODES:
            raise ConfigError(
                "SECRET_KEY is not set: export SECRET_KEY=<a long random string> "
                "(or REVIEWER_APP_MODE=demo for a local demo)."
            )
        app.config["SECRET_KEY"] = _instance_secret(instance)


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
