"""Decisions: prefilled from the ranking, a rationale for every departure, then `decided`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from reviewer_app.coordinator.decisions import (
    DecisionsClosed,
    DecisionsInvalid,
    close_call,
    missing_decisions,
    prefill_outcome,
    record_decision,
)
from reviewer_app.coordinator.phases import PhaseError
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Call, Decision, DecisionOutcome, Phase, Role
from reviewer_app.scoring.engine import Status
from tests.consensus.helpers import build_scenario

SUGGESTED = {
    "AIF-01": "funded",
    "AIF-02": "funded",
    "AIF-03": "funded",
    "AIF-04": "reserve",
    "AIF-07": "reserve",
    "AIF-05": "rejected",
    "AIF-06": "",  # incomplete: no suggestion
}


@pytest.fixture
def scenario(make_call, make_proposal, make_user, make_assignment):
    return build_scenario(make_call, make_proposal, make_user, make_assignment)


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


def form_data(proposals, outcomes: dict[str, str], rationales: dict[str, str] | None = None):
    rationales = rationales or {}
    data = {}
    for ref, proposal in proposals.items():
        data[f"d_{proposal.id}-outcome"] = outcomes.get(ref, "")
        data[f"d_{proposal.id}-rationale"] = rationales.get(ref, "")
    return data


def decisions() -> dict[str, tuple[str, str]]:
    db.session.expire_all()
    return {
        d.proposal.reference: (d.outcome.value, d.rationale)
        for d in db.session.scalars(select(Decision))
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (Status.MAIN, DecisionOutcome.FUNDED),
        (Status.RESERVE, DecisionOutcome.RESERVE),
        (Status.BELOW_THRESHOLD, DecisionOutcome.REJECTED),
        (Status.INCOMPLETE, None),
    ],
)
def test_prefill_follows_the_status(status, outcome) -> None:
    assert prefill_outcome(status) is outcome


def test_page_is_prefilled_from_the_ranking(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    html = login_as(coordinator).get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    for ref, outcome in SUGGESTED.items():
        select_html = html[html.index(f'name="d_{proposals[ref].id}-outcome"') :]
        select_html = select_html[: select_html.index("</select>")]
        assert f'<option selected value="{outcome}">' in select_html, ref
    assert "Still without a decision" in html


def test_saving_the_suggestions_records_every_decision_and_audits_each(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    outcomes = dict(SUGGESTED, **{"AIF-06": "rejected"})
    rationale = {"AIF-06": "Only two reviews; the third expert withdrew."}
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes, rationale)
    )
    assert response.status_code == 302
    recorded = decisions()
    assert {ref: o for ref, (o, _r) in recorded.items()} == outcomes
    assert recorded["AIF-06"][1] == rationale["AIF-06"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "decision.record")
    ).all()
    assert len(events) == 7
    assert all(e.actor_id == coordinator.id for e in events)
    assert missing_decisions(call) == []


def test_departure_without_rationale_saves_nothing(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    outcomes = dict(SUGGESTED, **{"AIF-04": "funded"})  # reserve -> funded, no reason given
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give a rationale: this outcome departs from the ranking." in html
    assert html.count("invalid-feedback") == 1
    assert decisions() == {}


def test_incomplete_proposal_needs_a_rationale_whatever_the_outcome(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-06": "rejected"})
    )
    assert "the evaluation of this proposal is incomplete" in response.get_data(as_text=True)
    assert decisions() == {}


def test_departure_with_rationale_is_recorded(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    outcomes = {"AIF-04": "funded"}
    reason = {"AIF-04": "National co-funding doubled after the evaluation."}
    login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes, reason)
    )
    assert decisions() == {"AIF-04": ("funded", reason["AIF-04"])}


def test_unknown_outcome_is_refused(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "maybe"})
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert decisions() == {}


def test_an_unchanged_decision_is_not_audited_again(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    client.post(f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "funded"}))
    client.post(f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "funded"}))
    client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, {"AIF-01": "ineligible"}, {"AIF-01": "Applicant not eligible."}),
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "decision.record").order_by(AuditEvent.id)
    ).all()
    assert [(e.data["previous"], e.data["outcome"]) for e in events] == [
        (None, "funded"),
        ("funded", "ineligible"),
    ]


@pytest.mark.parametrize("phase", [Phase.CONSENSUS, Phase.DECIDED])
def test_decisions_only_in_the_ranking_phase(
    make_call, make_proposal, make_user, make_assignment, coordinator, login_as, phase
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=phase
    )
    client = login_as(coordinator)
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "Save decisions" not in html
    response = client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, {"AIF-01": "funded"}),
        follow_redirects=True,
    )
    assert "only while the call is in the ranking phase" in response.get_data(as_text=True)
    assert decisions() == {}
    with pytest.raises(DecisionsClosed):
        record_decision(proposals["AIF-01"], DecisionOutcome.FUNDED, "", coordinator)


def test_service_refuses_a_departure_without_rationale(scenario, coordinator) -> None:
    _call, proposals = scenario
    with pytest.raises(DecisionsInvalid) as excinfo:
        record_decision(proposals["AIF-05"], DecisionOutcome.FUNDED, "  ", coordinator)
    assert list(excinfo.value.errors) == [proposals["AIF-05"].id]


def test_observers_read_decisions_but_cannot_record(scenario, make_user, login_as) -> None:
    call, proposals = scenario
    client = login_as(make_user(Role.OBSERVER))
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "Save decisions" not in html and "Move to decided" not in html
    response = client.post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "funded"})
    )
    assert response.status_code == 403
    assert client.post(f"/calls/{call.key}/decide").status_code == 403
    assert decisions() == {}


def test_experts_cannot_open_decisions(scenario, make_user, login_as) -> None:
    call, _ = scenario
    assert login_as(make_user(Role.EXPERT)).get(f"/calls/{call.key}/decisions").status_code == 403


def test_moving_to_decided_needs_every_decision(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    client.post(f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "funded"}))
    response = client.post(f"/calls/{call.key}/decide", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Proposals without a decision: AIF-02, AIF-03" in html
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.phase is Phase.RANKING and call.decided_at is None


def test_moving_to_decided_records_who_and_when_then_everything_is_read_only(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    outcomes = dict(SUGGESTED, **{"AIF-06": "rejected"})
    client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, outcomes, {"AIF-06": "Incomplete evaluation."}),
    )
    response = client.post(f"/calls/{call.key}/decide", follow_redirects=True)
    assert "The call is decided." in response.get_data(as_text=True)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.phase is Phase.DECIDED
    assert call.decided_by_id == coordinator.id and call.decided_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.decide"))
    assert event.data["decisions"] == {"funded": 3, "reserve": 2, "rejected": 2}
    # Read-only: no form, a changed decision is refused, closing again is refused.
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "Save decisions" not in html and "Everything is read-only now." in html
    client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, {"AIF-01": "rejected"}, {"AIF-01": "Changed my mind."}),
    )
    assert decisions()["AIF-01"] == ("funded", "")
    response = client.post(f"/calls/{call.key}/decide", follow_redirects=True)
    assert "already in the phase" in response.get_data(as_text=True)


def test_close_call_service_refuses_outside_ranking(
    make_call, make_proposal, make_user, make_assignment, coordinator
) -> None:
    call, _ = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    with pytest.raises(PhaseError):
        close_call(call, coordinator)
    assert call.decided_by_id is None


def test_closing_refuses_a_decision_the_ranking_no_longer_backs(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    outcomes = dict(SUGGESTED, **{"AIF-06": "rejected"})
    client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, outcomes, {"AIF-06": "Incomplete evaluation."}),
    )
    # A corrected funding amount pushes AIF-03 (funded) below the funding line.
    proposals["AIF-03"].requested_funding_eur = Decimal("2000000")
    db.session.commit()
    response = client.post(f"/calls/{call.key}/decide", follow_redirects=True)
    assert "now depart from the ranking without a rationale: AIF-02, AIF-03" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert 'text-danger">These decisions now depart from the ranking' in html


def test_rationales_sent_after_the_session_expired_come_back(
    scenario, coordinator, login_as, app
) -> None:
    import re

    from ..conftest import PASSWORD

    call, proposals = scenario
    page = login_as(coordinator).get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    ticket = re.search(r'name="_stash" value="([^"]+)"', page).group(1)
    reason = {"AIF-04": "The panel weighed the national co-funding; written over a long hour."}
    expired = app.test_client()
    response = expired.post(
        f"/calls/{call.key}/decisions",
        data={**form_data(proposals, {"AIF-04": "funded"}, reason), "_stash": ticket},
    )
    assert "kept=1" in response.headers["Location"]
    assert decisions() == {}
    expired.post("/login", data={"email": coordinator.email, "password": PASSWORD})
    restored = expired.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "We restored your unsaved input." in restored
    assert reason["AIF-04"] in restored
