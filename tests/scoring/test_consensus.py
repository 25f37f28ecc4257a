"""What a proposed consensus does against the reviews' aggregate (docs/scoring.md, section 9):
thresholds crossed either way, the verdict turned, and the numbers the consensus page's script
gets."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewer_app.scoring.consensus import OVERALL, Turn, consensus_effect
from reviewer_app.scoring.engine import EvaluationIn, ProposalIn, evaluate
from reviewer_app.scoring.numbers import format_change

from .helpers import KEYS, make_scheme, review

SCHEME = make_scheme(
    thresholds={"compute": "3", "expertise": "3", "funding": "3"},
    weights={"compute": "2"},
    overall_threshold="10",
)
# The proposal: means of 10/3, 10/3 and 19/6 make 59/6 = 9.83, below 10.
GREEK = (
    review("P", "1", "3", "3.5", "3"),
    review("P", "2", "3", "3.5", "3"),
    review("P", "3", "4", "3", "3.5"),
)


def proposed(*values: str | None) -> dict[str, Decimal | None]:
    return {k: None if v is None else Decimal(v) for k, v in zip(KEYS, values, strict=True)}


@pytest.mark.parametrize(
    ("scores", "crossings", "turn"),
    [
        # The rounded means (3.5, 3.5, 3): 10, over the overall threshold the reviews miss.
        (("3.5", "3.5", "3"), (OVERALL,), Turn.FAIL_TO_PASS),
        # The same sum, still below 10, and every criterion as the reviews have it.
        (("3.5", "3.5", "2.5"), ("funding",), None),  # funding 2.5 fails where 3.17 meets
        (("3", "3.5", "3"), (), None),  # 9.5: as the reviews, nothing crosses
        (("5", "5", "5"), (OVERALL,), Turn.FAIL_TO_PASS),
        # 12.5 meets the overall threshold the reviews miss, but compute fails where they meet
        # it: two crossings, and the proposal fails on both sides.
        (("2.5", "5", "5"), ("compute", OVERALL), None),
    ],
)
def test_crossings_and_turns_against_the_aggregate(scores, crossings, turn) -> None:
    effect = consensus_effect(SCHEME, GREEK, proposed(*scores))
    assert effect.aggregate_total == Fraction(59, 6)
    assert effect.aggregate_meets_overall is False and effect.aggregate_passes is False
    assert effect.crossings == crossings
    assert effect.turn is turn
    assert effect.needs_justification is bool(crossings)


def test_a_pass_turned_into_a_fail() -> None:
    reviews = (review("P", "1", "4", "4", "4"), review("P", "2", "4", "3.5", "3.5"))
    effect = consensus_effect(SCHEME, reviews, proposed("4", "2.5", "3.5"))
    assert effect.aggregate_passes is True and effect.proposed_passes is False
    assert effect.crossings == ("expertise",)  # total 10 still meets the overall threshold
    assert effect.turn is Turn.PASS_TO_FAIL


def test_totals_changes_and_weights_follow_the_engine() -> None:
    effect = consensus_effect(SCHEME, GREEK, proposed("3.5", "3.5", "3"))
    compute = effect.criterion("compute")
    assert compute.aggregate == Fraction(10, 3) and compute.change == Fraction(1, 6)
    assert format_change(compute.change) == "+0.17"
    assert format_change(effect.criterion("funding").change) == "\u22120.17"
    assert effect.proposed_total == 10 and effect.total_change == Fraction(1, 6)
    # Weighted: compute counts twice, as in the ranking.
    assert effect.proposed_weighted_total == Fraction(27, 2)
    assert effect.aggregate_weighted_total == Fraction(79, 6)
    # The same numbers as the engine's own evaluation of a final consensus.
    row = evaluate(
        EvaluationIn(
            scheme=SCHEME,
            proposals=(ProposalIn("P", "P"),),
            reviews=GREEK,
        )
    ).rows[0]
    assert row.total == effect.aggregate_total and row.weighted_total == (
        effect.aggregate_weighted_total
    )


def test_an_unfinished_consensus_has_no_total_and_no_verdict() -> None:
    effect = consensus_effect(SCHEME, GREEK, proposed("3.5", None, "3"))
    assert effect.proposed_total is None and effect.proposed_meets_overall is None
    assert effect.proposed_passes is None and effect.turn is None
    assert effect.criterion("expertise").proposed_meets is None
    assert effect.crossings == ()


def test_no_reviews_no_crossing() -> None:
    effect = consensus_effect(SCHEME, (), proposed("1", "1", "1"))
    assert effect.aggregate_total is None and effect.crossings == () and effect.turn is None


def test_drafts_and_conflicted_reviews_do_not_count_here_either() -> None:
    reviews = (
        *GREEK,
        review("P", "4", "5", "5", "5", submitted=False),
        review("P", "5", "5", "5", "5", conflicted=True),
    )
    assert consensus_effect(SCHEME, reviews, {}).aggregate_total == Fraction(59, 6)


def test_page_data_is_exact_and_in_hundredths() -> None:
    data = consensus_effect(SCHEME, GREEK, {}).page_data()
    assert data == {
        "criteria": [
            {
                "key": "compute",
                "threshold": 300,
                "weight": 200,
                "aggregate": [10, 3],
                "aggregate_meets": True,
            },
            {
                "key": "expertise",
                "threshold": 300,
                "weight": 100,
                "aggregate": [10, 3],
                "aggregate_meets": True,
            },
            {
                "key": "funding",
                "threshold": 300,
                "weight": 100,
                "aggregate": [19, 6],
                "aggregate_meets": True,
            },
        ],
        "overall_threshold": 1000,
        "aggregate_total": [59, 6],
        "aggregate_weighted_total": [79, 6],
        "aggregate_meets_overall": False,
        "aggregate_passes": False,
    }


@given(
    reviews=st.lists(st.tuples(*(st.integers(0, 10) for _ in KEYS)), min_size=1, max_size=5),
    chosen=st.tuples(*(st.integers(0, 10) for _ in KEYS)),
)
def test_crossing_means_a_threshold_verdict_differs(reviews, chosen) -> None:
    """Property: a criterion crosses exactly when the aggregate and the consensus fall on
    different sides of its threshold; the overall threshold likewise on the totals."""
    halves = [review("P", str(i), *(str(Decimal(v) / 2) for v in r)) for i, r in enumerate(reviews)]
    values = proposed(*(str(Decimal(v) / 2) for v in chosen))
    effect = consensus_effect(SCHEME, halves, values)
    for item in effect.criteria:
        assert item.aggregate is not None and item.proposed is not None
        assert item.crosses is ((item.aggregate >= 3) != (item.proposed >= 3))
    assert effect.aggregate_total is not None and effect.proposed_total is not None
    assert effect.overall_crosses is (
        (effect.aggregate_total >= 10) != (effect.proposed_total >= 10)
    )
