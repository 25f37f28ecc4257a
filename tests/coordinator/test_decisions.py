"""Decisions: prefilled from the ranking, a rationale for every departure, then `decided`."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

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


def form_data(
    proposals,
    outcomes: dict[str, str],
    rationales: dict[str, str] | None = None,
    amounts: dict[str, str] | None = None,
):
    rationales = rationales or {}
    data = {}
    for ref, proposal in proposals.items():
        data[f"d_{proposal.id}-outcome"] = outcomes.get(ref, "")
        data[f"d_{proposal.id}-rationale"] = rationales.get(ref, "")
        data[f"d_{proposal.id}-amount_eur"] = (amounts or {}).get(ref, "")
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
    before = decisions()  # a decided call has every decision, as its close required
    assert len(before) == (7 if phase is Phase.DECIDED else 0)
    response = client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, {"AIF-01": "rejected", "AIF-06": "funded"}),
        follow_redirects=True,
    )
    assert "only while the call is in the ranking phase" in response.get_data(as_text=True)
    assert decisions() == before
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
    response = client.post(
        f"/calls/{call.key}/decide", data={"confirm": "y"}, follow_redirects=True
    )
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
    response = client.post(
        f"/calls/{call.key}/decide", data={"confirm": "y"}, follow_redirects=True
    )
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


# --- the budget and granted amounts -------------------------------------------------------------

ALL_DECIDED = dict(SUGGESTED, **{"AIF-06": "rejected"})
AIF06_REASON = {"AIF-06": "Only two reviews; the third expert withdrew."}


def granted() -> dict[str, Decimal | None]:
    db.session.expire_all()
    return {d.proposal.reference: d.amount_eur for d in db.session.scalars(select(Decision))}


def test_funded_decisions_above_the_budget_are_refused_naming_the_budget(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    # The suggestions fund 3,000,000 EUR; funding AIF-04 as well makes 4,000,000 EUR.
    outcomes = dict(ALL_DECIDED, **{"AIF-04": "funded"})
    reasons = dict(AIF06_REASON, **{"AIF-04": "National co-funding doubled."})
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes, reasons)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "The funded decisions total 4,000,000.00 EUR, more than the call&#39;s budget of "
        "3,500,000.00 EUR." in html
    )
    assert decisions() == {}


def test_a_granted_amount_below_the_request_keeps_the_decisions_within_the_budget(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    outcomes = dict(ALL_DECIDED, **{"AIF-04": "funded"})
    reasons = dict(AIF06_REASON, **{"AIF-04": "National co-funding doubled."})
    response = client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, outcomes, reasons, {"AIF-04": "500000.00"}),
    )
    assert response.status_code == 302
    assert granted()["AIF-04"] == Decimal("500000.00")
    assert granted()["AIF-01"] is None  # empty: the requested funding
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "Funded: 3,500,000.00 EUR of a budget of 3,500,000.00 EUR" in html
    assert 'value="500000.00"' in html
    # Changing only the amount is a change, recorded and audited.
    client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, outcomes, reasons, {"AIF-04": "400000"}),
    )
    assert granted()["AIF-04"] == Decimal("400000.00")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "decision.record")
        )
        == 8
    )


@pytest.mark.parametrize(
    ("outcomes", "amounts", "message"),
    [
        ({"AIF-04": "reserve"}, {"AIF-04": "1000"}, "Only a funded decision has a granted amount."),
        (
            {"AIF-01": "funded"},
            {"AIF-01": "1000000.01"},
            "The granted amount is more than the requested funding of 1,000,000.00 EUR.",
        ),
        ({"AIF-01": "funded"}, {"AIF-01": "0"}, "The granted amount must be more than zero."),
        (
            {"AIF-07": "funded"},
            {},
            "Give the granted amount: the proposal requests no amount and the call has a budget.",
        ),
        ({"AIF-01": "funded"}, {"AIF-01": "12.345"}, "Use at most two decimals (cents)."),
    ],
)
def test_granted_amounts_are_checked(
    scenario, coordinator, login_as, outcomes, amounts, message
) -> None:
    call, proposals = scenario
    reasons = {"AIF-07": "Strategic priority."}
    response = login_as(coordinator).post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes, reasons, amounts)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert html.count("invalid-feedback") == 1
    assert decisions() == {}


def test_without_a_budget_only_the_total_is_shown(
    make_call, make_proposal, make_user, make_assignment, coordinator, login_as
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, budget_eur=None
    )
    client = login_as(coordinator)
    outcomes = dict.fromkeys(("AIF-01", "AIF-02", "AIF-03", "AIF-04", "AIF-05"), "funded")
    reasons = {"AIF-05": "Panel decision.", "AIF-04": "Panel decision."}
    response = client.post(
        f"/calls/{call.key}/decisions", data=form_data(proposals, outcomes, reasons)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "Funded: 4,500,000.00 EUR (the call has no budget)" in html


# --- closing the call: a page of its own, confirmed in its form ---------------------------------


def save_all(client, call, proposals, amounts=None) -> None:
    response = client.post(
        f"/calls/{call.key}/decisions",
        data=form_data(proposals, ALL_DECIDED, AIF06_REASON, amounts),
    )
    assert response.status_code == 302


def test_closing_page_shows_the_decisions_the_funded_total_and_the_budget(
    scenario, coordinator, login_as
) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    save_all(client, call, proposals, {"AIF-02": "750000"})
    decisions_page = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert "data-confirm" not in decisions_page
    assert f'href="/calls/{call.key}/decide">Move to decided</a>' in decisions_page
    page = client.get(f"/calls/{call.key}/decide").get_data(as_text=True)
    assert "Close the call?" in page
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Funded: 3 Reserve: 2 Rejected: 2 Ineligible: 0" in text
    assert "Funded: 2,750,000.00 EUR of a budget of 3,500,000.00 EUR" in page
    assert '<tr data-ref="AIF-02">' in page and "750,000.00" in page
    assert 'type="checkbox"' in page and "required" in page
    assert "I have checked these decisions and close the call for good." in page
    assert "<script>" not in page  # works without script: nothing inline to run


def test_closing_needs_the_box_ticked(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    save_all(client, call, proposals)
    response = client.post(f"/calls/{call.key}/decide", data={})
    assert response.status_code == 400
    assert "Tick the box to confirm that the call closes for good." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.decide")) is None
    response = client.post(f"/calls/{call.key}/decide", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.DECIDED


def test_closing_page_names_what_blocks_and_offers_no_form(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    client.post(f"/calls/{call.key}/decisions", data=form_data(proposals, {"AIF-01": "funded"}))
    page = client.get(f"/calls/{call.key}/decide").get_data(as_text=True)
    assert "Proposals without a decision: AIF-02, AIF-03" in page
    assert "I have checked these decisions" not in page


def test_closing_refuses_funded_decisions_above_the_budget(scenario, coordinator, login_as) -> None:
    call, proposals = scenario
    client = login_as(coordinator)
    save_all(client, call, proposals)
    # Recorded before the budget was checked (or written around the service): 4,000,000 EUR.
    decision = proposals["AIF-04"].decision
    decision.outcome, decision.rationale = DecisionOutcome.FUNDED, "Co-funding."
    db.session.commit()
    assert "500,000.00 EUR over the budget" in client.get(f"/calls/{call.key}/decisions").get_data(
        as_text=True
    )
    response = client.post(f"/calls/{call.key}/decide", data={"confirm": "y"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "The funded decisions total 4,000,000.00 EUR, more than the call&#39;s budget of "
        "3,500,000.00 EUR." in html
    )
    assert "I have checked these decisions" not in html
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING


def test_the_closing_page_is_for_coordinators_only(scenario, make_user, login_as) -> None:
    call, _ = scenario
    for role in (Role.OBSERVER, Role.EXPERT):
        client = login_as(make_user(role))
        assert client.get(f"/calls/{call.key}/decide").status_code == 403
        assert client.post(f"/calls/{call.key}/decide", data={"confirm": "y"}).status_code == 403
        client.post("/logout")
