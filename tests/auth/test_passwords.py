"""Password rules, changing one's password, and argon2id."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reviewer_app.auth.passwords import password_problem
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent

from ..conftest import PASSWORD

GOOD = "orbit lantern pickle"


@pytest.mark.parametrize(
    ("password", "inputs", "message"),
    [
        ("short pass1", (), "at least 12 characters"),
        ("aaaaaaaaaa", (), "at least 12 characters"),
        ("aaaaaaaaaaaa", (), "Repeated characters"),
        ("abcabcabcabc", (), "Repeated characters"),
        ("password1234", (), "lists of common passwords"),
        ("qwertyuiop12", (), "Sequences"),
        ("123456789012", (), "Sequences"),
        ("erikamustermann", ("erika.mustermann@example.org", "Erika Mustermann"), "your name"),
        ("Expert2Example!", ("expert2@example.org", "Jan de Vries"), "your name"),
        ("vries.jan.expert2", ("expert2@example.org", "Jan de Vries"), "your name"),
        ("x" * 201, (), "at most 200 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    app: Flask, password: str, inputs: tuple[str, ...], message: str
) -> None:
    with app.test_request_context():
        problem = password_problem(password, user_inputs=inputs)
    assert problem is not None and message in problem.message


@pytest.mark.parametrize(
    "password", [GOOD, "correct horse battery", "Tr0ub4dor&3-extra", "Sonnenblume am Deich 7"]
)
def test_strong_passwords_pass(app: Flask, password: str) -> None:
    with app.test_request_context():
        assert password_problem(password) is None


def test_passwords_are_hashed_with_argon2id(app_ctx, make_user) -> None:
    user = make_user("expert")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password",
        data={"current": current, "password": new, "confirm": confirm or new},
    )


def test_a_user_changes_their_password(
    app: Flask, client: FlaskClient, make_user, login_as, smtp_inbox
) -> None:
    user = make_user("expert")
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert "Change password" in page and user.email in page
    assert change(client, PASSWORD, GOOD).status_code == 302
    [notice] = smtp_inbox.messages
    assert notice["Subject"] == "Your password was changed"
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    )
    assert client.post("/login", data={"email": user.email, "password": GOOD}).status_code == 302
    assert "user.password_change" in set(db.session.scalars(select(AuditEvent.action)))


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", GOOD, None, "The current password is not right."),
        (PASSWORD, PASSWORD, None, "The new password is the one you have now."),
        (PASSWORD, "password1234", None, "lists of common passwords"),
        (PASSWORD, GOOD, GOOD + "!", "The passwords differ."),
    ],
)
def test_a_password_change_is_refused_with_the_reason(
    client: FlaskClient,
    make_user,
    login_as,
    current: str,
    new: str,
    confirm: str | None,
    message: str,
) -> None:
    user = make_user("expert")
    login_as(user)
    response = change(client, current, new, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


def test_the_command_line_refuses_a_weak_password(runner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "add",
            "ada@example.org",
            "--name",
            "Ada",
            "--role",
            "expert",
            "--password-stdin",
        ],
        input="password1234\n",
    )
    assert result.exit_code == 1
    assert "the password is refused" in result.output
    ok = runner.invoke(
        args=[
            "users",
            "add",
            "ada@example.org",
            "--name",
            "Ada",
            "--role",
            "expert",
            "--password-stdin",
        ],
        input=f"{GOOD}\n",
    )
    assert ok.exit_code == 0, ok.output
