"""Properties of the engine that must hold for every input, checked with hypothesis."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer_app.scoring.engine import (
    ConsensusIn,
    EvaluationIn,
    ProposalIn,
    ReviewIn,
    Status,
    evaluate,
)
from reviewer_app.scoring.scheme import Scheme
from reviewer_app.scoring.scheme_parser import scheme_from_mapping

SCALE = tuple(Decimal(i) / 2 for i in range(11))  # 0 to 5 in half points
ALL_KEYS = ("compute", "expertise", "funding")


@st.composite
def schemes(draw: st.DrawFn) -> Scheme:
    keys = ALL_KEYS[: draw(st.integers(1, 3))]
    criteria: list[dict[str, Any]] = []
    for key in keys:
        item: dict[str, Any] = {"key": key, "title": key, "weight": draw(st.sampled_from(SCALE))}
        if draw(st.integers(0, 2)) == 0:
            item["threshold"] = draw(st.sampled_from(SCALE[:8]))  # at most 3.5: many pass
        criteria.append(item)
    rules: dict[str, Any] = {
        "aggregate": draw(st.sampled_from(["mean", "median"])),
        "min_reviews": draw(st.integers(1, 3)),
        "tie_break": draw(st.permutations(keys).map(lambda p: list(p[: len(p) // 2 + 1]))),
    }
    if draw(st.integers(0, 2)) == 0:
        rules["overall_threshold"] = draw(st.sampled_from(SCALE[:8])) * len(keys) / 2
    if draw(st.booleans()):
        rules["disagreement_spread"] = draw(st.sampled_from(SCALE[1:]))
    return scheme_from_mapping(
        {
            "key": "prop",
            "title": "Property",
            "scale": {"min": 0, "max": 5, "step": Decimal("0.5")},
            "rules": rules,
            "criteria": criteria,
        }
    )


def score_tuples(
    keys: tuple[str, ...], draw: st.DrawFn, palette: list[Decimal], *, all_keys: bool
) -> tuple:
    chosen = keys if all_keys else tuple(k for k in keys if draw(st.booleans()))
    return tuple((k, draw(st.sampled_from(palette))) for k in chosen)


@st.composite
def evaluations(draw: st.DrawFn) -> EvaluationIn:
    scheme = draw(schemes())
    keys = scheme.criterion_keys
    count = draw(st.integers(1, 6))
    # few distinct amounts and scores, so ties and tie groups at the funding line are common
    amounts = st.none() | st.sampled_from([Decimal(v) for v in ("0", "100", "250.50", "400")])
    proposals = tuple(
        ProposalIn(reference=f"P{i}", title=f"T{i}", requested_funding=draw(amounts))
        for i in range(count)
    )
    # A few distinct scores per example make equal totals, ex aequo groups and tie groups at
    # the funding line common instead of rare.
    palette = draw(st.lists(st.sampled_from(SCALE[4:]), min_size=1, max_size=3, unique=True))
    reviews: list[ReviewIn] = []
    consensus: list[ConsensusIn] = []
    for p in proposals:
        for e in range(draw(st.integers(0, 4))):
            reviews.append(
                ReviewIn(
                    proposal=p.reference,
                    expert=f"e{e}",
                    scores=score_tuples(keys, draw, palette, all_keys=True),
                    submitted=draw(st.booleans()) or draw(st.booleans()),
                    conflicted=draw(st.integers(0, 5)) == 0,
                )
            )
        if draw(st.integers(0, 3)) == 0:
            consensus.append(
                ConsensusIn(
                    p.reference, score_tuples(keys, draw, palette, all_keys=draw(st.booleans()))
                )
            )
    budget = draw(st.none() | st.sampled_from([Decimal(v) for v in ("0", "300", "750", "1000")]))
    return EvaluationIn(
        scheme=scheme,
        proposals=proposals,
        reviews=tuple(reviews),
        consensus=tuple(consensus),
        budget=budget,
    )


@settings(max_examples=200, deadline=None)
@given(evaluations(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_input_order(data: EvaluationIn, random: Any) -> None:
    def shuffled(items: tuple) -> tuple:
        items_ = list(items)
        random.shuffle(items_)
        return tuple(items_)

    other = dataclasses.replace(
        data,
        proposals=shuffled(data.proposals),
        reviews=shuffled(
            tuple(dataclasses.replace(r, scores=shuffled(r.scores)) for r in data.reviews)
        ),
        consensus=shuffled(data.consensus),
    )
    assert evaluate(other) == evaluate(data)


@settings(max_examples=200, deadline=None)
@given(evaluations(), st.data())
def test_a_draft_or_a_conflicted_review_changes_nothing(data: EvaluationIn, extra: Any) -> None:
    keys = data.scheme.criterion_keys
    proposal = extra.draw(st.sampled_from(data.proposals)).reference
    submitted, conflicted = extra.draw(
        st.sampled_from([(False, False), (True, True), (False, True)])
    )
    added = ReviewIn(
        proposal=proposal,
        expert="newcomer",
        scores=tuple((k, extra.draw(st.sampled_from(SCALE))) for k in keys),
        submitted=submitted,
        conflicted=conflicted,
    )
    assert evaluate(dataclasses.replace(data, reviews=(*data.reviews, added))) == evaluate(data)


@settings(max_examples=200, deadline=None)
@given(evaluations(), st.data())
def test_raising_one_score_never_lowers_the_weighted_total(data: EvaluationIn, extra: Any) -> None:
    counted = [i for i, r in enumerate(data.reviews) if r.submitted and not r.conflicted]
    if not counted:
        return
    index = extra.draw(st.sampled_from(counted))
    review = data.reviews[index]
    position = extra.draw(st.integers(0, len(review.scores) - 1))
    key, value = review.scores[position]
    higher = extra.draw(st.sampled_from([v for v in SCALE if v >= value]))
    scores = list(review.scores)
    scores[position] = (key, higher)
    reviews = list(data.reviews)
    reviews[index] = dataclasses.replace(review, scores=tuple(scores))

    before = evaluate(data).row(review.proposal)
    after = evaluate(dataclasses.replace(data, reviews=tuple(reviews))).row(review.proposal)
    if before.weighted_total is None:
        assert after.weighted_total is None
    else:
        assert after.weighted_total is not None
        assert after.weighted_total >= before.weighted_total
        assert after.total is not None and before.total is not None
        assert after.total >= before.total


@settings(max_examples=200, deadline=None)
@given(evaluations())
def test_the_main_list_never_exceeds_the_budget(data: EvaluationIn) -> None:
    ranking = evaluate(data)
    main = [r for r in ranking.rows if r.status is Status.MAIN]
    on_main = sum((r.requested_funding or Decimal(0) for r in main), Decimal(0))
    assert on_main == ranking.main_total
    if data.budget is not None:
        assert ranking.main_total <= data.budget


@settings(max_examples=200, deadline=None)
@given(evaluations())
def test_the_shape_of_every_ranking(data: EvaluationIn) -> None:
    ranking = evaluate(data)
    rows = ranking.rows
    assert sorted(r.reference for r in rows) == sorted(p.reference for p in data.proposals)
    ranked = [r for r in rows if r.rank is not None]
    # ranked first, every passing proposal ranked, ranks by weighted_total
    assert rows[: len(ranked)] == tuple(ranked)
    assert all(r.passes == (r.rank is not None) for r in rows)
    assert all(r.status in (Status.MAIN, Status.RESERVE) for r in ranked)
    assert all(r.status in (Status.BELOW_THRESHOLD, Status.INCOMPLETE) for r in rows[len(ranked) :])
    for first, second in zip(ranked, ranked[1:], strict=False):
        assert first.weighted_total is not None and second.weighted_total is not None
        assert first.weighted_total >= second.weighted_total
        assert first.rank is not None and second.rank is not None
        if first.rank == second.rank:
            assert first.ex_aequo and second.ex_aequo
            assert first.weighted_total == second.weighted_total
        else:
            # standard competition ranking: the rank is one more than the number ahead
            assert second.rank == ranked.index(second) + 1
    # the reserve list starts once and never goes back to main
    statuses = [r.status for r in ranked]
    if Status.RESERVE in statuses:
        assert Status.MAIN not in statuses[statuses.index(Status.RESERVE) :]
    if data.budget is None:
        assert Status.RESERVE not in statuses
