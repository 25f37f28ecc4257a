"""Every rule of docs/scoring.md, one table or test each."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from reviewer_app.scoring.engine import EvaluationError, Status, evaluate
from reviewer_app.scoring.numbers import format_score, population_stdev, to_decimal

from .helpers import consensus, data, make_scheme, proposal, review


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (Fraction(10, 3), "3.33"),
        (Fraction(20, 3), "6.67"),
        (Fraction(1, 200), "0.01"),  # exactly half a hundredth rounds up
        (Fraction(-1, 200), "-0.01"),  # half away from zero
        (Decimal("2.675"), "2.68"),  # a float would say 2.67
        (Decimal("2.665"), "2.67"),
        (Decimal("4"), "4.00"),
        (Fraction(9, 2), "4.50"),
        (Fraction(14999, 1000), "15.00"),
    ],
)
def test_format_score_rounds_half_up_to_two_decimals(value, shown):
    assert format_score(value) == shown


def test_to_decimal_keeps_places():
    assert to_decimal(Decimal("1234567.5")) == Decimal("1234567.50")
    assert str(to_decimal(Fraction(1, 3), 4)) == "0.3333"


@pytest.mark.parametrize(
    ("aggregate", "values", "score"),
    [
        ("mean", ("3", "4", "4.5"), Fraction(23, 6)),
        ("median", ("3", "4", "4.5"), Fraction(4)),
        ("median", ("3", "4", "4.5", "5"), Fraction(17, 4)),  # even count: mean of the middle two
        ("median", ("1", "5"), Fraction(3)),
        ("mean", ("2.5",), Fraction(5, 2)),
        ("median", ("5", "0", "5", "0.5", "4"), Fraction(4)),  # order of entry does not matter
    ],
)
def test_criterion_score_is_the_aggregate_of_submitted_scores(aggregate, values, score):
    scheme = make_scheme(criteria=("compute",), aggregate=aggregate)
    reviews = [review("A", f"e{i}", v, keys=("compute",)) for i, v in enumerate(values)]
    result = evaluate(data(scheme, [proposal("A")], reviews)).row("A").criterion("compute")
    assert result.score == score
    assert result.source == "aggregate"
    assert result.n == len(values)


def test_statistics_of_the_individual_scores():
    scheme = make_scheme(criteria=("compute",), aggregate="median")
    reviews = [
        review("A", e, v, keys=("compute",)) for e, v in [("2", "5"), ("1", "3"), ("3", "4")]
    ]
    c = evaluate(data(scheme, [proposal("A")], reviews)).row("A").criterion("compute")
    assert c.individual == (Decimal(3), Decimal(4), Decimal(5))
    assert c.by_expert == (("1", Decimal(3)), ("2", Decimal(5)), ("3", Decimal(4)))
    assert (c.n, c.mean, c.median, c.min, c.max) == (3, Fraction(4), Fraction(4), 3, 5)
    # population standard deviation: sqrt(((3-4)^2 + 0 + (5-4)^2) / 3) = sqrt(2/3)
    assert format_score(c.stdev) == "0.82"
    assert c.stdev == Decimal(2).__truediv__(Decimal(3)).sqrt()


@pytest.mark.parametrize(
    ("values", "stdev"),
    [((), None), (("4",), Decimal(0)), (("2", "4"), Decimal(1)), (("1", "1", "1"), Decimal(0))],
)
def test_population_stdev(values, stdev):
    assert population_stdev(tuple(Decimal(v) for v in values)) == stdev


@pytest.mark.parametrize(
    ("extra", "score"),
    [
        ({"submitted": False}, Fraction(3)),  # a draft never counts
        ({"conflicted": True}, Fraction(3)),  # a conflicted expert's review never counts
        ({"submitted": False, "conflicted": True}, Fraction(3)),
        ({}, Fraction(4)),  # the same review submitted and free of conflict counts
    ],
)
def test_only_submitted_reviews_without_conflict_count(extra, score):
    scheme = make_scheme(criteria=("compute",))
    reviews = [
        review("A", "1", "3", keys=("compute",)),
        review("A", "2", "5", keys=("compute",), **extra),
    ]
    row = evaluate(data(scheme, [proposal("A")], reviews)).row("A")
    assert row.criterion("compute").score == score
    assert row.reviews == (2 if not extra else 1)


def test_consensus_overrides_per_criterion():
    scheme = make_scheme()
    reviews = [review("A", "1", "3", "3", "3"), review("A", "2", "4", "4", "4")]
    consensus_ = [consensus("A", "5", keys=("expertise",))]
    row = evaluate(data(scheme, [proposal("A")], reviews, consensus_)).row("A")
    assert [(c.key, c.score, c.source) for c in row.criteria] == [
        ("compute", Fraction(7, 2), "aggregate"),
        ("expertise", Fraction(5), "consensus"),
        ("funding", Fraction(7, 2), "aggregate"),
    ]
    # the individual scores stay visible behind the consensus
    assert row.criterion("expertise").individual == (Decimal(3), Decimal(4))
    assert row.total == Fraction(12)
    assert not row.has_full_consensus


@pytest.mark.parametrize(
    ("reviews", "consensus_", "status", "rank"),
    [
        (2, False, Status.INCOMPLETE, None),  # fewer than min_reviews, no consensus
        (3, False, Status.MAIN, 1),
        (0, True, Status.MAIN, 1),  # a full consensus is never incomplete
        (1, True, Status.MAIN, 1),
    ],
)
def test_min_reviews_applies_only_without_consensus(reviews, consensus_, status, rank):
    scheme = make_scheme(min_reviews=3)
    rows = [review("A", str(i), "4", "4", "4") for i in range(reviews)]
    cons = [consensus("A", "4", "4", "4")] if consensus_ else []
    row = evaluate(data(scheme, [proposal("A")], rows, cons)).row("A")
    assert (row.status, row.rank) == (status, rank)


def test_incomplete_proposal_shows_its_scores_but_gets_no_rank():
    scheme = make_scheme(min_reviews=3)
    reviews = [review("A", "1", "5", "5", "5"), review("B", "1", "3", "3", "3")] + [
        review("B", str(i), "3", "3", "3") for i in (2, 3)
    ]
    ranking = evaluate(data(scheme, [proposal("A"), proposal("B")], reviews))
    a = ranking.row("A")
    assert (a.status, a.rank, a.passes, a.reviews) == (Status.INCOMPLETE, None, False, 1)
    assert a.total == 15 and a.weighted_total == 15
    assert [r.reference for r in ranking.rows] == ["B", "A"]  # ranked first, even though lower


def test_partial_consensus_with_too_few_reviews_is_incomplete():
    scheme = make_scheme(min_reviews=3)
    reviews = [review("A", "1", "4", "4", "4")]
    row = evaluate(data(scheme, [proposal("A")], reviews, [consensus("A", "4", keys=("compute",))]))
    assert row.row("A").status is Status.INCOMPLETE


def test_a_criterion_without_any_score_makes_the_proposal_incomplete():
    scheme = make_scheme()
    row = evaluate(data(scheme, [proposal("A")], [])).row("A")
    assert row.status is Status.INCOMPLETE
    assert row.total is None and row.weighted_total is None
    assert all(c.score is None and c.stdev is None for c in row.criteria)


@pytest.mark.parametrize(
    ("scores", "passes", "meets"),
    [
        (("3", "3", "4"), True, (True, True, None)),  # threshold met exactly
        (("2.5", "5", "5"), False, (False, True, None)),
        (("5", "5", "5"), True, (True, True, None)),
    ],
)
def test_criterion_thresholds_use_unweighted_scores(scores, passes, meets):
    scheme = make_scheme(
        thresholds={"compute": "3", "expertise": "3"}, weights={"compute": "3", "expertise": "0.5"}
    )
    row = evaluate(data(scheme, [proposal("A")], [review("A", "1", *scores)])).row("A")
    assert row.passes is passes
    assert tuple(c.meets_threshold for c in row.criteria) == meets
    assert row.status is (Status.MAIN if passes else Status.BELOW_THRESHOLD)


def test_overall_threshold_is_decided_on_exact_values():
    # each criterion: mean of 3, 3, 4 = 10/3; the total is exactly 10 (3.33 x 3 = 9.99 would fail)
    scheme = make_scheme(overall_threshold="10", min_reviews=3)
    reviews = [review("A", e, v, v, v) for e, v in [("1", "3"), ("2", "3"), ("3", "4")]]
    row = evaluate(data(scheme, [proposal("A")], reviews)).row("A")
    assert row.total == 10
    assert row.meets_overall_threshold is True
    assert row.status is Status.MAIN
    # and just below it fails, even though it would round to 10.00 with more decimals cut
    reviews[2] = review("A", "3", "4", "4", "3.5")
    row = evaluate(data(scheme, [proposal("A")], reviews)).row("A")
    assert row.total == Fraction(59, 6)
    assert row.status is Status.BELOW_THRESHOLD


def test_weighted_total_orders_the_ranking():
    scheme = make_scheme(weights={"compute": "2", "expertise": "1", "funding": "0.5"})
    reviews = [
        review("A", "1", "5", "2", "2"),  # 10 + 2 + 1 = 13, total 9
        review("B", "1", "3", "5", "5"),  # 6 + 5 + 2.5 = 13.5, total 13
        review("C", "1", "4", "4", "0"),  # 8 + 4 + 0 = 12
    ]
    ranking = evaluate(data(scheme, [proposal("A"), proposal("B"), proposal("C")], reviews))
    assert [(r.reference, r.rank, r.weighted_total) for r in ranking.rows] == [
        ("B", 1, Fraction(27, 2)),
        ("A", 2, Fraction(13)),
        ("C", 3, Fraction(12)),
    ]
    assert ranking.row("A").total == 9


def test_ties_are_broken_by_tie_break_criteria_in_order():
    scheme = make_scheme(tie_break=["funding", "compute"])
    reviews = [
        review("A", "1", "5", "3", "4"),  # 12, funding 4, compute 5
        review("B", "1", "3", "5", "4"),  # 12, funding 4, compute 3
        review("C", "1", "4", "3", "5"),  # 12, funding 5
        review("D", "1", "5", "5", "5"),  # 15
    ]
    ranking = evaluate(data(scheme, [proposal(r) for r in "ABCD"], reviews))
    assert [(r.reference, r.rank, r.ex_aequo) for r in ranking.rows] == [
        ("D", 1, False),
        ("C", 2, False),
        ("A", 3, False),
        ("B", 4, False),
    ]


def test_proposals_still_equal_share_a_rank_standard_competition():
    scheme = make_scheme(tie_break=["compute"])
    reviews = [
        review("A", "1", "5", "5", "5"),
        review("B", "1", "4", "4", "4"),
        review("C", "1", "4", "5", "3"),  # 12, compute 4: equal to B on everything that counts
        review("D", "1", "3", "4", "4"),  # 11
        review("E", "1", "3", "3", "3"),  # 9
    ]
    ranking = evaluate(data(scheme, [proposal(r) for r in "EDCBA"], reviews))
    assert [(r.reference, r.rank, r.ex_aequo, r.flags) for r in ranking.rows] == [
        ("A", 1, False, ()),
        ("B", 2, True, ("ex_aequo",)),
        ("C", 2, True, ("ex_aequo",)),
        ("D", 4, False, ()),
        ("E", 5, False, ()),
    ]


@pytest.mark.parametrize(
    ("budget", "statuses", "main_total"),
    [
        (None, "MMMMM", "600"),  # no budget: every passing proposal is main
        ("600", "MMMMM", "600"),  # exactly the budget still fits
        ("599.99", "MMMMR", "500"),
        ("499.99", "MMRRR", "200"),  # the ex aequo group C+D does not fit: both reserve
        ("400", "MMRRR", "200"),  # E (100) would still fit, but it comes after the line
        ("100", "MRRRR", "100"),
        ("0", "RRRRR", "0"),
    ],
)
def test_funding_line_keeps_tie_groups_together(budget, statuses, main_total):
    scheme = make_scheme()
    reviews = [
        review("A", "1", "5", "5", "5"),
        review("B", "1", "5", "5", "4.5"),
        review("C", "1", "5", "4", "4"),
        review("D", "1", "4", "5", "4"),
        review("E", "1", "3", "3", "3"),
    ]
    funding = {"A": "100", "B": "100", "C": "100", "D": "200", "E": "100"}
    ranking = evaluate(
        data(scheme, [proposal(r, funding[r]) for r in "ABCDE"], reviews, budget=budget)
    )
    assert [r.reference for r in ranking.rows] == list("ABCDE")
    assert [r.rank for r in ranking.rows] == [1, 2, 3, 3, 5]
    expected = {"M": Status.MAIN, "R": Status.RESERVE}
    assert [r.status for r in ranking.rows] == [expected[s] for s in statuses]
    assert ranking.main_total == Decimal(main_total)
    assert [r.cumulative_funding for r in ranking.rows] == [
        Decimal(v) for v in ("100", "200", "300", "500", "600")
    ]


def test_missing_funding_amount_counts_as_zero_and_is_flagged():
    scheme = make_scheme(thresholds={"compute": "3"})
    reviews = [
        review("A", "1", "5", "5", "5"),
        review("B", "1", "4", "4", "4"),
        review("C", "1", "2", "5", "5"),  # below threshold: no flag, it asks for nothing anyway
    ]
    proposals = [proposal("A", None), proposal("B", "100"), proposal("C", None)]
    ranking = evaluate(data(scheme, proposals, reviews, budget="100"))
    assert ranking.row("A").flags == ("no_funding_amount",)
    assert ranking.row("A").status is Status.MAIN
    assert ranking.row("B").status is Status.MAIN
    assert ranking.row("B").cumulative_funding == Decimal(100)
    assert ranking.row("C").flags == ()
    assert ranking.row("C").cumulative_funding is None
    assert ranking.main_total == Decimal(100)


def test_unranked_proposals_follow_by_weighted_total():
    scheme = make_scheme(thresholds={"compute": "3"}, min_reviews=2)
    reviews = [
        review("A", "1", "2", "5", "5"),
        review("A", "2", "2", "5", "5"),  # below threshold, 12
        review("B", "1", "5", "5", "5"),  # incomplete (one review), 15
        review("C", "1", "3", "3", "3"),
        review("C", "2", "3", "3", "3"),  # ranked, 9
        review("D", "1", "1", "1", "1"),
        review("D", "2", "1", "1", "1"),  # below threshold, 3
    ]
    ranking = evaluate(data(scheme, [proposal(r) for r in "ABCDE"], reviews))
    assert [(r.reference, r.status.value, r.rank) for r in ranking.rows] == [
        ("C", "main", 1),
        ("B", "incomplete", None),
        ("A", "below_threshold", None),
        ("D", "below_threshold", None),
        ("E", "incomplete", None),  # no score at all: last
    ]


@pytest.mark.parametrize(
    ("scores", "spread", "flagged"),
    [
        (("2", "4"), "2", True),  # at the spread exactly
        (("2", "3.5"), "2", False),
        (("1", "3", "5"), "3", True),
        (("4",), "0.5", False),
        (("1", "5"), None, False),  # no spread set: never flagged
    ],
)
def test_disagreement_flag(scores, spread, flagged):
    rules = {} if spread is None else {"disagreement_spread": spread}
    scheme = make_scheme(criteria=("compute", "expertise"), **rules)
    reviews = [
        review("A", str(i), v, "3", keys=("compute", "expertise")) for i, v in enumerate(scores)
    ]
    row = evaluate(data(scheme, [proposal("A")], reviews)).row("A")
    assert row.criterion("compute").disagreement is flagged
    assert row.criterion("expertise").disagreement is False
    assert ("disagreement:compute" in row.flags) is flagged


def test_flags_come_in_a_fixed_order():
    scheme = make_scheme(disagreement_spread="2")
    reviews = [
        review("A", "1", "1", "5", "1"),
        review("A", "2", "5", "1", "5"),
        review("B", "1", "3", "3", "3"),
        review("B", "2", "3", "3", "3"),
    ]
    ranking = evaluate(data(scheme, [proposal("A", None), proposal("B")], reviews))
    assert ranking.row("A").flags == (
        "ex_aequo",
        "disagreement:compute",
        "disagreement:expertise",
        "disagreement:funding",
        "no_funding_amount",
    )


@pytest.mark.parametrize(
    ("reviews", "consensus_", "message"),
    [
        ([review("A", "1", "5.5", "3", "3")], [], "compute = 5.5 is off the scale"),
        ([review("A", "1", "3.25", "3", "3")], [], "compute = 3.25 is off the scale"),
        ([review("Z", "1", "3", "3", "3")], [], "unknown proposal 'Z'"),
        (
            [review("A", "1", "3", keys=("impact",))],
            [],
            "unknown criterion 'impact'",
        ),
        ([], [consensus("A", "-1", "3", "3")], "compute = -1 is off the scale"),
    ],
)
def test_scores_off_the_scale_or_unknown_are_refused(reviews, consensus_, message):
    with pytest.raises(EvaluationError) as info:
        evaluate(data(make_scheme(), [proposal("A")], reviews, consensus_))
    assert message in str(info.value)


def test_duplicate_references_are_refused():
    with pytest.raises(EvaluationError, match="duplicate proposal references: A"):
        evaluate(data(make_scheme(), [proposal("A"), proposal("A")]))


def test_main_and_reserve_totals():
    scheme = make_scheme()
    reviews = [review("A", "1", "5", "5", "5"), review("B", "1", "4", "4", "4")]
    ranking = evaluate(
        data(scheme, [proposal("A", "70"), proposal("B", "50.50")], reviews, budget="100")
    )
    assert ranking.main_total == Decimal("70")
    assert ranking.reserve_total == Decimal("50.50")
    assert [r.reference for r in ranking.with_status(Status.RESERVE)] == ["B"]


def test_an_off_scale_draft_or_conflicted_review_never_blocks_the_ranking() -> None:
    scheme = make_scheme()
    counted = [review("P1", f"e{i}", "4", "4", "4") for i in range(3)]
    noise = [
        review("P1", "draft", "4.2", "9", "4", submitted=False),
        review("P1", "conflicted", "4.2", "9", "4", conflicted=True),
    ]
    plain = evaluate(data(scheme, [proposal("P1")], counted))
    assert evaluate(data(scheme, [proposal("P1")], counted + noise)) == plain
    with pytest.raises(EvaluationError, match="off the scale"):
        evaluate(data(scheme, [proposal("P1")], [*counted, review("P1", "s", "4.2", "4", "4")]))
