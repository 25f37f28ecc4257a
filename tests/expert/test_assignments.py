"""'My assignments': what an expert sees of their assignments, and nothing else."""

from __future__ import annotations

from datetime import date

import pytest

from reviewer_app.coordinator.progress import set_due_date
from reviewer_app.models import Phase
from tests.factories import advance_call, declare_for, in_setup, plant_phase, write_review

from .conftest import Setup, count_queries


def test_empty_state_when_nothing_is_assigned(login_as) -> None:
    client = login_as("expert")
    html = client.get("/expert/").get_data(as_text=True)
    assert "No proposals are assigned to you at the moment" in html


def test_lists_each_state_with_due_date_and_deadline(
    setup: Setup, make_proposal, make_assignment, login_as, app_ctx
) -> None:
    def assigned(reference: str):
        return make_assignment(make_proposal(setup.call, reference=reference), setup.expert)

    with in_setup(setup.call):
        conflicted, started, submitted, untouched = (
            assigned(r) for r in ("C-1", "D-1", "S-1", "N-1")
        )
        set_due_date(setup.call, setup.expert, date(2030, 1, 9), actor=None)
        # Planted: the first keeps its own date, as after a reopened review (the page sets
        # one date for all of an expert's open work).
        setup.assignment.due_date = date(2030, 1, 15)
    declare_for(conflicted, conflict="My employer")
    declare_for(untouched)
    write_review(started, {}, submitted=False)  # saved once, nothing entered yet
    write_review(submitted, {"compute": "4", "expertise": "4", "funding": "4"})

    html = login_as(setup.expert).get("/expert/").get_data(as_text=True)

    assert "AI Factories" in html and "31 Jan 2030" in html  # call title and deadline
    assert "1 of 4 submitted" in html  # the conflicted one does not count
    assert "15 Jan 2030" in html and "9 Jan 2030" in html  # due dates
    for label in ("Declaration needed", "Conflict declared", "Draft", "Submitted", "Not started"):
        assert label in html
    # A conflicted proposal is listed, but there is no way into it.
    assert f"/expert/assignments/{conflicted.id}" not in html
    assert f"/expert/assignments/{started.id}" in html
    assert f"/expert/assignments/{setup.assignment.id}/declaration" in html


def test_calls_in_setup_and_other_experts_assignments_are_not_listed(
    setup: Setup, make_call, make_proposal, make_assignment, make_user, login_as
) -> None:
    draft_call = make_call(title="Still in setup")
    make_assignment(make_proposal(draft_call, title="Hidden setup proposal"), setup.expert)
    other = make_user("expert")
    with in_setup(setup.call):
        make_assignment(make_proposal(setup.call, title="Someone else's proposal"), other)

    html = login_as(setup.expert).get("/expert/").get_data(as_text=True)

    assert "BSC AI Factory" in html
    assert "Still in setup" not in html and "Hidden setup proposal" not in html
    assert "Someone else&#39;s proposal" not in html and "Someone else's proposal" not in html


def test_coordinator_is_refused(login_as) -> None:
    client = login_as("coordinator")
    assert client.get("/expert/").status_code == 403


def test_signed_out_visitor_is_sent_to_sign_in(client) -> None:
    response = client.get("/expert/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_consensus_link_only_in_consensus_phase_and_when_the_page_exists(
    declared: Setup, client, app
) -> None:
    from flask import url_for

    from reviewer_app.extensions import db

    if "consensus.proposal" not in app.view_functions:
        pytest.skip("the consensus pages are not there yet")
    with app.test_request_context():
        link = f'href="{url_for("consensus.proposal", proposal_id=declared.proposal.id)}"'
    assert link not in client.get("/expert/").get_data(as_text=True)
    advance_call(declared.call, Phase.CONSENSUS)
    db.session.commit()
    html = client.get("/expert/").get_data(as_text=True)
    assert link in html
    assert "View</a>" in html  # no more writing: the review opens read-only


def test_query_count_does_not_grow_with_the_assignments(
    setup: Setup, make_proposal, make_assignment, make_call, login_as
) -> None:
    client = login_as(setup.expert)
    with count_queries() as few:
        client.get("/expert/")
    other_call = make_call()
    with in_setup(setup.call):
        for n in range(6):
            call = setup.call if n % 2 else other_call
            make_assignment(make_proposal(call), setup.expert)
    plant_phase(other_call, Phase.EVALUATION)
    with count_queries() as many:
        html = client.get("/expert/").get_data(as_text=True)
    assert html.count("Declaration needed") == 7
    assert len(many) == len(few)


def test_overdue_assignments_are_marked_until_submitted(setup: Setup, login_as) -> None:
    from reviewer_app.extensions import db

    setup.assignment.due_date = date(2020, 1, 1)
    db.session.commit()
    client = login_as(setup.expert)
    assert "overdue" in client.get("/expert/").get_data(as_text=True)
    write_review(setup.assignment, {"compute": "4", "expertise": "4", "funding": "4"})
    assert "overdue" not in client.get("/expert/").get_data(as_text=True)
