"""One expert in a call: their assignments, the proposals they could take, and changes to many
assignments at once, all or nothing, through the matrix's own rules."""

from __future__ import annotations

from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, AuditEvent, Phase, Role

from ..factories import declare_for, plant_phase


def _assigned(expert) -> set[str]:
    db.session.expire_all()
    return {
        a.proposal.reference
        for a in db.session.scalars(select(Assignment).where(Assignment.expert_id == expert.id))
    }


def test_the_coordinator_assigns_and_removes_several_at_once(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call = make_call()  # the AI Factories scheme: same country and same organisation block
    mine = make_proposal(call, reference="P-1", country="FR")
    free = [make_proposal(call, reference=f"P-{n}", country="FR") for n in (2, 3)]
    blocked = make_proposal(call, reference="P-4", country="ES")
    expert = make_user(Role.EXPERT, country="ES", name="Ana Expert")
    make_assignment(mine, expert)
    client = login_as(make_user(Role.COORDINATOR))
    page = f"/calls/{call.key}/experts/{expert.id}"

    html = client.get(page).get_data(as_text=True)
    assert "Ana Expert" in html and "Assigned to 1 proposal of this call" in html
    assert f'id="remove-{mine.id}"' in html  # undeclared: can be removed
    assert f'id="assign-{free[0].id}"' in html and f'id="assign-{blocked.id}"' not in html
    assert "same country as the proposal" in html  # the blocked one says why
    assert f"/calls/{call.key}/experts/{expert.id}" in client.get(
        f"/calls/{call.key}/assignments"
    ).get_data(as_text=True)  # the matrix links each expert's page
    proposal_page = client.get(f"/calls/{call.key}/proposals/{mine.id}").get_data(as_text=True)
    assert f'href="/calls/{call.key}/experts/{expert.id}">Ana Expert</a>' in proposal_page

    # A blocked proposal among the ticked ones: nothing is assigned, the reason is given.
    form = {"action": "assign", "proposal_id": [str(p.id) for p in (*free, blocked)]}
    response = client.post(f"{page}/assignments", data=form, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Nothing was changed" in text and "cannot evaluate P-4" in text
    assert _assigned(expert) == {"P-1"}

    form["proposal_id"] = [str(p.id) for p in free]
    text = client.post(f"{page}/assignments", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Ana Expert is assigned to 2 more proposals." in text
    assert _assigned(expert) == {"P-1", "P-2", "P-3"}
    added = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "assignment.add")
    )
    assert added == 3  # one event per assignment, as a click in the matrix writes

    # An assignment the expert has declared on is kept: removing it with others changes nothing.
    declare_for(db.session.scalar(select(Assignment).where(Assignment.proposal_id == free[0].id)))
    db.session.commit()
    form = {"action": "remove", "proposal_id": [str(mine.id), str(free[0].id)]}
    text = client.post(f"{page}/assignments", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Nothing was changed" in text and _assigned(expert) == {"P-1", "P-2", "P-3"}
    form["proposal_id"] = [str(mine.id), str(free[1].id)]
    text = client.post(f"{page}/assignments", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Ana Expert is no longer assigned to 2 proposals." in text
    assert _assigned(expert) == {"P-2"}


def test_bad_requests_and_closed_phases_change_nothing(
    make_call, make_proposal, make_user, login_as
) -> None:
    call = make_call()
    other = make_call()
    proposal = make_proposal(call, reference="P-1")
    stranger = make_proposal(other, reference="X-1")
    expert = make_user(Role.EXPERT)
    client = login_as(make_user(Role.COORDINATOR))
    url = f"/calls/{call.key}/experts/{expert.id}/assignments"
    assert client.post(url, data={"action": "steal", "proposal_id": proposal.id}).status_code == 400
    nothing = client.post(url, data={"action": "assign"}, follow_redirects=True)
    assert "Tick at least one proposal first." in nothing.get_data(as_text=True)
    foreign = client.post(
        url,
        data={"action": "assign", "proposal_id": [proposal.id, stranger.id]},
        follow_redirects=True,
    )
    assert "not in this call" in foreign.get_data(as_text=True) and _assigned(expert) == set()
    coordinator = make_user(Role.COORDINATOR)
    assert client.get(f"/calls/{call.key}/experts/{coordinator.id}").status_code == 404
    retired = make_user(Role.EXPERT, active=False)  # the matrix lists only active experts
    assert client.get(f"/calls/{call.key}/experts/{retired.id}").status_code == 404
    assert (
        client.post(
            f"/calls/{call.key}/experts/{retired.id}/assignments",
            data={"action": "assign", "proposal_id": proposal.id},
        ).status_code
        == 404
    )
    plant_phase(call, Phase.RANKING)
    late = client.post(
        url, data={"action": "assign", "proposal_id": proposal.id}, follow_redirects=True
    )
    assert "only during set-up and evaluation" in late.get_data(as_text=True)
    assert _assigned(expert) == set()
    assert 'name="proposal_id"' not in client.get(
        f"/calls/{call.key}/experts/{expert.id}"
    ).get_data(as_text=True)  # nothing to tick once the phase is past


def test_a_long_refusal_names_five_pairs_and_counts_the_rest(
    make_call, make_proposal, make_user, login_as
) -> None:
    call = make_call()
    blocked = [make_proposal(call, reference=f"B-{n}", country="ES") for n in range(7)]
    expert = make_user(Role.EXPERT, country="ES")
    client = login_as(make_user(Role.COORDINATOR))
    response = client.post(
        f"/calls/{call.key}/experts/{expert.id}/assignments",
        data={"action": "assign", "proposal_id": [p.id for p in blocked]},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert text.count("cannot evaluate B-") == 5 and "And 2 more." in text
    assert _assigned(expert) == set()


def test_every_assignment_state_has_a_coordinators_label(app_ctx) -> None:
    from reviewer_app.expert.services import AssignmentState
    from reviewer_app.labels import assignment_state_label

    for state in AssignmentState:
        assert assignment_state_label(state) != state.value, state
