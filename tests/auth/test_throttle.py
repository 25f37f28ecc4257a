"""Sign-in throttling: per account (a lock, whatever the password) and per address."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent

from ..conftest import PASSWORD, REDIS_URL

LOCKED = "Too many failed sign-ins for this account"


def sign_in(client: FlaskClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password})


def test_five_failures_lock_the_account_whatever_the_password(
    app: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user("expert")
    for attempt in range(1, 5):
        response = sign_in(client, user.email, f"wrong {attempt}")
        assert response.status_code == 200
        assert "Wrong e-mail or password." in response.get_data(as_text=True)
    fifth = sign_in(client, user.email, "wrong 5")
    assert fifth.status_code == 429 and LOCKED in fifth.get_data(as_text=True)
    right = sign_in(client, user.email, PASSWORD)
    assert right.status_code == 429
    assert "15 minutes" in right.get_data(as_text=True)
    # Another browser (another attacker) is locked out the same way: it is the account.
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 429
    assert client.get("/expert/").status_code == 302


def test_the_lock_lifts_after_fifteen_minutes(
    client: FlaskClient, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user("expert")
    for _ in range(5):
        sign_in(client, user.email, "wrong")
    assert sign_in(client, user.email, PASSWORD).status_code == 429
    later = time.time() + 14 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert sign_in(client, user.email, PASSWORD).status_code == 429
    later = time.time() + 2 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_an_unknown_address_gets_the_same_answers(client: FlaskClient, make_user) -> None:
    """Neither the message nor the lock tells whether an account exists."""
    user = make_user("expert")
    answers = {}
    for email in (user.email, "nobody@example.org"):
        pages = [sign_in(client, email, "wrong") for _ in range(6)]
        answers[email] = [(p.status_code, LOCKED in p.get_data(as_text=True)) for p in pages]
    assert answers[user.email] == answers["nobody@example.org"]
    assert answers[user.email][-1] == (429, True)


def test_a_success_forgets_earlier_failures(client: FlaskClient, make_user) -> None:
    user = make_user("expert")
    for _ in range(4):
        sign_in(client, user.email, "wrong")
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert sign_in(client, user.email, "wrong").status_code == 200
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_failed_sign_ins_are_audited(client: FlaskClient, make_user) -> None:
    user = make_user("expert")
    for _ in range(6):
        sign_in(client, user.email, "wrong")
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.login_failed").order_by(AuditEvent.id)
    ).all()
    assert [e.data["reason"] for e in events] == ["password"] * 5 + ["locked"]
    assert events[4].data["locked_now"] is True
    assert {e.object_id for e in events} == {user.id}
    assert all(e.actor_id is None for e in events)
    sign_in(client, "nobody@example.org", "wrong")
    unknown = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert unknown.data["email"] == "nobody@example.org" and unknown.object_id is None


def test_one_address_trying_many_accounts_is_stopped(
    app: Flask, client: FlaskClient, make_user
) -> None:
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    try:
        for n in range(3):
            assert sign_in(client, f"guess{n}@example.org", "wrong").status_code == 200
        stopped = sign_in(client, "guess9@example.org", "wrong")
        assert stopped.status_code == 429
        assert "Too many attempts from this address" in stopped.get_data(as_text=True)
        other_address = app.test_client()
        response = other_address.post(
            "/login",
            data={"email": "guess9@example.org", "password": "wrong"},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        )
        assert response.status_code == 200
    finally:
        app.config["SIGN_IN_ADDRESS_LIMIT"] = "30 per 15 minutes"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _in_a_server_process(settings: dict[str, object], code: str) -> list[str]:
    """Run ``code`` in a fresh Python process with its own app (a second gunicorn worker)."""
    program = textwrap.dedent(
        f"""
        from reviewer_app import create_app
        from reviewer_app.auth import throttle
        app = create_app({settings!r})
        with app.test_request_context():
        """
    ) + textwrap.indent(textwrap.dedent(code), "    ")
    env = {**os.environ, "REDIS_URL": REDIS_URL}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_lock_is_shared_through_redis(tmp_path) -> None:
    """Two server processes see one lock when REDIS_URL is set (as two gunicorn workers do)."""
    if not _redis_available():
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (the test machine runs one)")
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "SECRET_KEY": "k" * 40,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'redis.db'}",
        "REVIEWER_APP_MODE": "test",
        "RATELIMIT_KEY_PREFIX": prefix,
        "TWO_FACTOR_REQUIRED_FOR": "none",
    }
    try:
        first = _in_a_server_process(
            settings,
            """
            print(app.config["RATELIMIT_STORAGE_URI"])
            print([throttle.note_failure("ada@example.org") for _ in range(5)][-1])
            """,
        )
        assert first == [REDIS_URL, "True"]
        second = _in_a_server_process(
            settings,
            """
            print(throttle.account_locked("ada@example.org"))
            print(throttle.account_locked("someone.else@example.org"))
            """,
        )
        assert second == ["True", "False"]
        keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
        assert keys, "the counters live in Redis"
        assert not any(b"ada@example.org" in key for key in keys)  # only hashes of addresses
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_with_rate_limiting_switched_off_sign_in_still_works(
    app: Flask, client: FlaskClient, make_user
) -> None:
    """RATELIMIT_ENABLED = False stops the counting, not the sign-in (it answered 500)."""
    from reviewer_app.extensions import limiter

    user = make_user("expert")
    limiter.enabled = False
    try:
        for attempt in range(6):
            assert sign_in(client, user.email, f"wrong {attempt}").status_code == 200
        assert sign_in(client, user.email, PASSWORD).status_code == 302
    finally:
        limiter.enabled = True
