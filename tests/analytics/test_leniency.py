"""Each expert's offset from the fit total(p, e) = mu(p) + b(e), and the calibrated ranking:
planted leniencies recovered, small cases worked by hand."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from reviewer_app.analytics import Analytics, analyse
from reviewer_app.scoring.engine import EvaluationIn, ProposalIn, ReviewIn
from reviewer_app.scoring.scheme_parser import scheme_from_mapping

from ..scoring.helpers import data, make_scheme, proposal, review

ONE = ("compute",)


def one_criterion(
    *reviews: tuple[str, str, str], budget: str | None = None, **rules: str
) -> Analytics:
    """A call with one criterion (so a review's total is its score): (proposal, expert, score)."""
    scheme = make_scheme(criteria=ONE, **rules)
    references = sorted({p for p, _e, _v in reviews})
    made = [review(p, e, v, keys=ONE) for p, e, v in reviews]
    return analyse(data(scheme, [proposal(r) for r in references], made, budget=budget), samples=5)


def offsets(result: Analytics) -> dict[str, tuple[float, float | None]]:
    return {e.expert: (e.offset, e.stderr) for e in result.experts}


def test_two_by_two_by_hand() -> None:
    # A gives 4 and 3, B gives 2 and 3. The differences A - B per proposal are 2 and 0, so
    # b(A) - b(B) = 1 and, summing to 0, b = +0.5, -0.5; mu(P1) = mean(4 - 0.5, 2 + 0.5) = 3,
    # mu(P2) = 3. Residuals +-0.5 each: RSS = 1 on N - P - E + 1 = 4 - 2 - 2 + 1 = 1 degree of
    # freedom. A = [[1, -1], [-1, 1]], A^+ = A / 4, so Var(b(A)) = 1 x 1/4: stderr 0.5.
    result = one_criterion(("P1", "A", "4"), ("P1", "B", "2"), ("P2", "A", "3"), ("P2", "B", "3"))
    found = offsets(result)
    assert found["A"][0] == pytest.approx(0.5)
    assert found["B"][0] == pytest.approx(-0.5)
    assert found["A"][1] == pytest.approx(0.5)
    assert found["B"][1] == pytest.approx(0.5)
    assert [c.calibrated_total for c in result.calibrated] == pytest.approx([3.0, 3.0])
    assert [e.reviews for e in result.experts] == [2, 2]


def test_the_calibrated_ranking_moves_the_funding_line() -> None:
    # Planted without noise: b(A) = +1, b(B) = 0, b(C) = -1; mu(P1) = 3, mu(P2) = 3.5,
    # mu(P3) = 2. P1 was reviewed by the lenient A, P2 by the severe C: the official means
    # are 3.5, 3.0, 2.0 (P1 first, alone within a budget of one proposal), the calibrated
    # totals 3, 3.5, 2 (P2 first). Fit exact: residual 0, stderr 0.
    result = one_criterion(
        ("P1", "A", "4"),
        ("P1", "B", "3"),
        ("P2", "B", "3.5"),
        ("P2", "C", "2.5"),
        ("P3", "A", "3"),
        ("P3", "C", "1"),
        budget="100",
    )
    found = offsets(result)
    assert [found[e][0] for e in "ABC"] == pytest.approx([1.0, 0.0, -1.0])
    assert [found[e][1] for e in "ABC"] == pytest.approx([0.0, 0.0, 0.0])
    assert [c.calibrated_total for c in result.calibrated] == pytest.approx([3.0, 3.5, 2.0])
    assert [c.main for c in result.calibrated] == [False, True, False]


def test_equal_calibrated_totals_are_funded_whole_or_not_at_all() -> None:
    # P1 and P2 are reviewed alike by the same experts: equal calibrated totals (3.5), each
    # asking 100 of a budget of 150. As the engine treats an ex aequo group, neither fits
    # alone by its reference: both stay off the main list; P3 (lower) does not jump ahead.
    result = one_criterion(
        ("P1", "A", "4"),
        ("P1", "B", "3"),
        ("P2", "A", "4"),
        ("P2", "B", "3"),
        ("P3", "A", "3"),
        ("P3", "B", "2"),
        budget="150",
    )
    assert [c.calibrated_total for c in result.calibrated] == pytest.approx([3.5, 3.5, 2.5])
    assert [c.main for c in result.calibrated] == [False, False, False]


def test_only_officially_passing_proposals_enter_the_calibrated_list() -> None:
    # The same call without a budget, and a threshold of 3 that P3 (mean 2) fails: every
    # passing proposal is on the main list, P3 is not, whatever its calibrated total.
    result = one_criterion(
        ("P1", "A", "4"),
        ("P1", "B", "3"),
        ("P2", "B", "3.5"),
        ("P2", "C", "2.5"),
        ("P3", "A", "3"),
        ("P3", "C", "1"),
        thresholds={"compute": "3"},
    )
    assert [c.main for c in result.calibrated] == [True, True, False]


def test_a_proposal_without_a_review_has_no_calibrated_total() -> None:
    scheme = make_scheme(criteria=ONE)
    reviews = [review("P1", "A", "4", keys=ONE), review("P1", "B", "2", keys=ONE)]
    result = analyse(data(scheme, [proposal("P1"), proposal("P2")], reviews), samples=5)
    assert result.calibrated[1].calibrated_total is None
    assert result.calibrated[1].main is False  # incomplete: it does not pass


def test_experts_linked_by_no_proposal_are_centred_apart() -> None:
    # Two groups that share no proposal, and E alone on P5. Each group's offsets sum to 0 on
    # their own (nothing compares the groups); the first group's are those of the two by two
    # above. E has offset 0 and no standard error.
    result = one_criterion(
        ("P1", "A", "4"),
        ("P1", "B", "2"),
        ("P2", "A", "3"),
        ("P2", "B", "3"),
        ("P3", "C", "5"),
        ("P3", "D", "1"),
        ("P4", "C", "4"),
        ("P4", "D", "1"),
        ("P5", "E", "2"),
    )
    found = offsets(result)
    assert found["A"][0] == pytest.approx(0.5)
    assert found["B"][0] == pytest.approx(-0.5)
    assert found["C"][0] + found["D"][0] == pytest.approx(0.0)
    assert found["C"][0] == pytest.approx(1.75)  # mean difference C - D = (4 + 3) / 2
    assert found["E"] == (0.0, None)
    assert found["A"][1] is not None and found["C"][1] is not None


def test_no_degrees_of_freedom_no_standard_error() -> None:
    # A chain P1: A, B; P2: B, C fits exactly whatever the scores: N - P - E + 1 = 0.
    result = one_criterion(("P1", "A", "4"), ("P1", "B", "2"), ("P2", "B", "3"), ("P2", "C", "1"))
    assert all(e.stderr is None for e in result.experts)
    assert sum(e.offset for e in result.experts) == pytest.approx(0.0)


def test_drafts_conflicts_and_reviews_without_a_total_stay_out() -> None:
    scheme = make_scheme(criteria=("compute", "funding"))
    keys = ("compute", "funding")
    reviews = [
        review("P1", "A", "4", "4", keys=keys),
        review("P1", "B", "2", "2", keys=keys),
        review("P2", "A", "3", "3", keys=keys),
        review("P2", "B", "3", "3", keys=keys),
        review("P2", "C", "5", "5", keys=keys, submitted=False),
        review("P1", "C", "0", "0", keys=keys, conflicted=True),
        review("P1", "D", "5", keys=("compute",)),  # no total: not in the fit
    ]
    result = analyse(data(scheme, [proposal("P1"), proposal("P2")], reviews), samples=5)
    assert [(e.expert, e.reviews) for e in result.experts] == [("A", 2), ("B", 2)]
    assert [e.offset for e in result.experts] == pytest.approx([1.0, -1.0])


def test_planted_leniencies_are_recovered() -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    experts, proposals, per = 40, 200, 5
    planted = np.linspace(-1.0, 1.0, experts)  # sums to 0, as the fit's offsets do
    merit = rng.uniform(3.0, 7.0, proposals)
    scheme = scheme_from_mapping(
        {
            "key": "planted",
            "title": "Planted",
            "scale": {"min": 0, "max": 10, "step": Decimal("0.1")},
            "rules": {"min_reviews": 1},
            "criteria": [{"key": "score", "title": "Score"}],
        }
    )
    made = []
    for p in range(proposals):
        for e in rng.choice(experts, per, replace=False):
            value = merit[p] + planted[e] + rng.normal(0.0, 0.05)  # and rounded to 0.1
            made.append(ReviewIn(f"P{p:03d}", f"E{e:02d}", (("score", Decimal(f"{value:.1f}")),)))
    call = EvaluationIn(
        scheme=scheme,
        proposals=tuple(ProposalIn(f"P{p:03d}", "t") for p in range(proposals)),
        reviews=tuple(made),
    )
    result = analyse(call, samples=5)
    found = np.array([e.offset for e in result.experts])  # E00 .. E39: sorted as planted
    assert np.abs(found - planted).max() < 0.05
    stderr = np.array([e.stderr for e in result.experts], dtype=float)
    assert (stderr > 0.002).all() and (stderr < 0.03).all()
    # The standard errors say how far off the estimates are: nearly all within 2.5 of them.
    assert (np.abs(found - planted) <= 2.5 * stderr).sum() >= 36
    totals = np.array([c.calibrated_total for c in result.calibrated], dtype=float)
    assert np.abs(totals - merit).max() < 0.1
