"""A conflict of interest found after the proposal opened (issue 13): the review stops counting."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, ConflictDeclaration, Phase, Review, Role
from reviewer_app.ranking import evaluation_input

from ..conftest import PASSWORD
from ..factories import plant_phase
from .conftest import Setup, audit_actions, scores

REASON = "My former doctoral student leads the hosting site."


def _declaration(setup: Setup) -> ConflictDeclaration:
    db.session.expire_all()
    return db.session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.assignment_id == setup.assignment.id)
    ).one()


def _declare(client, setup: Setup, **data: str):
    form = {"late-reason": REASON, "late-understood": "y", **data}
    return client.post(f"{setup.url}/late-conflict", data={k: v for k, v in form.items() if v})


def test_a_late_conflict_withdraws_the_submitted_review_and_tells_the_coordinators(
    declared: Setup, login_as, make_user, smtp_inbox
) -> None:
    coordinator = make_user(Role.COORDINATOR, name="Cora Coordinator", email="cora@example.org")
    make_user(Role.COORDINATOR, email="gone@example.org", active=False)
    client = login_as(declared.expert)
    assert client.post(declared.url, data=scores(submit="1")).status_code == 302
    assert "Found a conflict of interest?" in client.get(declared.url).get_data(as_text=True)

    response = _declare(client, declared)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/expert/")
    declaration = _declaration(declared)
    assert declaration.has_conflict and declaration.reason == REASON
    assert declaration.conflict_found_at is not None
    # Kept in the record, counted nowhere.
    assert db.session.scalars(select(Review)).one().is_submitted
    assert evaluation_input(declared.call).reviews == ()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.late_conflict")
    ).one()
    assert event.data["review_withdrawn"] is True and event.data["reason"] == REASON
    [message] = smtp_inbox.messages
    assert message["To"] == f"{coordinator.name} <{coordinator.email}>"
    assert "AIF-ES" in message["Subject"]
    body = message.get_content()
    assert "Erika Expert" in body and "no longer counts" in body
    assert REASON not in body  # the reason is read in the application
    # The proposal is closed to the expert from now on.
    assert client.get(declared.url).status_code == 404
    assert _declare(client, declared).status_code == 404


def test_the_rapporteur_gives_up_the_role(declared: Setup, login_as, smtp_inbox) -> None:
    declared.assignment.is_rapporteur = True
    db.session.commit()

    _declare(login_as(declared.expert), declared)

    db.session.expire_all()
    assert not declared.assignment.is_rapporteur
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.late_conflict")
    ).one()
    assert event.data["was_rapporteur"] is True and event.data["review_withdrawn"] is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"late-reason": "   "}, "Please give the reason for the conflict."),
        ({"late-understood": ""}, "Please confirm that your review stops counting."),
    ],
)
def test_an_incomplete_late_declaration_changes_nothing(
    declared: Setup, login_as, data: dict[str, str], message: str
) -> None:
    response = _declare(login_as(declared.expert), declared, **data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert '<details class="late-conflict border-top pt-3 mt-4" id="late-conflict" open>' in page
    assert not _declaration(declared).has_conflict
    assert "assignment.late_conflict" not in audit_actions()


def test_no_late_conflict_once_the_call_is_ranked(declared: Setup, login_as) -> None:
    plant_phase(declared.call, Phase.RANKING)
    client = login_as(declared.expert)
    assert "Found a conflict of interest?" not in client.get(declared.url).get_data(as_text=True)

    response = _declare(client, declared)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(declared.url)
    assert "write to the coordinator" in client.get(declared.url).get_data(as_text=True)
    assert not _declaration(declared).has_conflict


def test_a_refusing_mail_server_does_not_stop_the_conflict(
    declared: Setup, login_as, make_user, app
) -> None:
    make_user(Role.COORDINATOR)
    # Nothing listens on port 9 of this machine: the connection is refused.
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)
    try:
        client = login_as(declared.expert)
        response = _declare(client, declared)
        page = client.get("/expert/").get_data(as_text=True)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)

    assert response.status_code == 302
    assert "could not be told by e-mail. Please tell them yourself." in page
    assert _declaration(declared).has_conflict
    assert audit_actions().count("assignment.late_conflict") == 1


def test_a_late_conflict_sent_after_the_session_expired_comes_back_to_be_sent_again(
    declared: Setup, client, app
) -> None:
    page = client.get(declared.url).get_data(as_text=True)
    late_path = f"{declared.url}/late-conflict"
    form = page[page.index('id="late-conflict-form"') :]
    ticket = re.search(r'name="_stash" value="([^"]+)"', form)
    assert ticket, "the late-conflict form carries no stash ticket"
    reason = "My sister turned out to lead the work package on data centres."
    expired = app.test_client()
    answer = expired.post(
        late_path,
        data={"late-reason": reason, "late-understood": "y", "_stash": ticket.group(1)},
    )
    assert answer.status_code == 302 and "kept=1" in answer.headers["Location"]
    assert _declaration(declared).conflict_found_at is None  # nothing declared yet
    signed_in = expired.post(
        "/login",
        data={"email": declared.expert.email, "password": PASSWORD, "next": declared.url},
    )
    assert signed_in.headers["Location"].endswith(declared.url)
    back = expired.get(declared.url).get_data(as_text=True)
    assert "We restored your unsaved input." in back and reason in back
    assert '<details class="late-conflict border-top pt-3 mt-4" id="late-conflict" open>' in back
