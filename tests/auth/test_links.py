"""Invitation and reset links: single use, expiring, and only the newest of an account works."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AccountLink, AuditEvent, LinkPurpose, UserSession

NEW_PASSWORD = "orbit lantern pickle"


def link_token(text: str, kind: str = "invitation") -> str:
    match = re.search(rf"https?://\S+/{kind}/(\S+)", text)
    assert match, text
    return match.group(1)


def set_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(path, data={"password": password, "confirm": password})


def test_an_earlier_invitation_dies_when_a_new_one_is_sent(
    app, runner, client: FlaskClient, make_user, login_as, make_call, smtp_inbox
) -> None:
    """The attack of the issue: link A (CLI), link B (the coordinator's "send a new link")."""
    added = runner.invoke(
        args=["users", "add", "ada@example.org", "--name", "Ada", "--role", "expert"]
    )
    assert added.exit_code == 0, added.output
    link_a = link_token(added.output)

    call = make_call()
    coordinator = make_user("coordinator")
    ada = db.session.scalar(select(AccountLink)).user
    login_as(coordinator).post(f"/calls/{call.key}/experts/{ada.id}/reinvite")
    client.post("/logout")
    [mail] = smtp_inbox.messages
    link_b = link_token(mail.get_content())

    gone = client.get(f"/invitation/{link_a}")
    assert gone.status_code == 410
    assert "A newer link was sent" in gone.get_data(as_text=True)
    assert set_password(client, f"/invitation/{link_b}").status_code == 302
    client.post("/logout")
    # After the account is set up, the old link sets no password and signs nobody in.
    assert (
        set_password(client, f"/invitation/{link_a}", "a different long passphrase").status_code
        == 410
    )
    assert client.get("/expert/").status_code == 302
    signed_in = client.post("/login", data={"email": "ada@example.org", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_users_invite_prints_a_fresh_link_and_ends_the_earlier_ones(
    runner, client: FlaskClient, make_user
) -> None:
    user = make_user("observer", password=None)
    first = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    result = runner.invoke(args=["users", "invite", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert "earlier links no longer work" in result.output
    second = link_token(result.output)
    assert first != second
    assert client.get(f"/invitation/{first}").status_code == 410
    assert client.get(f"/invitation/{second}").status_code == 200


def test_users_invite_an_unknown_address_fails_cleanly(runner) -> None:
    result = runner.invoke(args=["users", "invite", "nobody@example.org"])
    assert result.exit_code == 1
    assert "no user with the e-mail 'nobody@example.org'" in result.output


def test_a_link_works_once(client: FlaskClient, runner, make_user) -> None:
    user = make_user("expert", password=None)
    token = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    assert set_password(client, f"/invitation/{token}").status_code == 302
    client.post("/logout")
    used = client.get(f"/invitation/{token}")
    assert used.status_code == 410
    assert "already been used" in used.get_data(as_text=True)


def test_an_expired_link_is_refused(client: FlaskClient, runner, make_user, app_ctx) -> None:
    user = make_user("expert", password=None)
    token = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    link = db.session.scalar(select(AccountLink))
    link.expires_at = link.created_at - timedelta(seconds=1)
    db.session.commit()
    response = set_password(client, f"/invitation/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash is None


def test_a_weak_password_keeps_the_link_usable(client: FlaskClient, runner, make_user) -> None:
    user = make_user("expert", password=None)
    token = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    refused = set_password(client, f"/invitation/{token}", "aaaaaaaaaaaaaa")
    assert refused.status_code == 200
    assert "Repeated characters" in refused.get_data(as_text=True)
    assert set_password(client, f"/invitation/{token}").status_code == 302


def test_an_invitation_for_a_reset_path_is_refused(client: FlaskClient, runner, make_user) -> None:
    user = make_user("expert", password=None)
    token = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    assert client.get(f"/password/reset/{token}").status_code == 410
    assert client.get("/invitation/" + "x" * 5000).status_code == 410


def test_forgotten_password_mails_a_single_use_link(
    app, client: FlaskClient, make_user, login_as, smtp_inbox
) -> None:
    user = make_user("expert", email="erika@example.org")
    other_browser = app.test_client()
    login_as(user)  # a session that must end with the reset
    assert other_browser.get("/password/forgot").status_code == 200
    answer = other_browser.post(
        "/password/forgot", data={"email": "Erika@Example.org"}, follow_redirects=True
    )
    assert "If an account exists for erika@example.org" in answer.get_data(as_text=True)
    [mail] = smtp_inbox.messages
    assert mail["Subject"] == "Choose a new password"
    token = link_token(mail.get_content(), "password/reset")

    page = other_browser.get(f"/password/reset/{token}")
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert set_password(other_browser, f"/password/reset/{token}").status_code == 302
    # Every other session of the account ended; the link is spent; the new password works.
    assert client.get("/expert/").status_code == 302
    assert other_browser.get(f"/password/reset/{token}").status_code == 410
    fresh = app.test_client()
    ok = fresh.post("/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert ok.status_code == 302
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.password_reset_link", "user.password_reset"} <= actions
    db.session.expire_all()
    reasons = {s.end_reason for s in db.session.scalars(select(UserSession))}
    assert "password" in reasons


def test_forgotten_password_answers_the_same_for_unknown_addresses(
    client: FlaskClient, smtp_inbox
) -> None:
    answer = client.post(
        "/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert "If an account exists for nobody@example.org" in answer.get_data(as_text=True)
    assert smtp_inbox.messages == []


def test_reset_mails_to_one_address_are_limited(
    app, client: FlaskClient, make_user, smtp_inbox
) -> None:
    user = make_user("expert")
    for _ in range(app.config["PASSWORD_RESET_MAILS_PER_HOUR"] + 2):
        response = client.post("/password/forgot", data={"email": user.email})
        assert response.status_code == 302
    assert len(smtp_inbox.messages) == app.config["PASSWORD_RESET_MAILS_PER_HOUR"]
    # Only the newest of the links sent works.
    tokens = [link_token(m.get_content(), "password/reset") for m in smtp_inbox.messages]
    assert [client.get(f"/password/reset/{t}").status_code for t in tokens] == [410, 410, 200]


@pytest.mark.parametrize("purpose", list(LinkPurpose))
def test_only_the_hash_of_a_link_is_stored(app_ctx, make_user, purpose: LinkPurpose) -> None:
    from reviewer_app.auth.links import issue_link

    token = issue_link(make_user("expert"), purpose)
    db.session.commit()
    stored = db.session.scalar(select(AccountLink))
    assert stored.purpose is purpose
    assert token not in {stored.token_hash} and len(stored.token_hash) == 64


def test_an_invitation_for_an_account_with_a_password_ends_its_sessions(
    app, client: FlaskClient, runner, make_user, login_as
) -> None:
    user = make_user("expert")
    login_as(user)
    token = link_token(runner.invoke(args=["users", "invite", user.email]).output)
    assert set_password(app.test_client(), f"/invitation/{token}").status_code == 302
    assert client.get("/expert/").status_code == 302
