from __future__ import annotations

from flask.testing import FlaskClient

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent


def test_sign_in_with_email_in_any_case_and_sign_out(client: FlaskClient, make_user) -> None:
    user = make_user("expert", email="Ada@Example.org")
    assert user.email == "ada@example.org"
    response = client.post(
        "/login", data={"email": "ADA@example.ORG ", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/expert/")
    assert client.get("/expert/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/expert/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client: FlaskClient, make_user) -> None:
    user = make_user("expert")
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client: FlaskClient, make_user) -> None:
    user = make_user("expert", active=False)
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 200


def test_next_must_stay_on_site(client: FlaskClient, make_user) -> None:
    user = make_user("coordinator")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"].endswith("/calls/")


def test_sign_in_is_audited(client: FlaskClient, make_user, app_ctx) -> None:
    user = make_user("expert")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert "user.login" in actions


def test_roles_reach_only_their_area(client: FlaskClient, make_user, login_as) -> None:
    login_as(make_user("expert"))
    assert client.get("/calls/").status_code == 403
    client.post("/logout")
    login_as(make_user("observer"))
    assert client.get("/calls/").status_code == 200
    assert client.get("/expert/").status_code == 403


def test_language_choice_switches_to_german(client: FlaskClient, make_user, login_as) -> None:
    user = make_user("expert")
    login_as(user)
    client.post("/language", data={"language": "de", "next": "/expert/"})
    page = client.get("/expert/").get_data(as_text=True)
    assert 'lang="de"' in page
    assert "Abmelden" in page


def test_browser_language_is_used_when_nothing_chosen(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="de"' in page
    assert "Anmelden" in page


def test_invitation_sets_password_once(client: FlaskClient, make_user, app_ctx) -> None:
    from reviewer_app.auth.links import issue_link
    from reviewer_app.models import LinkPurpose

    user = make_user("expert", password=None)
    token = issue_link(user, LinkPurpose.INVITATION)
    db.session.commit()
    response = client.post(
        f"/invitation/{token}",
        data={"password": "a long new password", "confirm": "a long new password"},
    )
    assert response.status_code == 302
    assert client.get(f"/invitation/{token}").status_code == 410
    client.post("/logout")
    assert (
        client.post(
            "/login", data={"email": user.email, "password": "a long new password"}
        ).status_code
        == 302
    )
