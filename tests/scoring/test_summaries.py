"""The engine ranks on the scores' sums (``EvaluationIn.summaries``) exactly as on the scores
themselves, for every input; what only the scores can say is refused, never guessed."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reviewer_app.scoring.engine import (
    CriterionSummary,
    EvaluationError,
    EvaluationIn,
    ProposalIn,
    Ranking,
    ReviewIn,
    ScoresNotLoaded,
    SummaryIn,
    evaluate,
)
from reviewer_app.scoring.scheme_parser import scheme_from_mapping

from .test_engine_properties import evaluations


def summed_up(data: EvaluationIn) -> EvaluationIn:
    """``data`` with its counted reviews summed up per proposal and criterion, as a database
    would (written here from the engine's rules, not taken from the loader)."""
    reviews: dict[str, int] = defaultdict(int)
    scores: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for review in data.reviews:
        if review.counts:  # with no score at all too: the engine counts it
            reviews[review.proposal] += 1
            for key, value in review.scores:
                scores[review.proposal][key].append(value)
    summaries = tuple(
        SummaryIn(
            proposal=reference,
            reviews=count,
            criteria=tuple(
                CriterionSummary(
                    key, len(values), sum(values, Decimal(0)), min(values), max(values)
                )
                for key, values in scores[reference].items()
            ),
        )
        for reference, count in reviews.items()
    )
    return dataclasses.replace(data, reviews=(), summaries=summaries)


def without_scores(ranking: Ranking) -> Ranking:
    """``ranking`` as ranked on summaries: every figure but the individual scores."""
    return dataclasses.replace(
        ranking,
        rows=tuple(
            dataclasses.replace(
                row,
                criteria=tuple(
                    dataclasses.replace(c, given=None if c.n else c.given) for c in row.criteria
                ),
            )
            for row in ranking.rows
        ),
    )


def with_gaps(data: EvaluationIn, draw: Any) -> EvaluationIn:
    """``data`` with some reviews missing some or all of their scores, so that a criterion
    has fewer scores than the proposal has reviews, or none."""
    return dataclasses.replace(
        data,
        reviews=tuple(
            dataclasses.replace(
                review,
                scores=tuple(pair for pair in review.scores if draw(st.integers(0, 3))),
            )
            for review in data.reviews
        ),
    )


@settings(max_examples=300, deadline=None)
@given(evaluations(), st.data())
def test_summaries_rank_exactly_as_the_scores_do(data: EvaluationIn, extra: Any) -> None:
    assume(data.scheme.rules.aggregate == "mean")
    data = with_gaps(data, extra.draw)
    from_scores = evaluate(data)
    from_sums = evaluate(summed_up(data))
    assert from_sums == without_scores(from_scores)
    assert [r.reference for r in from_sums.rows] == [r.reference for r in from_scores.rows]
    for summed, scored in zip(from_sums.rows, from_scores.rows, strict=True):
        for s, c in zip(summed.criteria, scored.criteria, strict=True):
            assert (s.n, s.mean, s.min, s.max) == (c.n, c.mean, c.min, c.max)


def scheme(aggregate: str = "mean") -> Any:
    return scheme_from_mapping(
        {
            "key": "sums",
            "title": "Sums",
            "scale": {"min": 0, "max": 5, "step": Decimal("0.5")},
            "rules": {"aggregate": aggregate, "min_reviews": 1},
            "criteria": [{"key": "compute", "title": "Compute"}],
        }
    )


def one(criterion: CriterionSummary, *, aggregate: str = "mean", reviews: int = 2) -> EvaluationIn:
    return EvaluationIn(
        scheme=scheme(aggregate),
        proposals=(ProposalIn("P1", "One"),),
        summaries=(SummaryIn("P1", reviews, (criterion,)),),
    )


TWO = CriterionSummary("compute", 2, Decimal("7.5"), Decimal(3), Decimal("4.5"))


def test_a_result_from_summaries_has_every_figure_but_the_scores() -> None:
    (row,) = evaluate(one(TWO)).rows
    result = row.criterion("compute")
    assert (result.score, result.n, result.min, result.max) == (
        Decimal("3.75"),
        2,
        3,
        Decimal("4.5"),
    )
    assert result.mean == Decimal("3.75") and not result.has_scores
    for needs_scores in ("by_expert", "individual", "median", "stdev"):
        with pytest.raises(ScoresNotLoaded, match="compute"):
            getattr(result, needs_scores)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (one(TWO, aggregate="median"), "a median needs the scores"),
        (
            dataclasses.replace(
                one(TWO), reviews=(ReviewIn("P1", "e1", (("compute", Decimal(3)),)),)
            ),
            "both one by one and summed up",
        ),
        (one(TWO._replace(off_step=1)), "P1: a score of compute is off the scale"),
        (one(TWO._replace(high=Decimal(6))), "P1: a score of compute is off the scale"),
        (one(TWO._replace(key="price")), "unknown criterion 'price'"),
        (one(TWO, reviews=1), "2 scores of compute from 1 reviews"),
    ],
)
def test_what_cannot_be_ranked_on_summaries_is_refused(data: EvaluationIn, problem: str) -> None:
    with pytest.raises(EvaluationError, match=problem):
        evaluate(data)


def test_a_proposal_summed_up_twice_or_unknown_is_refused() -> None:
    data = one(TWO)
    twice = dataclasses.replace(data, summaries=data.summaries * 2)
    with pytest.raises(EvaluationError, match="P1: summed up twice"):
        evaluate(twice)
    stranger = dataclasses.replace(data, summaries=(SummaryIn("P9", 2, (TWO,)),))
    with pytest.raises(EvaluationError, match="unknown proposal 'P9'"):
        evaluate(stranger)
