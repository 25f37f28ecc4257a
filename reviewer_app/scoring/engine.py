"""The evaluation of a call: from the individual scores to the ranked list and the funding line.

Pure: frozen dataclasses in (``inputs``), one frozen ``Ranking`` out (``results``), standard
library only. The rules are written for coordinators in docs/scoring.md; every rule there is a
branch here and a test in tests/scoring/test_engine.py.

All decisions (thresholds, ties, the budget) are taken on exact values: criterion scores and
totals are ``Fraction``, money is ``Decimal``. Rounding happens only for display
(``numbers.format_score``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from math import lcm

from .flags import EX_AEQUO, NO_FUNDING_AMOUNT, PANEL_ORDER, disagreement
from .inputs import ConsensusIn as ConsensusIn  # every caller names the types here
from .inputs import CriterionSummary as CriterionSummary
from .inputs import EvaluationIn as EvaluationIn
from .inputs import ProposalIn as ProposalIn
from .inputs import ReviewIn as ReviewIn
from .inputs import SummaryIn as SummaryIn
from .results import CriterionResult as CriterionResult
from .results import ProposalResult as ProposalResult
from .results import Ranking as Ranking
from .results import ScoresNotLoaded as ScoresNotLoaded
from .results import Status as Status
from .scheme import Scheme
from .validation import EvaluationError as EvaluationError
from .validation import check

SOURCE_CONSENSUS = "consensus"
SOURCE_AGGREGATE = "aggregate"


def evaluate(data: EvaluationIn) -> Ranking:
    """Score, threshold, rank and fund every proposal of ``data`` by the rules of its scheme.

    The same ranking whether the scores come one by one or summed up (``data.summaries``);
    only the individual scores behind each number are missing from the second.

    :raises EvaluationError: a score off the scale, or one for an unknown criterion or proposal;
        summaries for a scheme that aggregates by the median (which needs the scores).
    """
    check(data)
    scheme = data.scheme
    consensus = {c.proposal: dict(c.scores) for c in data.consensus}
    keys = scheme.criterion_keys
    counted: dict[str, tuple[int, dict[str, _Stats]]] = {}
    if data.summaries:
        for summary in data.summaries:
            counted[summary.proposal] = (
                summary.reviews,
                {c.key: (c.n, c.total, c.low, c.high, None) for c in summary.criteria},
            )
    else:
        given: dict[str, list[ReviewIn]] = defaultdict(list)
        for review in data.reviews:
            if review.submitted and not review.conflicted:  # ReviewIn.counts, without the call
                given[review.proposal].append(review)
        for reference, reviews in given.items():
            counted[reference] = (len(reviews), _stats_of(keys, reviews))
    nothing: tuple[int, dict[str, _Stats]] = (0, {})
    plan = _Plan.of(scheme)
    scored = [
        _score_proposal(plan, p, *counted.get(p.reference, nothing), consensus.get(p.reference, {}))
        for p in data.proposals
    ]
    return _rank(scheme, data.budget, scored, dict(data.panel_order))


# What the engine needs of one proposal's counted scores on one criterion: their count, sum,
# lowest and highest, and the scores themselves with their experts (None from summaries).
_Stats = tuple[int, Decimal, Decimal, Decimal, tuple[tuple[str, Decimal], ...] | None]


def _stats_of(keys: tuple[str, ...], reviews: list[ReviewIn]) -> dict[str, _Stats]:
    pairs: dict[str, list[tuple[str, Decimal]]] = {key: [] for key in keys}
    for review in reviews:
        expert = review.expert
        for key, value in review.scores:
            pairs[key].append((expert, value))
    stats: dict[str, _Stats] = {}
    for key, given in pairs.items():
        if given:
            values = [value for _expert, value in given]
            stats[key] = (
                len(values),
                sum(values, Decimal(0)),
                min(values),
                max(values),
                tuple(given),
            )
    return stats


# Exact arithmetic without Fraction objects on the hot path: every score is a Decimal with few
# decimals, so a criterion score is a ratio of two integers (the sum of the scores' integer
# ratios over the count); totals add such ratios over a common denominator, thresholds compare
# by cross-multiplying, and the ranking sorts on integers scaled to one denominator for the
# whole call. A ``Fraction`` is made once per number shown, never for deciding.
_Ratio = tuple[int, int]  # numerator, positive denominator


def _sum_ratios(parts: list[_Ratio]) -> _Ratio:
    total, denominator = 0, 1
    for n, d in parts:
        if d == denominator:  # the usual case: same count of reviews, same scale
            total += n
        else:
            common = lcm(denominator, d)
            total, denominator = total * (common // denominator) + n * (common // d), common
    return total, denominator


@dataclass(frozen=True)
class _Scored:
    """A proposal with its criterion scores, before ranking and funding."""

    proposal: ProposalIn
    reviews: int
    criteria: tuple[CriterionResult, ...]
    total: _Ratio | None
    weighted: _Ratio | None
    complete: bool
    passes: bool
    meets_overall: bool | None
    full_consensus: bool
    # What the ranking sorts and groups on, exactly: the weighted total, then the tie-break
    # criteria's scores, each as a ratio (empty when the proposal does not pass).
    merit: tuple[_Ratio, ...] = ()


def _median_ratio(given: tuple[tuple[str, Decimal], ...]) -> _Ratio:
    values = sorted(value for _expert, value in given)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle].as_integer_ratio()
    n, d = (values[middle - 1] + values[middle]).as_integer_ratio()
    return n, d * 2


@dataclass(frozen=True)
class _Plan:
    """What the scheme says about every criterion, worked out once per evaluation rather than
    once per proposal: (key, threshold, the threshold as a ratio, weight, the weight as a
    ratio), in scheme order."""

    criteria: tuple[tuple[str, Decimal | None, _Ratio | None, Decimal, _Ratio], ...]
    spread: Decimal | None
    use_mean: bool
    min_reviews: int
    overall: _Ratio | None
    tie_break: tuple[str, ...]

    @classmethod
    def of(cls, scheme: Scheme) -> _Plan:
        rules = scheme.rules
        return cls(
            criteria=tuple(
                (
                    spec.key,
                    spec.threshold,
                    None if spec.threshold is None else spec.threshold.as_integer_ratio(),
                    spec.weight,
                    spec.weight.as_integer_ratio(),
                )
                for spec in scheme.criteria
            ),
            spread=rules.disagreement_spread,
            use_mean=rules.aggregate == "mean",
            min_reviews=rules.min_reviews,
            overall=(
                None
                if rules.overall_threshold is None
                else rules.overall_threshold.as_integer_ratio()
            ),
            tie_break=tuple(rules.tie_break),
        )


def _score_proposal(
    plan: _Plan,
    proposal: ProposalIn,
    reviews: int,
    stats: dict[str, _Stats],
    consensus: dict[str, Decimal],
) -> _Scored:
    spread = plan.spread
    results: list[CriterionResult] = []
    ratios: dict[str, _Ratio] = {}
    weighted_parts: list[_Ratio] = []
    below = False  # a criterion under its threshold
    for key, threshold, bound, weight, (wn, wd) in plan.criteria:
        count, total, low, high, given = stats.get(key, _NO_SCORES)
        ratio: _Ratio | None
        if key in consensus:
            ratio, source = consensus[key].as_integer_ratio(), SOURCE_CONSENSUS
        elif not count:
            ratio, source = None, None
        elif plan.use_mean:
            n, d = total.as_integer_ratio()  # exact: a few decimals each
            ratio, source = (n, d * count), SOURCE_AGGREGATE
        else:
            assert given is not None  # check() refuses summaries for a median
            ratio, source = _median_ratio(given), SOURCE_AGGREGATE
        meets: bool | None = None
        if ratio is not None:
            ratios[key] = ratio
            weighted_parts.append((ratio[0] * wn, ratio[1] * wd))
            if bound is not None:
                meets = ratio[0] * bound[1] >= bound[0] * ratio[1]
                below = below or not meets
        results.append(
            CriterionResult(
                key,
                ratio,
                source,
                count,
                total,
                low if count else None,
                high if count else None,
                given,
                meets,
                spread is not None and count > 0 and high - low >= spread,
                threshold,
                weight,
            )
        )

    all_scored = len(ratios) == len(results)
    full_consensus = all(r.source == SOURCE_CONSENSUS for r in results)
    # A full consensus stands on its own; otherwise the scores rest on enough reviews.
    complete = all_scored and (full_consensus or reviews >= plan.min_reviews)
    total_ratio: _Ratio | None = None
    weighted: _Ratio | None = None
    meets_overall: bool | None = None
    if all_scored:
        total_ratio = _sum_ratios(list(ratios.values()))
        weighted = _sum_ratios(weighted_parts)
        if plan.overall is not None:
            on, od = plan.overall
            meets_overall = total_ratio[0] * od >= on * total_ratio[1]
    passes = complete and not below and meets_overall is not False
    merit: tuple[_Ratio, ...] = ()
    if passes and weighted is not None:
        merit = (weighted, *(ratios[key] for key in plan.tie_break))
    return _Scored(
        proposal=proposal,
        reviews=reviews,
        criteria=tuple(results),
        total=total_ratio,
        weighted=weighted,
        complete=complete,
        passes=passes,
        meets_overall=meets_overall,
        full_consensus=full_consensus,
        merit=merit,
    )


# A criterion no counted review scored: there is nothing behind it, summed up or not.
_NO_SCORES: _Stats = (0, Decimal(0), Decimal(0), Decimal(0), ())


def _common_scale(ratios: list[_Ratio]) -> Callable[[_Ratio], int]:
    """Ratios as integers over one denominator: compared exactly, sorted fast."""
    denominator = lcm(*(d for _n, d in ratios)) if ratios else 1
    return lambda ratio: ratio[0] * (denominator // ratio[1])


def _panel_split(group: list[_Scored], places: dict[str, int]) -> list[list[_Scored]]:
    """An ex aequo group cut by the panel's order: each proposal the panel placed stands alone,
    in the panel's order (equal places stay tied); those it did not place stay tied together
    after them. A place only orders inside its own group: it never lifts a proposal over one
    with more merit, and a place given to a proposal without a tie has no effect."""
    if len(group) < 2 or not any(item.proposal.reference in places for item in group):
        return [group]
    unplaced = len(places) + 1 + max(places.values())  # after every place given

    def place(item: _Scored) -> int:
        return places.get(item.proposal.reference, unplaced)

    parts: list[list[_Scored]] = []
    for item in sorted(group, key=lambda i: (place(i), i.proposal.reference)):
        if parts and place(parts[-1][0]) == place(item):
            parts[-1].append(item)
        else:
            parts.append([item])
    return parts


def _rank(
    scheme: Scheme, budget: Decimal | None, scored: list[_Scored], places: dict[str, int]
) -> Ranking:
    passing_items = [s for s in scored if s.passes]
    width = len(passing_items[0].merit) if passing_items else 0
    scales = [_common_scale([s.merit[i] for s in passing_items]) for i in range(width)]

    def merit(item: _Scored) -> tuple[int, ...]:
        return tuple(scale(ratio) for scale, ratio in zip(scales, item.merit, strict=True))

    keyed = sorted(
        ((merit(s), s) for s in passing_items),
        key=lambda pair: (tuple(-v for v in pair[0]), pair[1].proposal.reference),
    )
    groups: list[list[_Scored]] = []
    previous: tuple[int, ...] | None = None
    for key, item in keyed:
        if groups and key == previous:
            groups[-1].append(item)
        else:
            groups.append([item])
        previous = key
    # The panel's order comes after the scheme's tie-break and before the funding line.
    panelled: set[str] = set()
    if places:
        split: list[list[_Scored]] = []
        for group in groups:
            parts = _panel_split(group, places)
            if len(parts) > 1:
                panelled.update(
                    i.proposal.reference for i in group if i.proposal.reference in places
                )
            split.extend(parts)
        groups = split

    rows: list[ProposalResult] = []
    main_total = reserve_total = Decimal(0)
    cumulative = Decimal(0)
    below_line = False
    position = 1
    for group in groups:
        group_cost = sum((_funding(s) for s in group), Decimal(0))
        # A tie group (what is left tied after the panel's order) is funded whole or not at
        # all: nothing gives ground to prefer one member, so the first group that does not fit
        # starts the reserve list.
        if budget is not None and not below_line and cumulative + group_cost > budget:
            below_line = True
        status = Status.RESERVE if below_line else Status.MAIN
        for item in group:
            cumulative += _funding(item)
            if status is Status.MAIN:
                main_total += _funding(item)
            else:
                reserve_total += _funding(item)
            rows.append(
                _result(
                    item,
                    rank=position,
                    ex_aequo=len(group) > 1,
                    status=status,
                    cumulative=cumulative,
                    panel_place=(
                        places[item.proposal.reference]
                        if item.proposal.reference in panelled
                        else None
                    ),
                )
            )
        position += len(group)  # standard competition ranking: 1, 2, 2, 4

    failing = [s for s in scored if not s.passes]
    weighted = _common_scale([s.weighted for s in failing if s.weighted is not None])
    unranked = sorted(
        failing,
        key=lambda s: (
            s.weighted is None,
            -weighted(s.weighted) if s.weighted is not None else 0,
            s.proposal.reference,
        ),
    )
    for item in unranked:
        status = Status.BELOW_THRESHOLD if item.complete else Status.INCOMPLETE
        rows.append(_result(item, rank=None, ex_aequo=False, status=status, cumulative=None))

    return Ranking(
        scheme=scheme,
        budget=budget,
        rows=tuple(rows),
        main_total=main_total,
        reserve_total=reserve_total,
    )


@cache
def _disagreement_text(key: str) -> str:
    return str(disagreement(key))


def _funding(item: _Scored) -> Decimal:
    """A missing amount counts as 0 on the funding line (and is flagged)."""
    return item.proposal.requested_funding or Decimal(0)


def _result(
    item: _Scored,
    *,
    rank: int | None,
    ex_aequo: bool,
    status: Status,
    cumulative: Decimal | None,
    panel_place: int | None = None,
) -> ProposalResult:
    flags: list[str] = []
    if ex_aequo:
        flags.append(str(EX_AEQUO))
    if panel_place is not None:
        flags.append(str(PANEL_ORDER))
    flags.extend(_disagreement_text(c.key) for c in item.criteria if c.disagreement)
    if item.passes and item.proposal.requested_funding is None:
        flags.append(str(NO_FUNDING_AMOUNT))
    return ProposalResult(
        reference=item.proposal.reference,
        title=item.proposal.title,
        rank=rank,
        ex_aequo=ex_aequo,
        status=status,
        flags=tuple(flags),
        reviews=item.reviews,
        criteria=item.criteria,
        total_ratio=item.total,
        weighted_ratio=item.weighted,
        passes=item.passes,
        requested_funding=item.proposal.requested_funding,
        cumulative_funding=cumulative,
        has_full_consensus=item.full_consensus,
        meets_overall_threshold=item.meets_overall,
        panel_place=panel_place,
    )


def tie_groups(ranking: Ranking) -> tuple[tuple[ProposalResult, ...], ...]:
    """The ex aequo groups the scheme's rules leave (equal weighted totals and tie-break
    scores), in rank order, two members or more each: what a panel may order. The same
    whether or not a panel's order is in the ranking already (its members then have ranks
    one after the other)."""
    tie_break = ranking.scheme.rules.tie_break
    groups: list[list[ProposalResult]] = []
    previous: tuple[Fraction | None, ...] | None = None
    for row in ranking.ranked:
        merit = (row.weighted_total, *(row.criterion(key).score for key in tie_break))
        if groups and merit == previous:
            groups[-1].append(row)
        else:
            groups.append([row])
        previous = merit
    return tuple(tuple(group) for group in groups if len(group) > 1)
