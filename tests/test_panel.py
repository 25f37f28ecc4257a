"""The panel review's services (reviewer_app/panel.py): ordering a tie at the funding line with
reasons, comments, the report, and what every reader of the ranking then sees."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from reviewer_app.audit.events import PanelCommented, PanelPlaced, PanelReportSaved
from reviewer_app.coordinator.calls import update_call
from reviewer_app.coordinator.phases import PhaseError, check_move
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase, Role
from reviewer_app.panel import (
    PanelClosed,
    PanelOrderInvalid,
    clear_group,
    groups_at_the_line,
    order_group,
    panel_order,
    panel_record,
    save_comment,
    save_report,
)
from reviewer_app.ranking import rank_call, ranking_csv
from reviewer_app.reports.evaluation import evaluation_in_from_json
from reviewer_app.reports.records import load_records
from reviewer_app.scoring.engine import Status, evaluate
from tests.consensus.helpers import build_scenario, build_tie_at_the_line

REASON_03 = "Stronger plan for start-ups in the region (call priority 2)."
REASON_02 = "Equal merit; the panel preferred the broader user base of AIF-03."


@pytest.fixture
def scenario(make_call, make_proposal, make_user, make_assignment):
    # AIF-01 (1 M) on the main list, then AIF-02 and AIF-03 tied at 4.0 (1 M each): with 2.5 M
    # the tie does not fit whole and goes to the reserve list together.
    return build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


def statuses(call) -> dict[str, tuple[int | None, str]]:
    return {r.reference: (r.rank, r.status.value) for r in rank_call(call).rows}


def order(call, coordinator, places):
    changed = order_group(call, rank_call(call), actor=coordinator, places=places)
    db.session.commit()
    return changed


def test_the_tie_at_the_line_is_marked_and_goes_to_the_reserve_whole(scenario) -> None:
    call, _proposals = scenario
    [(group, at_line), *_rest] = groups_at_the_line(rank_call(call))
    assert [row.reference for row in group] == ["AIF-02", "AIF-03"] and at_line
    assert statuses(call)["AIF-02"] == statuses(call)["AIF-03"] == (2, "reserve")


def test_the_panel_orders_the_tie_and_every_reader_sees_it(scenario, coordinator) -> None:
    call, _proposals = scenario
    before = rank_call(call)
    changed = order(call, coordinator, {"AIF-03": (1, REASON_03), "AIF-02": (2, REASON_02)})
    assert changed == ["AIF-02", "AIF-03"]
    after = rank_call(call)
    assert after is not before  # the audited change is a new state: not the cached ranking
    assert statuses(call)["AIF-03"] == (2, "main")
    assert statuses(call)["AIF-02"] == (3, "reserve")
    assert after.main_total == Decimal("2000000")
    # The CSV flags the panel's place; the groups stay the rules' ties.
    csv = ranking_csv(after)
    line = next(line for line in csv.splitlines() if line.startswith("2,AIF-03"))
    assert "panel_order" in line
    assert [r.reference for r in groups_at_the_line(after)[0][0]] == ["AIF-03", "AIF-02"]
    # Audited through the typed event, reasons and all.
    events = [
        e.typed()
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == PanelPlaced.action)
        )
    ]
    assert {(e.proposal, e.place, e.reason) for e in events} == {
        ("AIF-03", 1, REASON_03),
        ("AIF-02", 2, REASON_02),
    }
    # Saved again unchanged: nothing recorded.
    assert order(call, coordinator, {"AIF-03": (1, REASON_03), "AIF-02": (2, REASON_02)}) == []


def test_the_record_carries_the_order_and_rebuilds_the_same_ranking(scenario, coordinator) -> None:
    call, proposals = scenario
    order(call, coordinator, {"AIF-03": (1, REASON_03), "AIF-02": (2, REASON_02)})
    save_comment(call, "AIF-04", actor=coordinator, text="Strong, but over budget.")
    save_report(call, actor=coordinator, text="The panel met on 3 December.")
    db.session.commit()
    records = load_records(call)
    document = json.loads(records.evaluation_json)
    assert document["panel"] == {
        "places": [
            {"proposal": "AIF-02", "place": 2, "reason": REASON_02},
            {"proposal": "AIF-03", "place": 1, "reason": REASON_03},
        ],
        "comments": [{"proposal": "AIF-04", "comment": "Strong, but over budget."}],
        "report": "The panel met on 3 December.",
    }
    rebuilt = evaluate(evaluation_in_from_json(records.evaluation_json))
    assert ranking_csv(rebuilt) == records.ranking_csv == ranking_csv(rank_call(call))
    assert rebuilt.row("AIF-03").status is Status.MAIN


def test_a_call_without_a_panel_writes_no_panel_into_its_record(scenario) -> None:
    call, _proposals = scenario
    call.panel_review = False
    db.session.commit()
    assert "panel" not in json.loads(load_records(call).evaluation_json)


@pytest.mark.parametrize(
    ("places", "message"),
    [
        ({"AIF-03": (1, REASON_03)}, "not one ex aequo group"),
        ({"AIF-03": (1, REASON_03), "AIF-04": (2, REASON_02)}, "not one ex aequo group"),
        ({"AIF-03": (1, REASON_03), "AIF-02": (1, REASON_02)}, "its own place"),
        ({"AIF-03": (1, REASON_03), "AIF-02": (3, REASON_02)}, "its own place"),
        ({"AIF-03": (1, REASON_03), "AIF-02": (2, "   ")}, "reason for the place of AIF-02"),
        ({"AIF-03": (1, REASON_03), "AIF-02": (2, "x" * 5001)}, "longer than"),
    ],
)
def test_an_order_that_is_not_one_is_refused_and_nothing_is_saved(
    scenario, coordinator, places, message
) -> None:
    call, _proposals = scenario
    with pytest.raises(PanelOrderInvalid) as refused:
        order_group(call, rank_call(call), actor=coordinator, places=places)
    assert message in str(refused.value)
    db.session.rollback()
    assert panel_order(call) == ()


def test_the_panel_works_only_with_a_panel_review_in_the_ranking_phase(
    scenario, coordinator, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, proposals = scenario
    call.panel_review = False
    db.session.commit()
    with pytest.raises(PanelClosed, match="no panel review"):
        save_report(call, actor=coordinator, text="x")
    db.session.rollback()
    early, early_proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS,
        panel_review=True,
    )  # fmt: skip
    with pytest.raises(PanelClosed, match="ranking phase"):
        save_comment(early, "AIF-01", actor=coordinator, text="x")


def test_places_kept_when_the_panel_is_switched_off_count_no_more(scenario, coordinator) -> None:
    call, _proposals = scenario
    order(call, coordinator, {"AIF-03": (1, REASON_03), "AIF-02": (2, REASON_02)})
    update_call(
        call,
        actor=coordinator,
        title=call.title,
        budget_eur=call.budget_eur,
        deadline=call.deadline,
        anonymise_experts=call.anonymise_experts,
        reviews_open_after_submit=call.reviews_open_after_submit,
        consensus_deadline=call.consensus_deadline,
        panel_review=False,
    )
    db.session.commit()
    assert panel_order(call) == () and panel_record(call) is None
    assert statuses(call)["AIF-03"] == (2, "reserve")


def test_clearing_leaves_the_group_tied_again(scenario, coordinator) -> None:
    call, _proposals = scenario
    order(call, coordinator, {"AIF-03": (1, REASON_03), "AIF-02": (2, REASON_02)})
    cleared = clear_group(call, actor=coordinator, references=["AIF-02", "AIF-03"])
    db.session.commit()
    assert cleared == ["AIF-02", "AIF-03"]
    assert statuses(call)["AIF-02"] == statuses(call)["AIF-03"] == (2, "reserve")
    last = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == PanelPlaced.action).order_by(AuditEvent.id)
    ).all()[-1]
    assert last.typed() == PanelPlaced(proposal="AIF-03", place=None)


def test_comments_and_the_report_are_audited_and_the_report_is_needed_to_close(
    scenario, coordinator
) -> None:
    call, proposals = scenario
    assert save_comment(call, "AIF-02", actor=coordinator, text="  Tied, see report. ")
    assert not save_comment(call, "AIF-02", actor=coordinator, text="Tied, see report.")
    db.session.commit()
    assert panel_record(call).comments == {"AIF-02": "Tied, see report."}  # type: ignore[union-attr]
    with pytest.raises(PhaseError, match="panel's report"):
        check_move(call, Phase.DECIDED, confirm_close=True)
    assert save_report(call, actor=coordinator, text="Report of the panel.")
    db.session.commit()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {PanelCommented.action, PanelReportSaved.action} <= actions
    with pytest.raises(PhaseError) as other:
        check_move(call, Phase.DECIDED, confirm_close=True)
    assert "panel" not in str(other.value)  # now it is the missing decisions
