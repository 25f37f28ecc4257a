"""Sessions end on the server: sign-out, idle and absolute timeouts, a new id at sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reviewer_app import create_app
from reviewer_app.extensions import db
from reviewer_app.models import Role, UserSession

from ..conftest import PASSWORD


def session_cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def browser_with(app: Flask, cookie: str) -> FlaskClient:
    """Another browser, holding a copy of ``cookie``."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return thief


def test_signing_out_ends_a_copied_cookie(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    login_as(make_user("expert"))
    copied = session_cookie(client, app)
    assert browser_with(app, copied).get("/expert/").status_code == 200
    client.post("/logout")
    replay = browser_with(app, copied).get("/expert/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    [row] = db.session.scalars(select(UserSession))
    assert row.ended_at is not None and row.end_reason == "signed_out"


def test_a_sign_in_gets_a_new_session_id(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    user = make_user("expert")
    client.post("/language", data={"language": "de", "next": "/login"})
    before = session_cookie(client, app)
    login_as(user)
    first = session_cookie(client, app)
    assert first != before
    login_as(user)  # signing in again in the same browser
    second = session_cookie(client, app)
    assert second != first
    assert browser_with(app, first).get("/expert/").status_code == 302  # the old one ended
    assert client.get("/expert/").status_code == 200
    assert 'lang="de"' in client.get("/expert/").get_data(as_text=True)  # the choice survives


@pytest.mark.parametrize(
    ("role", "page", "minutes"),
    [
        (Role.COORDINATOR, "/calls/", 30),
        (Role.OBSERVER, "/calls/", 30),
        (Role.EXPERT, "/expert/", 120),
    ],
)
def test_an_idle_session_ends(
    app: Flask, client: FlaskClient, make_user, login_as, role: Role, page: str, minutes: int
) -> None:
    key = "EXPERT_SESSION_IDLE_MINUTES" if role is Role.EXPERT else "SESSION_IDLE_MINUTES"
    assert app.config[key] == minutes
    login_as(make_user(role))
    row = db.session.scalar(select(UserSession))
    row.last_seen_at -= timedelta(minutes=minutes - 1)
    db.session.commit()
    assert client.get(page).status_code == 200  # still within the timeout; activity counts
    db.session.refresh(row)
    row.last_seen_at -= timedelta(minutes=minutes + 1)
    db.session.commit()
    response = client.get(page)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.refresh(row)
    assert row.end_reason == "idle"
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session ended after a while without activity" in login_page


def test_a_session_ends_after_the_absolute_timeout(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    login_as(make_user("expert"))
    row = db.session.scalar(select(UserSession))
    row.created_at -= timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    db.session.commit()
    assert client.get("/expert/").status_code == 302
    db.session.refresh(row)
    assert row.end_reason == "expired"


def test_a_deactivated_account_loses_its_session(client: FlaskClient, make_user, login_as) -> None:
    user = make_user("expert")
    login_as(user)
    user.active = False
    db.session.commit()
    assert client.get("/expert/").status_code == 302


def test_changing_the_password_ends_the_other_sessions(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    user = make_user("expert")
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD})
    login_as(user)
    response = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "orbit lantern pickle",
            "confirm": "orbit lantern pickle",
        },
    )
    assert response.status_code == 302
    assert client.get("/expert/").status_code == 200  # this browser stays signed in
    assert laptop.get("/expert/").status_code == 302  # the other one is out


def test_signing_out_elsewhere(app: Flask, client: FlaskClient, make_user, login_as) -> None:
    user = make_user("observer")
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    login_as(user)
    page = client.post("/account/sessions/end-others", follow_redirects=True)
    assert "1 other sessions" in page.get_data(as_text=True)
    assert phone.get("/calls/").status_code == 302
    assert client.get("/calls/").status_code == 200


@pytest.mark.parametrize(
    ("mode", "secure", "name"),
    [("production", True, "__Host-session"), ("demo", False, "session")],
)
def test_the_session_cookie_is_secure_outside_demo_and_development(
    tmp_path, monkeypatch: pytest.MonkeyPatch, mode: str, secure: bool, name: str
) -> None:
    monkeypatch.setenv("REVIEWER_APP_MODE", mode)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_NAME"] == name
    client = app.test_client()
    response = client.get("/login", base_url="https://reviewer.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{name}=")
    assert ("Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_secure_can_be_set_in_the_environment(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWER_APP_MODE", "production")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is False
