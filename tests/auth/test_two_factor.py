"""Two-factor sign-in: enrolment, codes, recovery codes, who must use it, and its reset."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reviewer_app import create_app
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, RecoveryCode, User, UserSession

from ..conftest import PASSWORD


@pytest.fixture
def required_for(app: Flask) -> Iterator[object]:
    """Set TWO_FACTOR_REQUIRED_FOR for one test."""

    def set_rule(rule: str) -> None:
        app.config["TWO_FACTOR_REQUIRED_FOR"] = rule

    yield set_rule
    app.config["TWO_FACTOR_REQUIRED_FOR"] = "none"


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Go through the set-up page as a user would; returns the secret and the recovery codes."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page)
    assert key, page
    secret = key.group(1).replace(" ", "")
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert "This code does not match" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r'<li class="col mb-1">([a-z2-9-]+)</li>', done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(client: FlaskClient, user: User):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def next_code(secret: str) -> str:
    """The code of the next time step (the current one may have been used at enrolment)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrolment_then_sign_in_with_a_code(
    app: Flask, client: FlaskClient, make_user, login_as, smtp_inbox
) -> None:
    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    db.session.refresh(user)
    assert user.has_two_factor and user.totp_secret == secret
    assert smtp_inbox.messages[-1]["Subject"] == "Two-factor sign-in is on"
    client.post("/logout")

    first = password_step(client, user)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/code")
    assert client.get("/expert/").status_code == 302  # the password alone opens nothing
    wrong = client.post("/login/code", data={"code": "123456"})
    assert "This code is not right" in wrong.get_data(as_text=True)
    code = next_code(secret)
    ok = client.post("/login/code", data={"code": code})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/expert/")
    assert client.get("/expert/").status_code == 200

    # The same code does not work twice.
    client.post("/logout")
    password_step(client, user)
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 200 and "used already" in replay.get_data(as_text=True)


def test_a_recovery_code_works_once(client: FlaskClient, make_user, login_as) -> None:
    user = make_user("expert")
    login_as(user)
    _secret, codes = enrol(client)
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 200
    assert client.post("/login/code", data={"code": codes[4]}).status_code == 302
    used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
    assert len(used.all()) == 2
    assert not any(
        codes[3].replace("-", "") in r.code_hash for r in db.session.scalars(select(RecoveryCode))
    )


def test_wrong_codes_count_towards_the_lock(client: FlaskClient, make_user, login_as) -> None:
    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    client.post("/logout")
    password_step(client, user)
    for _ in range(4):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 200
    assert client.post("/login/code", data={"code": "000000"}).status_code == 429
    # Locked: neither the password nor the right code gets in now.
    assert password_step(client, user).status_code == 429
    reasons = [
        e.data.get("reason")
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.login_failed")
        )
    ]
    assert reasons.count("code") == 5


def test_the_code_step_expires(client: FlaskClient, make_user, login_as, monkeypatch) -> None:
    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    client.post("/logout")
    password_step(client, user)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(later)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_a_coordinator_must_enrol_before_any_call_page(
    client: FlaskClient, make_user, login_as, make_call, required_for
) -> None:
    required_for("coordinator")
    call = make_call()
    coordinator = make_user("coordinator")
    signed_in = password_step(client, coordinator)
    assert signed_in.headers["Location"].endswith("/account/two-factor")
    for page in ("/calls/", f"/calls/{call.key}/", f"/calls/{call.key}/progress", "/account"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].endswith("/account/two-factor"), page
    setup = client.get("/account/two-factor").get_data(as_text=True)
    assert "Your role needs two-factor sign-in" in setup
    enrol(client)
    assert client.get("/calls/").status_code == 200
    # Experts are not asked under this rule.
    client.post("/logout")
    expert = make_user("expert")
    assert password_step(client, expert).headers["Location"].endswith("/expert/")
    assert client.get("/expert/").status_code == 200


def test_all_means_every_role(client: FlaskClient, make_user, required_for) -> None:
    required_for("all")
    expert = make_user("expert")
    assert password_step(client, expert).headers["Location"].endswith("/account/two-factor")
    assert client.get("/expert/").headers["Location"].endswith("/account/two-factor")


