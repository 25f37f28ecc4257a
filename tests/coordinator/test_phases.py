"""Phase control: one step forward at a time, each refusal with its reason, every move audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from reviewer_app.audit.events import PhaseMoved
from reviewer_app.coordinator.calls import update_call
from reviewer_app.coordinator.decisions import DecisionEntry, record_decisions
from reviewer_app.coordinator.phases import PhaseError, ReopenError, move_phase, reopen_review
from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    Call,
    Decision,
    DecisionOutcome,
    Phase,
    ReviewStatus,
    Role,
)
from tests.consensus.helpers import build_panel, build_scenario
from tests.factories import write_consensus


@pytest.fixture
def staffed_call(make_call, make_proposal, make_user, make_assignment):
    """A call in setup with two proposals, each with three assigned experts."""
    call = make_call()
    experts = [make_user("expert") for _ in range(3)]
    proposals = [make_proposal(call) for _ in range(2)]
    for proposal in proposals:
        for expert in experts:
            make_assignment(proposal, expert)
    return call


def _phase_events(call_id: int) -> list[PhaseMoved]:
    """The phase moves as the typed event the service writes and every reader reads."""
    return [
        e.typed()
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "call.phase", AuditEvent.call_id == call_id)
            .order_by(AuditEvent.id)
        )
    ]


def test_move_to_evaluation_is_recorded_with_from_and_to(staffed_call) -> None:
    move_phase(staffed_call, Phase.EVALUATION)
    db.session.commit()
    assert staffed_call.phase is Phase.EVALUATION
    assert _phase_events(staffed_call.id) == [
        PhaseMoved(from_phase=Phase.SETUP, to_phase=Phase.EVALUATION)
    ]


@pytest.mark.parametrize("target", [Phase.CONSENSUS, Phase.RANKING, Phase.DECIDED, Phase.SETUP])
def test_only_the_next_phase_is_allowed(staffed_call, target) -> None:
    with pytest.raises(PhaseError) as excinfo:
        move_phase(staffed_call, target)
    assert staffed_call.phase is Phase.SETUP
    assert "“Evaluation”" in excinfo.value.message or "already" in excinfo.value.message


def test_no_way_back(staffed_call, advance) -> None:
    call = advance(staffed_call, to=Phase.CONSENSUS)
    with pytest.raises(PhaseError, match="one step at a time"):
        move_phase(call, Phase.EVALUATION)


def test_refused_without_proposals(make_call) -> None:
    call = make_call()
    with pytest.raises(PhaseError, match="no proposals"):
        move_phase(call, Phase.EVALUATION)
    assert call.phase is Phase.SETUP
    assert _phase_events(call.id) == []


def test_refused_when_a_proposal_lacks_experts(
    make_call, make_proposal, make_user, make_assignment
):
    call = make_call()
    full, short = make_proposal(call), make_proposal(call)
    experts = [make_user("expert") for _ in range(3)]
    for expert in experts:
        make_assignment(full, expert)
    make_assignment(short, experts[0])
    with pytest.raises(PhaseError) as excinfo:
        move_phase(call, Phase.EVALUATION)
    assert f"{short.reference} (1/3)" in excinfo.value.message
    assert full.reference not in excinfo.value.message


def test_conflicted_experts_do_not_count(staffed_call, declare_conflict) -> None:
    proposal = staffed_call.proposals[0]
    declare_conflict(proposal.assignments[0])
    with pytest.raises(PhaseError, match=rf"{proposal.reference} \(2/3\)"):
        move_phase(staffed_call, Phase.EVALUATION)


def test_leaving_evaluation_with_open_reviews_needs_confirmation(staffed_call, make_review):
    move_phase(staffed_call, Phase.EVALUATION)
    for assignment in staffed_call.proposals[0].assignments:
        make_review(assignment)
    make_review(staffed_call.proposals[1].assignments[0], submitted=False)
    with pytest.raises(PhaseError, match="Reviews still open: 3"):
        move_phase(staffed_call, Phase.CONSENSUS)
    assert staffed_call.phase is Phase.EVALUATION
    move_phase(staffed_call, Phase.CONSENSUS, confirm_open_reviews=True)
    db.session.commit()
    assert staffed_call.phase is Phase.CONSENSUS
    assert _phase_events(staffed_call.id)[-1] == PhaseMoved(
        from_phase=Phase.EVALUATION, to_phase=Phase.CONSENSUS, open_reviews=3
    )


def test_leaving_evaluation_with_every_review_in_needs_no_confirmation(
    staffed_call, make_review, declare_conflict
) -> None:
    move_phase(staffed_call, Phase.EVALUATION)
    for proposal in staffed_call.proposals:
        for assignment in proposal.assignments[1:]:
            make_review(assignment)
    # A conflicted expert owes no review.
    declare_conflict(staffed_call.proposals[0].assignments[0])
    make_review(staffed_call.proposals[1].assignments[0])
    move_phase(staffed_call, Phase.CONSENSUS)
    assert staffed_call.phase is Phase.CONSENSUS


def plant_unexplained_decision(proposal, outcome: DecisionOutcome) -> None:
    """A decision departing from the ranking without a rationale, written straight into the
    database: record_decisions refuses one, so only a ranking that moved after the decision
    leaves one behind; planted to show that the close refuses it too."""
    db.session.add(Decision(proposal=proposal, outcome=outcome))
    db.session.commit()


def decide(call, actor, *entries: DecisionEntry) -> None:
    """The coordinator's decisions, as the decisions page records them."""
    record_decisions(call, list(entries), actor)
    db.session.commit()


