from __future__ import annotations

import subprocess
import sys

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reviewer_app import create_app
from reviewer_app.config import ConfigError, normalise_database_url


def test_production_refuses_to_start_without_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("REVIEWER_APP_MODE", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_cli_says_so_in_one_line_without_traceback(tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "REVIEWER_APP_MODE": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = subprocess.run(
        [sys.executable, "-m", "reviewer_app.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_url_normalised_for_psycopg() -> None:
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_with_foreign_keys_and_wal(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    from sqlalchemy import text

    from reviewer_app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_session_cookie_is_httponly_and_lax(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    user = make_user("expert")
    login_as(user)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_bootstrap_is_served_from_the_package(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "cdn.jsdelivr" not in page
    assert "/bootstrap/static/" in page
    css = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_help_lists_commands_without_configuration(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "REVIEWER_APP_MODE": "production", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "reviewer_app.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0
    for command in ("criteria", "db", "demo", "run"):
        assert f"  {command} " in result.stdout
    assert "Error" not in result.stderr


def test_an_unexpected_error_is_one_line_with_the_details_in_a_file(tmp_path) -> None:
    # A database URL that SQLAlchemy cannot parse fails inside the command, not in click.
    env = {
        "PATH": "/usr/bin:/bin",
        "REVIEWER_APP_MODE": "development",
        "HOME": str(tmp_path),
        "DATABASE_URL": "nosuchdriver://x",
        "TMPDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "reviewer_app.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 70, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: an unexpected")
    details = list(tmp_path.glob("reviewer-app-error-*.txt"))
    assert len(details) == 1 and "Traceback" in details[0].read_text()


def test_every_page_has_an_icon_that_is_served(client) -> None:  # type: ignore[no-untyped-def]
    import re

    page = client.get("/login").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page)
    assert icon is not None
    served = client.get(icon.group(1))
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    assert served.data.startswith(b"<svg")