def test_turning_it_off_needs_the_password_and_is_refused_where_required(
    client: FlaskClient, make_user, login_as, required_for
) -> None:
    user = make_user("coordinator")
    login_as(user)
    secret, _codes = enrol(client)
    refused = client.post(
        "/account/two-factor/disable", data={"password": "wrong", "code": next_code(secret)}
    )
    assert refused.status_code == 422
    assert "The password or the code is not right" in refused.get_data(as_text=True)
    required_for("coordinator")
    kept = client.post(
        "/account/two-factor/disable",
        data={"password": PASSWORD, "code": next_code(secret)},
        follow_redirects=True,
    )
    assert "required for your role" in kept.get_data(as_text=True)
    db.session.refresh(user)
    assert user.has_two_factor
    required_for("none")
    turned_off = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": next_code(secret)}
    )
    assert turned_off.status_code == 302
    db.session.refresh(user)
    assert not user.has_two_factor
    assert db.session.scalar(select(RecoveryCode)) is None


def test_new_recovery_codes_replace_the_old_ones(client: FlaskClient, make_user, login_as) -> None:
    user = make_user("expert")
    login_as(user)
    secret, old = enrol(client)
    page = client.post(
        "/account/two-factor/recovery-codes",
        data={"password": PASSWORD, "code": next_code(secret)},
    )
    new = re.findall(r'<li class="col mb-1">([a-z2-9-]+)</li>', page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": old[0]}).status_code == 200
    assert client.post("/login/code", data={"code": new[0]}).status_code == 302


def test_reset_2fa_from_the_command_line(
    app: Flask, client: FlaskClient, runner, make_user, login_as
) -> None:
    user = make_user("coordinator")
    login_as(user)
    enrol(client)
    db.session.expire_all()  # the command reads the database as a new process would
    result = runner.invoke(args=["users", "reset-2fa", user.email])
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    db.session.refresh(user)
    assert not user.has_two_factor
    assert client.get("/calls/").status_code == 302  # the session ended with the reset
    assert {s.end_reason for s in db.session.scalars(select(UserSession))} == {"two_factor"}
    assert "user.two_factor_reset" in set(db.session.scalars(select(AuditEvent.action)))
    again = runner.invoke(args=["users", "reset-2fa", user.email])
    assert again.exit_code == 1 and "has no two-factor sign-in" in again.output


def test_a_reset_link_does_not_skip_the_second_factor(
    client: FlaskClient, runner, make_user, login_as
) -> None:
    user = make_user("expert")
    login_as(user)
    enrol(client)
    client.post("/logout")
    output = runner.invoke(args=["users", "invite", user.email]).output
    token = re.search(r"/invitation/(\S+)", output).group(1)
    done = client.post(
        f"/invitation/{token}",
        data={"password": "orbit lantern pickle", "confirm": "orbit lantern pickle"},
    )
    assert done.headers["Location"].endswith("/login/code")
    assert client.get("/expert/").status_code == 302


@pytest.mark.parametrize(
    ("mode", "environment", "rule"),
    [
        ("production", None, "coordinator"),
        ("demo", None, "none"),
        ("demo", "all", "all"),
        ("production", "none", "none"),
    ],
)
def test_the_environment_wins_over_the_mode(
    tmp_path, monkeypatch: pytest.MonkeyPatch, mode: str, environment: str | None, rule: str
) -> None:
    monkeypatch.setenv("REVIEWER_APP_MODE", mode)
    if environment is None:
        monkeypatch.delenv("TWO_FACTOR_REQUIRED_FOR", raising=False)
    else:
        monkeypatch.setenv("TWO_FACTOR_REQUIRED_FOR", environment)
    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert app.config["TWO_FACTOR_REQUIRED_FOR"] == rule


def test_an_unknown_rule_stops_the_app_with_a_clear_message(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer_app.config import ConfigError

    monkeypatch.setenv("TWO_FACTOR_REQUIRED_FOR", "coordinators")
    with pytest.raises(ConfigError, match="use one of coordinator, all, none"):
        create_app(
            {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
        )


def test_the_demo_sign_in_page_says_two_factor_is_off(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWER_APP_MODE", "demo")
    monkeypatch.delenv("TWO_FACTOR_REQUIRED_FOR", raising=False)
    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Demo: two-factor sign-in is not required here (TWO_FACTOR_REQUIRED_FOR=none)" in page


def test_a_session_signed_in_before_the_set_up_ends_with_it(
    app: Flask, client: FlaskClient, make_user, login_as, required_for
) -> None:
    """Someone with the password alone keeps no session once the owner turns two factors on."""
    required_for("coordinator")
    user = make_user("coordinator")
    intruder = app.test_client()
    intruder.post("/login", data={"email": user.email, "password": PASSWORD})
    assert intruder.get("/calls/").headers["Location"].endswith("/account/two-factor")
    password_step(client, user)
    enrol(client)
    assert client.get("/calls/").status_code == 200
    response = intruder.get("/calls/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert intruder.get("/account/two-factor").headers["Location"].startswith("/login")


def test_a_code_claimed_meanwhile_by_another_request_is_refused(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    """Two requests with one code at once: the step is claimed by a guarded update, so the one
    that reads the old step but writes second gets nothing."""
    from sqlalchemy import update

    from reviewer_app.auth import two_factor

    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    code = next_code(secret)
    db.session.expire_all()
    stale = db.session.get(User, user.id)
    step = int(time.time() + 30) // 30
    with db.engine.begin() as other_request:
        other_request.execute(update(User).where(User.id == user.id).values(totp_last_step=step))
    assert stale.totp_last_step is not None and stale.totp_last_step < step  # what this one read
    with app.test_request_context():
        assert two_factor.verify_code(stale, code) is False


def test_a_recovery_code_used_meanwhile_by_another_request_is_refused(
    app: Flask, client: FlaskClient, make_user, login_as
) -> None:
    from sqlalchemy import event, update

    from reviewer_app.auth import two_factor

    user = make_user("expert")
    login_as(user)
    _secret, codes = enrol(client)
    db.session.expire_all()
    fired = []

    def the_other_request_uses_it(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        # Right after this request has read the code as unused, another one uses it.
        if (
            not fired
            and statement.lstrip().upper().startswith("SELECT")
            and "recovery_codes" in statement
        ):
            fired.append(True)
            with db.engine.begin() as other:
                other.execute(update(RecoveryCode).values(used_at=db.func.now()))

    event.listen(db.engine, "after_cursor_execute", the_other_request_uses_it)
    try:
        with app.test_request_context():
            assert two_factor.use_recovery_code(db.session.get(User, user.id), codes[0]) is False
    finally:
        event.remove(db.engine, "after_cursor_execute", the_other_request_uses_it)
    assert fired


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "¹²³⁴⁵⁶", "12345６"])
def test_codes_in_other_scripts_are_wrong_codes_not_errors(
    client: FlaskClient, make_user, login_as, code: str
) -> None:
    user = make_user("expert")
    login_as(user)
    client.get("/account/two-factor")
    assert client.post("/account/two-factor", data={"code": code}).status_code == 200
    secret, _codes = enrol(client)
    client.post("/logout")
    password_step(client, user)
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 200 and "This code is not right" in response.get_data(
        as_text=True
    )
    failures = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.login_failed")
    )
    assert [e.data["reason"] for e in failures] == ["code"]


def test_renewing_codes_and_turning_off_need_the_password_and_a_code(
    client: FlaskClient, make_user, login_as, smtp_inbox
) -> None:
    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    without_code = client.post("/account/two-factor/recovery-codes", data={"password": PASSWORD})
    assert without_code.status_code == 422
    wrong_code = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": "000000"}
    )
    assert wrong_code.status_code == 422
    assert "The password or the code is not right" in wrong_code.get_data(as_text=True)
    renewed = client.post(
        "/account/two-factor/recovery-codes",
        data={"password": PASSWORD, "code": next_code(secret)},
    )
    assert renewed.status_code == 200 and "Your recovery codes" in renewed.get_data(as_text=True)
    assert smtp_inbox.messages[-1]["Subject"] == "New recovery codes"


def test_guessing_the_password_from_an_open_session_hits_the_lock(
    client: FlaskClient, make_user, login_as
) -> None:
    user = make_user("expert")
    login_as(user)
    secret, _codes = enrol(client)
    for _ in range(5):
        client.post("/account/two-factor/disable", data={"password": "guess", "code": "000000"})
    locked = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": next_code(secret)}
    )
    assert locked.status_code == 422 and "Too many failed sign-ins" in locked.get_data(as_text=True)
    db.session.refresh(user)
    assert user.has_two_factor
    for _ in range(2):
        response = client.post(
            "/account/password",
            data={
                "current": "guess",
                "password": "orbit lantern pickle",
                "confirm": "orbit lantern pickle",
            },
        )
        assert "Too many failed sign-ins" in response.get_data(as_text=True)
