"""The bootstrap of the ranking: every sample decided as the engine decides, its figures worked
by hand on a small call, and the properties issue 14 asks for."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer_app.analytics import analyse
from reviewer_app.analytics.reviews import counted_reviews
from reviewer_app.analytics.robustness import _percentile_places, draw, outcome, prepare
from reviewer_app.scoring.engine import EvaluationIn, ProposalIn, ReviewIn, Status, evaluate

from ..scoring.helpers import consensus, data, make_scheme, proposal, review
from ..scoring.test_engine_properties import SCALE, schemes


@st.composite
def calls(draw_: st.DrawFn, *, identical: bool = False, partial: bool = False) -> EvaluationIn:
    """Calls of a few proposals, at most one review per expert, no consensus, no panel order.
    ``identical``: every counted review of a proposal gives the same scores, so that no
    sample can differ from the call itself. ``partial``: some reviews lack a score."""
    scheme = draw_(schemes())
    keys = scheme.criterion_keys
    amounts = st.none() | st.sampled_from([Decimal(v) for v in ("0", "100", "250.50", "400")])
    proposals = tuple(
        ProposalIn(f"P{i}", f"T{i}", draw_(amounts)) for i in range(draw_(st.integers(1, 8)))
    )
    # Few distinct scores: equal totals, ex aequo groups and groups at the line are common.
    palette = draw_(st.lists(st.sampled_from(SCALE[4:]), min_size=1, max_size=3, unique=True))

    def scores() -> tuple[tuple[str, Decimal], ...]:
        chosen = keys
        if partial and draw_(st.booleans()):
            chosen = tuple(k for k in keys if draw_(st.booleans()))
        return tuple((k, draw_(st.sampled_from(palette))) for k in chosen)

    reviews: list[ReviewIn] = []
    for p in proposals:
        same = scores()
        for e in range(draw_(st.integers(0, 4) | st.integers(2, 4))):  # mostly complete
            reviews.append(ReviewIn(p.reference, f"e{e}", same if identical else scores()))
            if draw_(st.integers(0, 4)) == 0:  # never counts: its scores must change nothing
                draft = draw_(st.booleans())
                reviews.append(
                    ReviewIn(
                        p.reference,
                        f"x{e}",
                        tuple((k, SCALE[0]) for k in keys),
                        submitted=not draft,
                        conflicted=not draft,
                    )
                )
    # Budgets that cut the usual call of a few hundred in requested funding somewhere.
    budgets = [Decimal(v) for v in ("0", "100", "250.50", "300", "500", "750", "1000")]
    budget = draw_(st.sampled_from([None, *budgets]))
    return EvaluationIn(scheme=scheme, proposals=proposals, reviews=tuple(reviews), budget=budget)


def _engine(data_: EvaluationIn) -> tuple[dict[str, tuple[int, bool]], int]:
    """reference -> (rank, on the main list), an unranked proposal ranked after the last; and
    how many are ranked."""
    ranking = evaluate(data_)
    after = len(ranking.ranked) + 1
    return {
        row.reference: (row.rank if row.rank is not None else after, row.status is Status.MAIN)
        for row in ranking.rows
    }, len(ranking.ranked)


@settings(max_examples=150, deadline=None)
@given(calls(identical=True))
def test_when_resampling_changes_nothing_every_sample_is_the_engines_ranking(
    call: EvaluationIn,
) -> None:
    expected, _ranked = _engine(call)
    result = analyse(call, samples=7)
    for item in result.proposals:
        rank, main = expected[item.reference]
        assert item.funded_probability == (1.0 if main else 0.0)
        assert item.rank_low == item.rank_high == rank


@settings(max_examples=150, deadline=None)
@given(st.one_of(calls(), calls(partial=True)), st.integers(0, 2**32))
def test_each_sample_is_the_engines_ranking_of_the_drawn_reviews(
    call: EvaluationIn, seed: int
) -> None:
    """The strongest check: a sample's ranks and main list are what ``evaluate`` says of the
    call whose reviews are the drawn ones (equal means of different counts, medians of even
    counts, missing scores and all)."""
    model = prepare(call, counted_reviews(call))
    draws = draw(model, np.random.Generator(np.random.PCG64(seed)), 3)
    result = outcome(model, draws, 3)
    # The same samples ordered on float keys, as when the one-integer key would not fit.
    floats = outcome(dataclasses.replace(model, merit=None), draws, 3)
    assert (floats.rank == result.rank).all() and (floats.main == result.main).all()
    counted: dict[str, list[ReviewIn]] = {p.reference: [] for p in call.proposals}
    for r in call.reviews:
        if r.counts:
            counted[r.proposal].append(r)
    columns = {model.references[int(p)]: i for i, p in enumerate(model.columns)}
    for s in range(3):
        drawn = [r for ref, rs in counted.items() if ref not in columns for r in rs]
        for group, chosen in zip(model.groups, draws, strict=True):
            for i in range(group.size):
                ref = model.references[int(model.columns[group.start + i])]
                drawn += [counted[ref][int(j)] for j in chosen[s, :, i]]
        expected, ranked = _engine(dataclasses.replace(call, reviews=tuple(drawn)))
        assert int(result.ranked[s]) == ranked
        for ref, (rank, main) in expected.items():
            i = columns.get(ref)
            if i is None:  # too few reviews to be ranked in any sample
                assert not main and rank == int(result.ranked[s]) + 1
            else:
                assert (int(result.rank[s, i]), bool(result.main[s, i])) == (rank, main), ref


@settings(max_examples=100, deadline=None)
@given(st.one_of(calls(), calls(partial=True)))
def test_the_figures_stay_in_their_bounds(call: EvaluationIn) -> None:
    result = analyse(call, samples=20)
    proposals = len(call.proposals)
    assert [p.reference for p in result.proposals] == sorted(p.reference for p in call.proposals)
    for item in result.proposals:
        assert 0.0 <= item.funded_probability <= 1.0
        assert 1 <= item.rank_low <= item.rank_high <= proposals + 1
        funded = item.funded_probability * 20  # a count of samples
        assert abs(funded - round(funded)) < 1e-9


@settings(max_examples=100, deadline=None)
@given(calls())
def test_a_proposal_below_a_threshold_in_every_sample_is_never_funded(call: EvaluationIn) -> None:
    # No aggregate (mean or median) of draws from a proposal's scores exceeds the highest of
    # them: if even that is below a criterion's threshold, every sample fails it.
    result = {p.reference: p for p in analyse(call, samples=20).proposals}
    for spec in call.scheme.criteria:
        if spec.threshold is None:
            continue
        for p in call.proposals:
            counted = [r for r in call.reviews if r.proposal == p.reference and r.counts]
            scores = [v for r in counted for k, v in r.scores if k == spec.key]
            if scores and max(scores) < spec.threshold:
                assert result[p.reference].funded_probability == 0.0


@settings(max_examples=30, deadline=None)
@given(calls(), st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_figures(call: EvaluationIn, seed: int) -> None:
    assert analyse(call, samples=30, seed=seed) == analyse(call, samples=30, seed=seed)


def test_a_median_of_an_even_count_of_scores_given_is_the_mean_of_the_middle_two() -> None:
    # Three reviews, one without a funding score: the funding median is that of (2, 4), 3,
    # which meets the threshold of 3; the lower middle alone (2) would not. Drawn as given.
    keys = ("compute", "funding")
    scheme = make_scheme(criteria=keys, aggregate="median", thresholds={"funding": "3"})
    reviews = [
        review("P1", "A", "5", "2", keys=keys),
        review("P1", "B", "5", keys=("compute",)),
        review("P1", "C", "5", "4", keys=keys),
    ]
    call = data(scheme, [proposal("P1")], reviews)
    assert evaluate(call).row("P1").passes
    model = prepare(call, counted_reviews(call))
    as_given = [np.arange(3, dtype=np.uint8).reshape(1, 3, 1)]
    result = outcome(model, as_given, 1)
    assert (int(result.rank[0, 0]), bool(result.main[0, 0])) == (1, True)


ONE = ("compute",)


def _tie_call(budget: str | None = "100") -> EvaluationIn:
    # P1 has scores 5 and 1, P2 has 3 and 3 (two reviews each, min_reviews 2). A sample of P1
    # draws (5, 5) with probability 1/4 (mean 5), (1, 1) with 1/4 (mean 1), a mixed pair with
    # 1/2 (mean 3, equal to P2: ex aequo). Each requests 100, the budget is 100: the pair
    # together (200) does not fit, so a tie funds neither.
    scheme = make_scheme(criteria=ONE, min_reviews=2)
    reviews = [
        review("P1", "A", "5", keys=ONE),
        review("P1", "B", "1", keys=ONE),
        review("P2", "A", "3", keys=ONE),
        review("P2", "B", "3", keys=ONE),
    ]
    return data(scheme, [proposal("P1"), proposal("P2")], reviews, budget=budget)


def test_an_ex_aequo_group_at_the_line_is_funded_whole_or_not_at_all() -> None:
    result = analyse(_tie_call(), samples=4000)
    p1, p2 = result.proposals
    # P1 funded only when it draws (5, 5), P2 only when P1 draws (1, 1): 1/4 each
    # (binomial standard deviation 0.007 at 4000 samples).
    assert p1.funded_probability == pytest.approx(0.25, abs=0.03)
    assert p2.funded_probability == pytest.approx(0.25, abs=0.03)
    # Rank 1 alone or shared in 3/4 of the samples, rank 2 in 1/4: 5th percentile 1, 95th 2.
    assert (p1.rank_low, p1.rank_high) == (1, 2)
    assert (p2.rank_low, p2.rank_high) == (1, 2)


def test_without_a_budget_every_ranked_proposal_is_funded() -> None:
    result = analyse(_tie_call(budget=None), samples=200)
    assert [p.funded_probability for p in result.proposals] == [1.0, 1.0]


def test_a_proposal_with_too_few_reviews_ranks_after_the_last() -> None:
    scheme = make_scheme(criteria=ONE, min_reviews=2)
    reviews = [
        review("P1", "A", "5", keys=ONE),
        review("P1", "B", "1", keys=ONE),
        review("P2", "A", "5", keys=ONE),
    ]
    result = analyse(data(scheme, [proposal("P1"), proposal("P2")], reviews), samples=50)
    assert result.proposals[1].funded_probability == 0.0
    assert (result.proposals[1].rank_low, result.proposals[1].rank_high) == (2, 2)


def test_the_seed_is_what_varies_the_samples() -> None:
    call = _tie_call()
    first = analyse(call, samples=300, seed=1)
    assert analyse(call, samples=300, seed=1) == first
    assert analyse(call, samples=300, seed=2) != first
    assert first.seed == 1 and first.samples == 300


def test_progress_is_told_after_each_chunk() -> None:
    told: list[tuple[int, int]] = []
    analyse(_tie_call(), samples=250, progress=lambda done, total: told.append((done, total)))
    assert told[-1] == (250, 250)
    assert [d for d, _t in told] == sorted({d for d, _t in told})  # rising, each once
    assert len(told) >= 3  # in chunks of at most 100


@pytest.mark.parametrize("samples", [1, 2, 19, 20, 21, 101, 2000])
def test_rank_intervals_are_numpys_lower_and_higher_percentiles(samples: int) -> None:
    # The bootstrap reads them off one partition in place; they must be the order statistics
    # numpy.percentile picks with method "lower" (5th) and "higher" (95th).
    ranks = np.random.Generator(np.random.PCG64(samples)).integers(1, 40, size=(samples, 6))
    low_at, high_at = _percentile_places(samples)
    ordered = np.sort(ranks, axis=0)
    assert (ordered[low_at] == np.percentile(ranks, 5, axis=0, method="lower")).all()
    assert (ordered[high_at] == np.percentile(ranks, 95, axis=0, method="higher")).all()


def test_at_least_one_sample() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        analyse(_tie_call(), samples=0)


def test_ignores_consensus_and_panel_order() -> None:
    """The samples rank on the individual reviews only (issue 14): a consensus or a panel's
    order changes the official ranking, not the bootstrap."""
    call = _tie_call()
    other = dataclasses.replace(
        call, consensus=(consensus("P2", "5", keys=ONE),), panel_order=(("P2", 1),)
    )
    assert evaluate(other).row("P2").status != evaluate(call).row("P2").status
    assert analyse(other, samples=300).proposals == analyse(call, samples=300).proposals
