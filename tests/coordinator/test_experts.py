"""Inviting experts (through a real SMTP server), the assignment matrix and automatic assignment."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, AuditEvent, Phase, Role, User

from ..factories import plant_phase


@pytest.fixture
def coordinator(make_user, login_as):
    user = make_user("coordinator")
    login_as(user)
    return user


INVITE = {
    "name": "Dr. Anna Berg",
    "email": " Anna.Berg@Example.ORG ",
    "organisation": "KTH",
    "country": "se",
    "expertise": "HPC, machine learning, hpc;  procurement ",
    "language": "en",
}


def test_invitation_mail_carries_a_single_use_link(app, client, coordinator, make_call, smtp_inbox):
    call = make_call(title="AI Factories")
    response = client.post(f"/calls/{call.key}/experts/invite", data=INVITE)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "anna.berg@example.org"))
    assert (user.role, user.password_hash, user.country) == (Role.EXPERT, None, "SE")
    assert user.expertise == ["HPC", "machine learning", "procurement"]

    [message] = smtp_inbox.messages
    assert message["To"].addresses[0].addr_spec == "anna.berg@example.org"
    assert "AI Factories" in message["Subject"]
    body = message.get_content()
    link = re.search(r"https?://\S+/invitation/(\S+)", body)
    assert link, body
    token = link.group(1)

    client.post("/logout")
    assert client.get(f"/invitation/{token}").status_code == 200
    response = client.post(
        f"/invitation/{token}",
        data={"password": "a long new password", "confirm": "a long new password"},
    )
    assert response.status_code == 302
    client.post("/logout")
    # Single use: the same link no longer works.
    assert client.get(f"/invitation/{token}").status_code == 410


def test_invitation_in_german(client, coordinator, make_call, smtp_inbox) -> None:
    call = make_call()
    client.post(f"/calls/{call.key}/experts/invite", data={**INVITE, "language": "de"})
    [message] = smtp_inbox.messages
    assert "Einladung" in message["Subject"]
    assert "Passwort" in message.get_content()


def test_invitation_refuses_a_known_email_and_bad_fields(
    client, coordinator, make_call, make_user, smtp_inbox
) -> None:
    call = make_call()
    make_user("expert", email="anna.berg@example.org")
    response = client.post(f"/calls/{call.key}/experts/invite", data=INVITE)
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    response = client.post(
        f"/calls/{call.key}/experts/invite",
        data={**INVITE, "email": "not-an-email", "country": "Sweden", "name": ""},
    )
    page = response.get_data(as_text=True)
    assert "Invalid email address." in page
    assert "two-letter country code" in page
    assert "This field is required." in page
    assert smtp_inbox.messages == []


def test_invitation_not_kept_when_the_mail_server_is_down(app, client, coordinator, make_call):
    from tests.conftest import _free_port

    call = make_call()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        response = client.post(f"/calls/{call.key}/experts/invite", data=INVITE)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert response.status_code == 400
    assert "could not be sent" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "anna.berg@example.org")) is None


def test_resend_invitation(client, coordinator, make_call, make_user, smtp_inbox) -> None:
    call = make_call()
    pending = make_user("expert", password=None)
    active = make_user("expert")
    client.post(f"/calls/{call.key}/experts/{pending.id}/reinvite")
    assert len(smtp_inbox.messages) == 1
    page = client.post(
        f"/calls/{call.key}/experts/{active.id}/reinvite", follow_redirects=True
    ).get_data(as_text=True)
    assert "has already set a password" in page
    assert len(smtp_inbox.messages) == 1


@pytest.fixture
def setup_call(make_call, make_proposal, make_user):
    call = make_call()
    proposals = [make_proposal(call, country="IT", applicant="CINECA") for _ in range(2)]
    experts = [
        make_user("expert", name="Ada", country="IT", organisation="Uni Pisa"),
        make_user("expert", name="Bo", country="SE", organisation=" cineca "),
        make_user("expert", name="Cy", country="FR", organisation="CNRS"),
        make_user("expert", name="Di", country="DE", organisation="FZJ"),
        make_user("expert", name="Ed", country="ES", organisation="BSC"),
    ]
    return call, proposals, experts


def _assignments() -> set[tuple[int, int]]:
    db.session.expire_all()
    return set(db.session.execute(select(Assignment.proposal_id, Assignment.expert_id)).tuples())


def test_matrix_shows_loads_staffing_and_blocked_cells(client, coordinator, setup_call) -> None:
    call, proposals, experts = setup_call
    client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": proposals[0].id, "expert_id": experts[2].id},
    )
    page = client.get(f"/calls/{call.key}/assignments").get_data(as_text=True)
    assert "same country as the proposal" in page  # Ada, IT
    assert "works for the applicant" in page  # Bo, CINECA
    assert "1 / 3" in page and "0 / 3" in page
    assert f"Remove Cy from {proposals[0].reference}" in page


def test_toggle_assign_and_unassign(client, coordinator, setup_call) -> None:
    call, proposals, experts = setup_call
    pair = {"proposal_id": proposals[0].id, "expert_id": experts[3].id}
    client.post(f"/calls/{call.key}/assignments/toggle", data=pair)
    assert _assignments() == {(proposals[0].id, experts[3].id)}
    client.post(f"/calls/{call.key}/assignments/toggle", data=pair)
    assert _assignments() == set()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events[-2:]] == ["assignment.add", "assignment.remove"]
    # The view passes the signed-in coordinator down; the record never guesses it.
    assert {e.actor_id for e in events[-2:]} == {coordinator.id}


def test_toggle_refuses_blocked_experts_and_started_work(
    client, coordinator, setup_call, make_review, make_assignment
) -> None:
    call, proposals, experts = setup_call
    page = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": proposals[0].id, "expert_id": experts[0].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Ada cannot evaluate" in page and "same country" in page
    assert _assignments() == set()
    assignment = make_assignment(proposals[0], experts[3])
    # The expert starts when the evaluation opens (its proposals are not staffed enough for the
    # phase service to open it, and the toggle is what is tested here).
    plant_phase(call, Phase.EVALUATION)
    make_review(assignment, submitted=False)
    page = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": proposals[0].id, "expert_id": experts[3].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "the assignment is kept" in page
    assert len(_assignments()) == 1


def test_toggle_refused_outside_setup_and_evaluation(client, coordinator, setup_call) -> None:
    call, proposals, experts = setup_call
    # Set by hand: setup_call has no staffed proposal for the phase service to move on; only
    # the refusal in a later phase is tested.
    call.phase = Phase.CONSENSUS
    db.session.commit()
    page = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": proposals[0].id, "expert_id": experts[3].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "only during set-up and evaluation" in page
    assert _assignments() == set()


def test_toggle_with_a_proposal_of_another_call_is_404(
    client, coordinator, setup_call, make_call, make_proposal
) -> None:
    call, _proposals, experts = setup_call
    foreign = make_proposal(make_call())
    response = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": foreign.id, "expert_id": experts[3].id},
    )
    assert response.status_code == 404
    assert client.post(f"/calls/{call.key}/assignments/toggle", data={}).status_code == 400


def test_one_rapporteur_per_proposal(
    client, coordinator, setup_call, make_assignment, declare_conflict
) -> None:
    call, proposals, experts = setup_call
    first = make_assignment(proposals[0], experts[2])
    second = make_assignment(proposals[0], experts[3])
    conflicted = make_assignment(proposals[0], experts[4])
    declare_conflict(conflicted)
    url = f"/calls/{call.key}/assignments/rapporteur"
    client.post(url, data={"proposal_id": proposals[0].id, "expert_id": experts[2].id})
    client.post(url, data={"proposal_id": proposals[0].id, "expert_id": experts[3].id})
    db.session.expire_all()
    assert (first.is_rapporteur, second.is_rapporteur) == (False, True)
    page = client.post(
        url,
        data={"proposal_id": proposals[0].id, "expert_id": experts[4].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "without a conflict can be its rapporteur" in page
    db.session.expire_all()
    assert conflicted.is_rapporteur is False and second.is_rapporteur is True


def test_auto_assign_fills_every_proposal_and_reports_shortfalls(
    client, coordinator, setup_call, make_proposal
) -> None:
    call, proposals, experts = setup_call
    page = client.post(f"/calls/{call.key}/assignments/auto", follow_redirects=True).get_data(
        as_text=True
    )
    pairs = _assignments()
    eligible = {experts[2].id, experts[3].id, experts[4].id}
    for proposal in proposals:
        assert {e for p, e in pairs if p == proposal.id} == eligible
    assert "6 new assignments, 2 rapporteurs chosen" in page
    rapporteurs = db.session.scalars(
        select(func.count(Assignment.id)).where(Assignment.is_rapporteur.is_(True))
    ).one()
    assert rapporteurs == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.auto"))
    assert len(event.data["new"]) == 6

    # A German proposal: Di is blocked by country, only Cy and Ed (and Ada, Bo) remain...
    short = make_proposal(call, country="DE", applicant="CNRS")
    page = client.post(f"/calls/{call.key}/assignments/auto", follow_redirects=True).get_data(
        as_text=True
    )
    assert {e for p, e in _assignments() if p == short.id} == {
        experts[0].id,
        experts[1].id,
        experts[4].id,
    }
    assert "has only" not in page
    # ...and with every expert blocked, the shortfall is reported with the reasons.
    lonely = make_proposal(call, country="FR", applicant="CNRS")
    for expert in experts:
        if expert.id != experts[2].id:
            expert.active = False
    db.session.commit()
    page = client.post(f"/calls/{call.key}/assignments/auto", follow_redirects=True).get_data(
        as_text=True
    )
    assert f"{lonely.reference} has only 0 of 3 experts" in page
    assert "same country as the proposal: 1" in page


def test_auto_assign_refused_after_evaluation(client, coordinator, setup_call) -> None:
    call, _proposals, _experts = setup_call
    # Set by hand: nobody is assigned, so the phase service cannot move the call; the test
    # needs it past evaluation with no assignment at all.
    call.phase = Phase.RANKING
    db.session.commit()
    page = client.post(f"/calls/{call.key}/assignments/auto", follow_redirects=True).get_data(
        as_text=True
    )
    assert "only during set-up and evaluation" in page
    assert _assignments() == set()


def test_a_concurrent_duplicate_is_reported_not_a_server_error(
    client, coordinator, setup_call, make_assignment, monkeypatch
) -> None:
    """Two coordinators toggle the same cell at once: the second insert hits the unique key."""
    from reviewer_app.coordinator import expert_views

    call, proposals, people = setup_call
    pair = {"proposal_id": proposals[0].id, "expert_id": people[3].id}
    make_assignment(proposals[0], people[3])

    def insert_again(_call, proposal, expert, *, actor) -> bool:
        # What the second request does when it read "not assigned" before the first committed.
        expert_views.db.session.add(Assignment(proposal_id=proposal.id, expert_id=expert.id))
        expert_views.db.session.flush()
        return True

    monkeypatch.setattr(expert_views, "toggle_assignment", insert_again)
    response = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data=pair,
        headers={"Referer": f"http://localhost/calls/{call.key}/assignments"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calls/{call.key}/assignments")
    monkeypatch.undo()
    page = client.get(f"/calls/{call.key}/assignments").get_data(as_text=True)
    assert "Someone else changed the same data at the same moment" in page
    assert len(_assignments()) == 1


def test_matrix_filters_keep_counting_everything(client, coordinator, setup_call) -> None:
    call, proposals, experts = setup_call
    for expert in experts[2:]:
        client.post(
            f"/calls/{call.key}/assignments/toggle",
            data={"proposal_id": proposals[0].id, "expert_id": expert.id},
        )
    heads = r'<a href="[^"]*/experts/\d+" title="[^"]*">([^<]+)</a>'
    page = client.get(f"/calls/{call.key}/assignments?expert=cnrs").get_data(as_text=True)
    matrix = page[page.index("<table") : page.index("</table>")]
    # Each expert's column head links the expert's page of the call.
    shown = re.findall(heads, matrix)
    assert shown == ["Cy"]
    # Without a search, every active expert, by name; a word every one matches, the same.
    for url in (f"/calls/{call.key}/assignments", f"/calls/{call.key}/assignments?expert=e"):
        page = client.get(url).get_data(as_text=True)
        matrix = page[page.index("<table") : page.index("</table>")]
        assert re.findall(heads, matrix) == ["Ada", "Bo", "Cy", "Di", "Ed"], url
    assert "3 / 3" in matrix  # staffing counts the experts filtered out too
    page = client.get(f"/calls/{call.key}/assignments?q={proposals[1].reference}").get_data(
        as_text=True
    )
    matrix = page[page.index("<table") : page.index("</table>")]
    assert proposals[1].reference in matrix and proposals[0].reference not in matrix
    assert "Nothing matches" in client.get(f"/calls/{call.key}/assignments?q=zzz").get_data(
        as_text=True
    )
    # A toggle made from a filtered matrix comes back to the same filter.
    url = f"http://localhost/calls/{call.key}/assignments?expert=cnrs"
    response = client.post(
        f"/calls/{call.key}/assignments/toggle",
        data={"proposal_id": proposals[1].id, "expert_id": experts[2].id},
        headers={"Referer": url},
    )
    assert response.headers["Location"].endswith(
        f"/calls/{call.key}/assignments?expert=cnrs#p{proposals[1].id}"
    )
