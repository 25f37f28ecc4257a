"""Automatic assignment: the pure planning function, by table and by property."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer_app.planning.assignment import (
    AssignmentInput,
    BlockReason,
    ExpertSlot,
    ProposalSlot,
    block_reason,
    plan_assignments,
)


def _loads(plan, data) -> list[int]:
    return list(plan.loads.values())


def _assigned(plan, data) -> set[tuple[int, int]]:
    return (set(data.existing) - set(data.conflicts)) | set(plan.new)


def test_every_proposal_gets_min_reviews_and_loads_are_even() -> None:
    data = AssignmentInput(
        proposals=tuple(ProposalSlot(i) for i in range(1, 8)),
        experts=tuple(ExpertSlot(i) for i in range(101, 106)),
        min_reviews=3,
    )
    plan = plan_assignments(data)
    per_proposal = {p.id: 0 for p in data.proposals}
    for pid, _eid in plan.new:
        per_proposal[pid] += 1
    assert set(per_proposal.values()) == {3}
    assert sorted(_loads(plan, data)) == [4, 4, 4, 4, 5]
    assert plan.shortfalls == ()
    assert len(plan.new) == len(set(plan.new)) == 21


@pytest.mark.parametrize(
    ("proposal", "expert", "rules", "expected"),
    [
        (ProposalSlot(1, "DE"), ExpertSlot(9, "DE"), {"same_country": True}, "same_country"),
        (ProposalSlot(1, "DE"), ExpertSlot(9, "de"), {"same_country": True}, "same_country"),
        (ProposalSlot(1, "DE"), ExpertSlot(9, "DE"), {}, None),
        (ProposalSlot(1, "DE"), ExpertSlot(9, "FR"), {"same_country": True}, None),
        (ProposalSlot(1, None), ExpertSlot(9, None), {"same_country": True}, None),
        (
            ProposalSlot(1, applicant="  CINECA "),
            ExpertSlot(9, organisation="cineca"),
            {"same_organisation": True},
            "same_organisation",
        ),
        (
            ProposalSlot(1, applicant="CINECA"),
            ExpertSlot(9, organisation="CINECA Bologna"),
            {"same_organisation": True},
            None,
        ),
        (
            ProposalSlot(1, applicant="CINECA"),
            ExpertSlot(9, organisation="CINECA"),
            {"same_country": True},
            None,
        ),
        (ProposalSlot(1, applicant=""), ExpertSlot(9), {"same_organisation": True}, None),
    ],
)
def test_automatic_conflict_rules(proposal, expert, rules, expected) -> None:
    data = AssignmentInput(proposals=(proposal,), experts=(expert,), min_reviews=1, **rules)
    reason = block_reason(data, proposal, expert)
    assert (reason.value if reason else None) == expected
    plan = plan_assignments(data)
    assert ((1, 9) in plan.new) is (expected is None)


def test_declared_conflict_blocks_and_does_not_count() -> None:
    data = AssignmentInput(
        proposals=(ProposalSlot(1),),
        experts=tuple(ExpertSlot(i) for i in (11, 12, 13, 14)),
        min_reviews=3,
        existing=frozenset({(1, 11), (1, 12)}),
        conflicts=frozenset({(1, 11)}),
    )
    plan = plan_assignments(data)
    assert plan.new == ((1, 13), (1, 14))
    assert plan.shortfalls == ()


def test_existing_assignments_count_and_new_work_goes_to_the_least_loaded() -> None:
    data = AssignmentInput(
        proposals=(ProposalSlot(1), ProposalSlot(2)),
        experts=(ExpertSlot(11), ExpertSlot(12), ExpertSlot(13)),
        min_reviews=2,
        existing=frozenset({(1, 11), (1, 12)}),
    )
    plan = plan_assignments(data)
    assert plan.new == ((2, 11), (2, 13))  # ties go to the lower id
    assert plan.loads == {11: 2, 12: 1, 13: 1}


def test_shortfall_names_the_proposal_and_why() -> None:
    data = AssignmentInput(
        proposals=(ProposalSlot(1, "IT", "CINECA"), ProposalSlot(2, "FI")),
        experts=(
            ExpertSlot(11, "IT"),
            ExpertSlot(12, "DE", "cineca "),
            ExpertSlot(13, "FR"),
            ExpertSlot(14, "ES"),
        ),
        min_reviews=3,
        conflicts=frozenset({(1, 13)}),
        same_country=True,
        same_organisation=True,
    )
    plan = plan_assignments(data)
    [short] = plan.shortfalls
    assert short.proposal_id == 1
    assert (short.assigned, short.needed) == (1, 3)
    assert short.blocked == {
        BlockReason.DECLARED_CONFLICT: 1,
        BlockReason.SAME_COUNTRY: 1,
        BlockReason.SAME_ORGANISATION: 1,
    }
    assert (1, 14) in plan.new
    assert {pid for pid, _ in plan.new if pid == 2} == {2}
    assert sum(1 for pid, _ in plan.new if pid == 2) == 3


def test_one_rapporteur_per_proposal_spread_over_experts() -> None:
    data = AssignmentInput(
        proposals=tuple(ProposalSlot(i) for i in range(1, 4)),
        experts=tuple(ExpertSlot(i) for i in (11, 12, 13)),
        min_reviews=3,
        existing=frozenset({(3, 11)}),
        rapporteurs=frozenset({(3, 11)}),
    )
    plan = plan_assignments(data)
    chosen = dict(plan.rapporteurs)
    assert set(chosen) == {1, 2}  # proposal 3 keeps its rapporteur
    assert 11 not in chosen.values()
    assert len(set(chosen.values())) == 2


def test_nothing_to_do_when_every_proposal_is_staffed() -> None:
    existing = frozenset((1, e) for e in (11, 12))
    data = AssignmentInput(
        proposals=(ProposalSlot(1),),
        experts=(ExpertSlot(11), ExpertSlot(12), ExpertSlot(13)),
        min_reviews=2,
        existing=existing,
        rapporteurs=frozenset({(1, 12)}),
    )
    plan = plan_assignments(data)
    assert plan.new == () and plan.rapporteurs == () and plan.shortfalls == ()


COUNTRIES = st.sampled_from([None, "DE", "FR", "IT", "ES"])
ORGS = st.sampled_from(["", "CINECA", " cineca", "BSC", "Jülich"])


@st.composite
def inputs(draw: st.DrawFn) -> AssignmentInput:
    n_proposals = draw(st.integers(1, 8))
    n_experts = draw(st.integers(1, 8))
    proposals = tuple(
        ProposalSlot(i, draw(COUNTRIES), draw(ORGS)) for i in range(1, n_proposals + 1)
    )
    experts = tuple(ExpertSlot(100 + i, draw(COUNTRIES), draw(ORGS)) for i in range(n_experts))
    pairs = [(p.id, e.id) for p in proposals for e in experts]
    existing = frozenset(draw(st.lists(st.sampled_from(pairs), max_size=6)))
    # Rapporteurs are chosen afresh here; keeping existing ones is a table test above.
    conflicts = frozenset(draw(st.lists(st.sampled_from(pairs), max_size=6)))
    return AssignmentInput(
        proposals=proposals,
        experts=experts,
        min_reviews=draw(st.integers(1, 4)),
        existing=existing,
        conflicts=conflicts,
        same_country=draw(st.booleans()),
        same_organisation=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(inputs(), st.randoms(use_true_random=False))
def test_properties(data: AssignmentInput, rnd: random.Random) -> None:
    plan = plan_assignments(data)
    by_id_p = {p.id: p for p in data.proposals}
    by_id_e = {e.id: e for e in data.experts}
    # Never a blocked expert, never a duplicate or an existing pair.
    for pid, eid in plan.new:
        assert block_reason(data, by_id_p[pid], by_id_e[eid]) is None
        assert (pid, eid) not in data.existing or (pid, eid) in data.conflicts
    assert len(set(plan.new)) == len(plan.new)
    # Every proposal reaches min_reviews exactly when it can; otherwise it is a shortfall.
    assigned = _assigned(plan, data)
    short = {s.proposal_id for s in plan.shortfalls}
    for proposal in data.proposals:
        count = sum(1 for pid, _ in assigned if pid == proposal.id)
        eligible = sum(
            1
            for e in data.experts
            if block_reason(data, proposal, e) is None or (proposal.id, e.id) in assigned
        )
        assert (count >= data.min_reviews) is (proposal.id not in short)
        if proposal.id in short:
            assert count == eligible
    # Deterministic, whatever the order of the inputs.
    shuffled = list(data.proposals), list(data.experts)
    rnd.shuffle(shuffled[0])
    rnd.shuffle(shuffled[1])
    again = plan_assignments(
        replace(data, proposals=tuple(shuffled[0]), experts=tuple(shuffled[1]))
    )
    assert again == plan
    # Every staffed proposal has exactly one rapporteur among its experts.
    for pid, eid in plan.rapporteurs:
        assert (pid, eid) in assigned
    staffed = {pid for pid, eid in assigned if eid in by_id_e}
    assert sorted(pid for pid, _ in plan.rapporteurs) == sorted(staffed)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.integers(1, 4))
def test_loads_within_one_without_blocking(n_proposals: int, n_experts: int, need: int) -> None:
    data = AssignmentInput(
        proposals=tuple(ProposalSlot(i) for i in range(n_proposals)),
        experts=tuple(ExpertSlot(100 + i) for i in range(n_experts)),
        min_reviews=need,
    )
    plan = plan_assignments(data)
    loads = _loads(plan, data)
    assert max(loads) - min(loads) <= 1
    assert len(plan.new) == n_proposals * min(need, n_experts)
