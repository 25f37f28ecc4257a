"""The panel's order inside ex aequo groups (issue 13, point 3): after the scheme's tie-break,
before the funding line, never across merit."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer_app.scoring.engine import (
    EvaluationError,
    EvaluationIn,
    Ranking,
    Status,
    evaluate,
    tie_groups,
)
from reviewer_app.scoring.flags import PANEL_ORDER

from .helpers import data, make_scheme, proposal, review
from .test_engine_properties import evaluations

SCHEME = make_scheme()


def three_tied(budget: str = "150") -> EvaluationIn:
    """A, B and C tied on every criterion at the funding line (each asks for 100), D above."""
    return data(
        SCHEME,
        [proposal("A"), proposal("B"), proposal("C"), proposal("D", "50")],
        [
            review("A", "e1", "4", "4", "4"),
            review("B", "e1", "4", "4", "4"),
            review("C", "e1", "4", "4", "4"),
            review("D", "e1", "5", "5", "5"),
        ],
        budget=budget,
    )


def ranks(ranking: Ranking) -> dict[str, tuple[int | None, Status]]:
    return {row.reference: (row.rank, row.status) for row in ranking.rows}


def test_without_the_panel_the_tie_at_the_line_goes_to_the_reserve_whole() -> None:
    result = evaluate(three_tied())
    assert ranks(result) == {
        "D": (1, Status.MAIN),
        "A": (2, Status.RESERVE),
        "B": (2, Status.RESERVE),
        "C": (2, Status.RESERVE),
    }


def test_the_panel_orders_the_whole_group_and_the_line_falls_inside_it() -> None:
    placed = dataclasses.replace(three_tied(), panel_order=(("C", 1), ("A", 2), ("B", 3)))
    result = evaluate(placed)
    assert ranks(result) == {
        "D": (1, Status.MAIN),
        "C": (2, Status.MAIN),
        "A": (3, Status.RESERVE),
        "B": (4, Status.RESERVE),
    }
    assert [row.reference for row in result.rows] == ["D", "C", "A", "B"]
    assert result.main_total == Decimal(150)
    c = result.row("C")
    assert not c.ex_aequo and c.panel_place == 1
    assert c.flags == (str(PANEL_ORDER),)
    assert result.row("D").panel_place is None and result.row("D").flags == ()


def test_members_the_panel_did_not_place_stay_tied_after_those_it_did() -> None:
    result = evaluate(dataclasses.replace(three_tied("400"), panel_order=(("B", 7),)))
    assert ranks(result) == {
        "D": (1, Status.MAIN),
        "B": (2, Status.MAIN),
        "A": (3, Status.MAIN),
        "C": (3, Status.MAIN),
    }
    assert result.row("B").panel_place == 7 and not result.row("B").ex_aequo
    assert result.row("A").ex_aequo and result.row("A").panel_place is None


def test_equal_places_stay_tied() -> None:
    result = evaluate(dataclasses.replace(three_tied(), panel_order=(("A", 1), ("B", 1))))
    assert ranks(result)["A"] == ranks(result)["B"] == (2, Status.RESERVE)
    assert ranks(result)["C"] == (4, Status.RESERVE)


def test_a_place_never_lifts_a_proposal_over_more_merit_nor_orders_a_proposal_without_a_tie() -> (
    None
):
    plain = evaluate(three_tied())
    # D has more merit than the group: placing it last, and A first, leaves D on top.
    result = evaluate(dataclasses.replace(three_tied(), panel_order=(("D", 9), ("A", 1))))
    assert result.row("D").rank == 1 and result.row("D").panel_place is None
    assert result.row("A").rank == 2
    # A place given only to a proposal without a tie changes nothing at all.
    assert evaluate(dataclasses.replace(three_tied(), panel_order=(("D", 1),))) == plain


def test_the_panel_comes_after_the_schemes_tie_break() -> None:
    scheme = make_scheme(tie_break=["compute"])
    base = data(
        scheme,
        [proposal("A"), proposal("B")],
        [review("A", "e1", "4", "5", "3"), review("B", "e1", "5", "3", "4")],
        budget="100",
    )
    # Same total, but B leads on compute: the tie-break decides, the panel's place does not.
    result = evaluate(dataclasses.replace(base, panel_order=(("A", 1), ("B", 2))))
    assert ranks(result) == {"B": (1, Status.MAIN), "A": (2, Status.RESERVE)}
    assert result.row("A").panel_place is None


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ((("X", 1),), "panel order: unknown proposal 'X'"),
        ((("A", 1), ("A", 2)), "panel order of A: given twice"),
    ],
)
def test_a_panel_order_that_cannot_be_is_refused(order: Any, problem: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        evaluate(dataclasses.replace(three_tied(), panel_order=order))
    assert problem in caught.value.problems


# Properties: any places, on any evaluation.


@st.composite
def placed(draw: st.DrawFn) -> tuple[EvaluationIn, EvaluationIn]:
    plain = draw(evaluations())
    references = [p.reference for p in plain.proposals]
    chosen = draw(st.lists(st.sampled_from(references), unique=True))
    order = tuple((r, draw(st.integers(1, 4))) for r in chosen)
    return plain, dataclasses.replace(plain, panel_order=order)


@settings(max_examples=300, deadline=None)
@given(placed())
def test_a_panel_order_only_reorders_inside_ex_aequo_groups(pair: Any) -> None:
    plain, with_panel = (evaluate(item) for item in pair)
    before = {row.reference: row for row in plain.rows}
    after = {row.reference: row for row in with_panel.rows}
    assert before.keys() == after.keys()
    size = {}
    for row in plain.ranked:
        size[row.reference] = sum(1 for other in plain.ranked if other.rank == row.rank)
    for reference, row in before.items():
        moved = after[reference]
        assert (moved.rank is None) == (row.rank is None)  # the same proposals are ranked
        assert moved.total_ratio == row.total_ratio and moved.passes == row.passes
        if row.rank is None:
            assert moved.status == row.status
            continue
        assert moved.rank is not None
        # Inside its own group's ranks, never above or below it.
        assert row.rank <= moved.rank <= row.rank + size[reference] - 1
        if not row.ex_aequo:
            assert moved.rank == row.rank and moved.panel_place is None
        assert (moved.panel_place is not None) == (str(PANEL_ORDER) in moved.flags)


@settings(max_examples=300, deadline=None)
@given(placed(), st.randoms(use_true_random=False))
def test_the_funding_line_still_holds_and_the_order_of_places_does_not_matter(
    pair: Any, random: Any
) -> None:
    _plain, with_panel = pair
    result = evaluate(with_panel)
    statuses = [row.status for row in result.ranked]
    # The main list is a prefix of the ranked rows, within the budget.
    assert statuses == sorted(statuses, key=lambda s: s is not Status.MAIN)
    if result.budget is not None:
        assert result.main_total <= result.budget
    ranked = [row.rank for row in result.ranked]
    assert ranked == sorted(ranked)
    shuffled = list(with_panel.panel_order)
    random.shuffle(shuffled)
    assert evaluate(dataclasses.replace(with_panel, panel_order=tuple(shuffled))) == result


@settings(max_examples=200, deadline=None)
@given(evaluations())
def test_a_whole_group_ordered_by_the_panel_gets_distinct_ranks_in_that_order(
    plain_data: EvaluationIn,
) -> None:
    plain = evaluate(plain_data)
    groups: dict[int, list[str]] = {}
    for row in plain.ranked:
        if row.ex_aequo and row.rank is not None:
            groups.setdefault(row.rank, []).append(row.reference)
    order = tuple(
        (reference, place)
        for members in groups.values()
        for place, reference in enumerate(sorted(members, reverse=True), start=1)
    )
    result = evaluate(dataclasses.replace(plain_data, panel_order=order))
    assert not any(row.ex_aequo for row in result.rows)
    for start, members in groups.items():
        expected = sorted(members, reverse=True)
        assert [result.row(r).rank for r in expected] == list(range(start, start + len(members)))


@settings(max_examples=200, deadline=None)
@given(placed())
def test_the_tie_groups_are_the_same_before_and_after_the_panel(pair: Any) -> None:
    plain, with_panel = (evaluate(item) for item in pair)

    def members(ranking: Ranking) -> list[set[str]]:
        return [{row.reference for row in group} for group in tie_groups(ranking)]

    assert members(with_panel) == members(plain)
    for group in tie_groups(plain):
        assert {row.rank for row in group} == {group[0].rank}