def test_decided_needs_a_decision_for_every_proposal(staffed_call, advance, make_user) -> None:
    board = make_user(Role.COORDINATOR)
    advance(staffed_call, to=Phase.RANKING)  # nobody reviewed: both proposals incomplete
    first, second = staffed_call.proposals
    plant_unexplained_decision(first, DecisionOutcome.FUNDED)
    with pytest.raises(PhaseError) as excinfo:
        move_phase(staffed_call, Phase.DECIDED)
    assert second.reference in excinfo.value.message
    assert first.reference not in excinfo.value.message
    decide(staffed_call, board, DecisionEntry(second, DecisionOutcome.REJECTED, "x"))
    # Without reviews both proposals are incomplete: funding one departs from the ranking and
    # needs a rationale before the call can be closed (from the web page and the CLI alike).
    with pytest.raises(PhaseError) as excinfo:
        move_phase(staffed_call, Phase.DECIDED)
    assert "depart from the ranking" in excinfo.value.message
    assert first.reference in excinfo.value.message
    decide(
        staffed_call,
        board,
        DecisionEntry(first, DecisionOutcome.FUNDED, "Strategic priority agreed by the board."),
    )
    # Closing cannot be undone: without the confirmation it is refused, with a summary.
    with pytest.raises(PhaseError) as excinfo:
        move_phase(staffed_call, Phase.DECIDED)
    assert excinfo.value.confirm == "close"
    assert "Decisions: Funded 1, Rejected 1; funded total 1,000,000.00 EUR, budget none" in (
        excinfo.value.message
    )
    move_phase(staffed_call, Phase.DECIDED, confirm_close=True)
    db.session.commit()
    assert staffed_call.phase is Phase.DECIDED
    assert staffed_call.decided_at is not None
    with pytest.raises(PhaseError, match="Decided"):
        move_phase(staffed_call, Phase.DECIDED, confirm_close=True)


@pytest.fixture
def consensus_call(make_call, make_proposal, make_user, make_assignment):
    """A call in consensus with seven proposals: one final consensus report, one draft, and five
    proposals whose consensus was never started (the issue's "1 of 7 final")."""
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    write_consensus(proposals["AIF-01"], {"compute": "4.5", "expertise": "4.5", "funding": "4.5"})
    write_consensus(
        proposals["AIF-02"], {"compute": "4", "expertise": "4", "funding": "4"}, final=False
    )
    return call


def test_moving_to_ranking_lists_the_consensus_reports_not_final(consensus_call) -> None:
    with pytest.raises(PhaseError) as excinfo:
        move_phase(consensus_call, Phase.RANKING)
    assert excinfo.value.confirm == "unfinished_consensus"
    assert (
        "Consensus reports not final: AIF-02, AIF-03, AIF-04, AIF-05, AIF-06, AIF-07 "
        "(1 of 7 final)" in excinfo.value.message
    )
    assert consensus_call.phase is Phase.CONSENSUS
    move_phase(consensus_call, Phase.RANKING, confirm_unfinished_consensus=True)
    db.session.commit()
    assert consensus_call.phase is Phase.RANKING


