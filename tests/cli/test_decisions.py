"""``reviewer-app decisions import`` and the confirmations of ``call phase``: the rules of the
decisions page, every bad row named, the budget named, nothing written on any problem."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    Call,
    Decision,
    DecisionOutcome,
    Phase,
    Proposal,
    Role,
)
from tests.consensus.helpers import build_scenario
from tests.factories import write_consensus

from .test_roundtrip import fails, ok

HEADER = "reference,outcome,amount_eur,rationale"
# The ranking's suggestions, AIF-06 (incomplete) explained; 3,000,000 EUR of 3,500,000 funded.
SUGGESTED = [
    "AIF-01,funded,,",
    "AIF-02,funded,,",
    "AIF-03,funded,,",
    "AIF-04,reserve,,",
    "AIF-05,rejected,,",
    "AIF-06,rejected,,Only two reviews; the third expert withdrew.",
    "AIF-07,reserve,,",
]


@pytest.fixture
def scenario(make_call, make_proposal, make_user, make_assignment):
    return build_scenario(make_call, make_proposal, make_user, make_assignment)


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


def write(tmp_path, *lines: str, name: str = "decisions.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def recorded() -> dict[str, tuple[str, Decimal | None, str]]:
    db.session.expire_all()
    return {
        d.proposal.reference: (d.outcome.value, d.amount_eur, d.rationale)
        for d in db.session.scalars(select(Decision))
    }


def test_import_records_the_decisions_and_audits_each(
    runner, scenario, coordinator, tmp_path
) -> None:
    call, _ = scenario
    lines = [*SUGGESTED]
    # Funding AIF-04 too departs from the ranking; a cut grant keeps it within the budget.
    lines[3] = "AIF-04,Funded,500000,National co-funding doubled."
    out = ok(
        runner,
        "decisions", "import", call.key, str(write(tmp_path, HEADER, *lines)),
        "--by", coordinator.email.upper(),
    )  # fmt: skip
    assert "Recorded 7 decisions" in out
    assert "Funded: 4, 3,500,000.00 EUR; budget: 3,500,000.00 EUR." in out
    decisions = recorded()
    assert decisions["AIF-04"] == (
        "funded",
        Decimal("500000.00"),
        "National co-funding doubled.",
    )
    assert decisions["AIF-01"] == ("funded", None, "")
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "decision.record")
    ).all()
    assert len(events) == 7 and {e.actor_id for e in events} == {coordinator.id}
    # The same file again changes nothing.
    again = ok(
        runner, "decisions", "import", call.key, str(write(tmp_path, HEADER, *lines)),
        "--by", coordinator.email,
    )  # fmt: skip
    assert "Recorded 0 decisions in" in again and "(7 unchanged)" in again


def test_import_reads_json(runner, scenario, coordinator, tmp_path) -> None:
    call, _ = scenario
    rows = [
        {"reference": "AIF-01", "outcome": "funded", "amount_eur": 900000.5},
        {"reference": "AIF-02", "outcome": "funded", "amount_eur": None, "rationale": ""},
    ]
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    ok(runner, "decisions", "import", call.key, str(path), "--by", coordinator.email)
    assert recorded() == {
        "AIF-01": ("funded", Decimal("900000.50"), ""),
        "AIF-02": ("funded", None, ""),
    }


def test_import_reports_every_bad_row_and_writes_nothing(
    runner, scenario, coordinator, tmp_path
) -> None:
    call, _ = scenario
    path = write(
        tmp_path,
        HEADER,
        "AIF-99,funded,,",  # row 2
        "AIF-01,maybe,,",  # row 3
        "AIF-04,funded,,",  # row 4: departs from the ranking, no rationale
        "AIF-05,rejected,1000,",  # row 5: an amount on a rejection
        "AIF-02,funded,abc,",  # row 6
        "AIF-03,funded,1000000.01,",  # row 7: more than requested
        "AIF-02,funded,,",  # row 8: twice
        "AIF-07,funded,,Strategic.",  # row 9: no amount requested, the call has a budget
    )
    out = fails(runner, "decisions", "import", call.key, str(path), "--by", coordinator.email)
    for message in (
        "row 2, column 'reference': 'AIF-99' is not a proposal of this call",
        "row 3, column 'outcome': must be one of funded, reserve, rejected, ineligible, got "
        "'maybe'",
        "row 4, column 'rationale': Give a rationale: this outcome departs from the ranking.",
        "row 5, column 'amount_eur': Only a funded decision has a granted amount.",
        "row 6, column 'amount_eur': must be a number such as 1234.50, got 'abc'",
        "row 7, column 'amount_eur': The granted amount is more than the requested funding of "
        "1,000,000.00 EUR.",
        "row 8, column 'reference': 'AIF-02' already appears in row 6",
        "row 9, column 'amount_eur': Give the granted amount",
        "8 problems; nothing was imported.",
    ):
        assert message in out, message
    assert recorded() == {}


def test_import_refuses_funded_decisions_above_the_budget(
    runner, scenario, coordinator, tmp_path
) -> None:
    call, _ = scenario
    lines = [*SUGGESTED]
    lines[3] = "AIF-04,funded,,National co-funding doubled."
    out = fails(
        runner,
        "decisions", "import", call.key, str(write(tmp_path, HEADER, *lines)),
        "--by", coordinator.email,
    )  # fmt: skip
    assert (
        "The funded decisions total 4,000,000.00 EUR, more than the call's budget of "
        "3,500,000.00 EUR." in out
    )
    assert "nothing was imported" in out
    assert recorded() == {}


def test_import_only_in_the_ranking_phase_and_only_by_a_coordinator(
    runner, make_call, make_proposal, make_user, make_assignment, coordinator, tmp_path
) -> None:
    call, _ = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    path = write(tmp_path, HEADER, *SUGGESTED)
    out = fails(runner, "decisions", "import", call.key, str(path), "--by", coordinator.email)
    assert "only while the call is in the ranking phase" in out
    observer = make_user(Role.OBSERVER)
    out = fails(runner, "decisions", "import", call.key, str(path), "--by", observer.email)
    assert f"--by: {observer.email} is a observer, not a coordinator" in out
    out = fails(runner, "decisions", "import", call.key, str(path), "--by", "nobody@example.org")
    assert "no user with the e-mail 'nobody@example.org'" in out
    out = fails(runner, "decisions", "import", call.key, str(write(tmp_path, "reference,x")))
    assert "Missing option '--by'" in out
    assert recorded() == {}


def test_call_phase_to_ranking_lists_consensus_reports_not_final(
    runner, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    write_consensus(proposals["AIF-01"], {"compute": "4.5", "expertise": "4.5", "funding": "4.5"})
    out = fails(runner, "call", "phase", call.key, "ranking")
    assert "Consensus reports not final: AIF-02, AIF-03, AIF-04" in out
    assert "(1 of 7 final)" in out and "Add --confirm-unfinished-consensus to go ahead." in out
    ok(runner, "call", "phase", call.key, "ranking", "--confirm-unfinished-consensus")
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING


def test_call_phase_to_decided_shows_the_summary_and_needs_confirm_close(
    runner, scenario, coordinator, tmp_path
) -> None:
    call, _ = scenario
    lines = [*SUGGESTED]
    lines[1] = "AIF-02,funded,250000,"
    ok(
        runner, "decisions", "import", call.key, str(write(tmp_path, HEADER, *lines)),
        "--by", coordinator.email,
    )  # fmt: skip
    out = fails(runner, "call", "phase", call.key, "decided")
    assert (
        "Closing the call cannot be undone. Decisions: Funded 3, Reserve 2, Rejected 2; funded "
        "total 2,250,000.00 EUR, budget 3,500,000.00 EUR." in out
    )
    assert "Add --confirm-close to go ahead." in out
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING
    ok(runner, "call", "phase", call.key, "decided", "--confirm-close")
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.DECIDED
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 7


def test_call_phase_to_decided_refuses_funded_decisions_above_the_budget(
    runner, scenario, coordinator, tmp_path
) -> None:
    call, _ = scenario
    ok(
        runner, "decisions", "import", call.key, str(write(tmp_path, HEADER, *SUGGESTED)),
        "--by", coordinator.email,
    )  # fmt: skip
    # Recorded before the budget was checked (or written around the service): 4,000,000 EUR.
    decision = db.session.scalar(
        select(Decision).join(Decision.proposal).where(Proposal.reference == "AIF-04")
    )
    decision.outcome, decision.rationale = DecisionOutcome.FUNDED, "Co-funding."
    db.session.commit()
    out = fails(runner, "call", "phase", call.key, "decided", "--confirm-close")
    assert (
        "The funded decisions total 4,000,000.00 EUR, more than the call's budget of "
        "3,500,000.00 EUR." in out
    )
    assert "--confirm" not in out.split("Error:", 1)[1]  # no option lets this through
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING
