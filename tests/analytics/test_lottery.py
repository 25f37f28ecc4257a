"""The partial lottery: who is in the draw, who is funded, and the same seed the same result."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer_app.analytics.lottery import LotteryRule, draw
from reviewer_app.scoring.engine import evaluate

from ..scoring.helpers import data, make_scheme, proposal, review

RULE = LotteryRule(low=0.1, high=0.9)


def ranking(budget: str | None = "300"):
    # Five proposals at 100 each, ranked A (4.5) > B > C > D > E (all pass).
    scores = {"A": "4.5", "B": "4", "C": "3.5", "D": "3", "E": "2.5"}
    return evaluate(
        data(
            make_scheme(criteria=("compute",)),
            [proposal(r) for r in scores],
            [review(r, "e1", v, keys=("compute",)) for r, v in scores.items()],
            budget=budget,
        )
    )


PROBABILITIES = {"A": 1.0, "B": 0.6, "C": 0.5, "D": 0.2, "E": 0.05}


def test_the_clearly_fundable_first_then_the_pool_in_the_drawn_order() -> None:
    result = draw(ranking(), PROBABILITIES, RULE, seed=42)
    assert result.sure == ("A",)
    assert result.pool == ("B", "C", "D")  # E is below the lower bound
    assert sorted(result.order) == list(result.pool)
    # 300 of budget: A, then the first two drawn.
    assert result.funded == ("A", *result.order[:2])
    assert result.spent == Decimal(300)
    assert "E" not in result.funded


def test_same_seed_same_draw_and_the_seed_matters() -> None:
    orders = {draw(ranking(), PROBABILITIES, RULE, seed=s).order for s in range(20)}
    assert draw(ranking(), PROBABILITIES, RULE, seed=7) == draw(ranking(), PROBABILITIES, RULE, 7)
    assert len(orders) > 1  # 3! = 6 orders: twenty seeds give more than one


def test_without_a_budget_every_passing_proposal_is_funded() -> None:
    result = draw(ranking(budget=None), PROBABILITIES, RULE, seed=1)
    assert set(result.funded) == {"A", "B", "C", "D"}  # E stays out: below the bound


def test_bounds_must_make_sense() -> None:
    for low, high in ((0.5, 0.5), (-0.1, 0.5), (0.2, 1.5)):
        with pytest.raises(ValueError):
            LotteryRule(low, high)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=5, max_size=5),
    st.integers(0, 2**63 - 1),
    st.sampled_from(["0", "100", "250", "500"]),
)
def test_the_budget_holds_and_below_the_bound_is_never_funded(
    values: list[float], seed: int, budget: str
) -> None:
    probabilities = dict(zip("ABCDE", values, strict=True))
    result = draw(ranking(budget), probabilities, RULE, seed)
    assert result.spent <= Decimal(budget)
    assert all(probabilities[r] >= RULE.low for r in result.funded)
    assert len(set(result.funded)) == len(result.funded)