def test_moving_to_ranking_with_every_consensus_final_needs_no_confirmation(
    make_call, make_proposal, make_user, make_assignment
) -> None:
    panel = build_panel(make_call, make_proposal, make_user, make_assignment)
    write_consensus(panel.proposal, {"compute": "4", "expertise": "3", "funding": "3.5"})
    call = panel.call
    move_phase(call, Phase.RANKING)
    assert call.phase is Phase.RANKING


def test_closing_refuses_funded_decisions_above_the_budget(
    staffed_call, advance, make_user
) -> None:
    board = make_user(Role.COORDINATOR)
    advance(staffed_call, to=Phase.RANKING)
    first, second = staffed_call.proposals  # 1,000,000 EUR requested each
    decide(
        staffed_call,
        board,
        *(DecisionEntry(p, DecisionOutcome.FUNDED, "Board.") for p in (first, second)),
    )
    # The budget is cut after the decisions (the call's settings stay editable in ranking).
    update_call(
        staffed_call,
        actor=None,
        title=staffed_call.title,
        budget_eur=Decimal("1500000"),
        deadline=staffed_call.deadline,
        anonymise_experts=staffed_call.anonymise_experts,
        reviews_open_after_submit=staffed_call.reviews_open_after_submit,
        consensus_deadline=staffed_call.consensus_deadline,
    )
    db.session.commit()
    with pytest.raises(PhaseError) as excinfo:
        move_phase(staffed_call, Phase.DECIDED, confirm_close=True)
    assert excinfo.value.confirm is None  # no confirmation lets this through
    assert (
        "The funded decisions total 2,000,000.00 EUR, more than the call's budget of "
        "1,500,000.00 EUR" in excinfo.value.message
    )
    assert staffed_call.phase is Phase.RANKING
    # A granted amount below the request brings the total within the budget.
    decide(
        staffed_call,
        board,
        DecisionEntry(first, DecisionOutcome.FUNDED, "Board.", Decimal("500000")),
    )
    with pytest.raises(PhaseError, match=r"funded total 1,500,000\.00 EUR, budget 1,500,000"):
        move_phase(staffed_call, Phase.DECIDED)
    move_phase(staffed_call, Phase.DECIDED, confirm_close=True)
    assert staffed_call.phase is Phase.DECIDED


def test_phase_page_lists_unfinished_consensus_and_needs_the_box(consensus_call, login_as) -> None:
    client = login_as(Role.COORDINATOR)
    url = f"/calls/{consensus_call.key}/phase"
    page = client.get(url).get_data(as_text=True)
    assert "Consensus reports not final: 6 of 7 proposals." in page
    assert "<li>AIF-07 " in page and "<li>AIF-01 " not in page
    assert "Move to ranking although some consensus reports are not final" in page
    response = client.post(url, data={"target": "ranking"})
    assert response.status_code == 400
    assert "(1 of 7 final)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, consensus_call.id).phase is Phase.CONSENSUS
    response = client.post(url, data={"target": "ranking", "confirm_unfinished_consensus": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, consensus_call.id).phase is Phase.RANKING


def test_phase_page_hands_closing_to_the_confirmation_page(staffed_call, advance, login_as) -> None:
    call = advance(staffed_call, to=Phase.RANKING)
    client = login_as(Role.COORDINATOR)
    for response in (
        client.get(f"/calls/{call.key}/phase"),
        client.post(f"/calls/{call.key}/phase", data={"target": "decided"}),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/calls/{call.key}/decide")
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING


def test_reopen_a_submitted_review_during_evaluation(staffed_call, make_review) -> None:
    move_phase(staffed_call, Phase.EVALUATION)
    review = make_review(staffed_call.proposals[0].assignments[0])
    with pytest.raises(ReopenError, match="reason"):
        reopen_review(review, "   ")
    assert review.status is ReviewStatus.SUBMITTED
    reopen_review(review, "Scores swapped between criteria")
    db.session.commit()
    assert review.status is ReviewStatus.DRAFT
    assert review.submitted_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.reopen"))
    assert event.data["reason"] == "Scores swapped between criteria"
    with pytest.raises(ReopenError, match="not submitted"):
        reopen_review(review, "again")


def test_reopen_refused_outside_evaluation(staffed_call, make_review, advance) -> None:
    advance(staffed_call, to=Phase.EVALUATION)
    review = make_review(staffed_call.proposals[0].assignments[0])
    advance(staffed_call, to=Phase.CONSENSUS)
    with pytest.raises(ReopenError, match="evaluation"):
        reopen_review(review, "late correction")
    assert review.status is ReviewStatus.SUBMITTED
