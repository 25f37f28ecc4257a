"""The evaluation of a call: from the individual scores to the ranked list and the funding line.

Pure: frozen dataclasses in, one frozen ``Ranking`` out, standard library only. The rules are
written for coordinators in docs/scoring.md; every rule there is a branch here and a test in
tests/scoring/test_engine.py.

All decisions (thresholds, ties, the budget) are taken on exact values: criterion scores and
totals are ``Fraction``, money is ``Decimal``. Rounding happens only for display
(``numbers.format_score``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache, cached_property
from math import lcm

from .flags import EX_AEQUO, NO_FUNDING_AMOUNT, PANEL_ORDER, disagreement
from .numbers import mean, median, population_stdev
from .scheme import Scheme
from .validation import EvaluationError as EvaluationError  # every caller names it here
from .validation import check

SOURCE_CONSENSUS = "consensus"
SOURCE_AGGREGATE = "aggregate"


@dataclass(frozen=True)
class ProposalIn:
    reference: str
    title: str
    requested_funding: Decimal | None = None


@dataclass(frozen=True)
class ReviewIn:
    proposal: str
    expert: str
    scores: tuple[tuple[str, Decimal], ...]  # (criterion key, value)
    submitted: bool = True
    conflicted: bool = False

    @property
    def counts(self) -> bool:
        """Only submitted reviews count, and never one by an expert with a conflict."""
        return self.submitted and not self.conflicted


@dataclass(frozen=True)
class ConsensusIn:
    proposal: str
    scores: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class EvaluationIn:
    scheme: Scheme
    proposals: tuple[ProposalIn, ...]
    reviews: tuple[ReviewIn, ...] = ()
    consensus: tuple[ConsensusIn, ...] = ()
    budget: Decimal | None = None
    # The panel's order inside ex aequo groups: (reference, place), a lower place first. It
    # only ever orders proposals the scheme's rules leave tied (see ``_panel_split``).
    panel_order: tuple[tuple[str, int], ...] = ()


class Status(StrEnum):
    MAIN = "main"
    RESERVE = "reserve"
    BELOW_THRESHOLD = "below_threshold"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, eq=False)
class CriterionResult:
    key: str
    # The score as an exact ratio (numerator, denominator): what was decided on.
    ratio: tuple[int, int] | None
    source: str | None  # "consensus" | "aggregate" | None
    # The counted scores with the expert who gave each, in no particular order (``by_expert``
    # and ``individual`` are the ordered views).
    given: tuple[tuple[str, Decimal], ...]
    meets_threshold: bool | None
    disagreement: bool
    threshold: Decimal | None = None
    weight: Decimal = Decimal(1)

    def _compared(self) -> tuple[object, ...]:
        return (
            self.key,
            self.score,
            self.source,
            self.by_expert,  # the scores, whatever order they were given in
            self.meets_threshold,
            self.disagreement,
            self.threshold,
            self.weight,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CriterionResult):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    # Everything below is for reading, not for deciding: worked out when first read, so a page
    # that shows 50 rows of a 10,000-proposal ranking pays for 50.
    @cached_property
    def score(self) -> Fraction | None:
        return None if self.ratio is None else Fraction(*self.ratio)

    @cached_property
    def by_expert(self) -> tuple[tuple[str, Decimal], ...]:
        """The numbers behind the score, ordered by expert id, for the pages and reports."""
        return tuple(sorted(self.given))

    @cached_property
    def individual(self) -> tuple[Decimal, ...]:
        """The counted scores, ascending."""
        return tuple(sorted(value for _expert, value in self.given))

    @property
    def n(self) -> int:
        return len(self.given)

    @property
    def min(self) -> Decimal | None:
        return self.individual[0] if self.given else None

    @property
    def max(self) -> Decimal | None:
        return self.individual[-1] if self.given else None

    @cached_property
    def mean(self) -> Fraction | None:
        return mean(self.individual)

    @cached_property
    def median(self) -> Fraction | None:
        return median(self.individual)

    @cached_property
    def stdev(self) -> Decimal | None:
        return population_stdev(self.individual)


@dataclass(frozen=True)
class ProposalResult:
    reference: str
    title: str
    rank: int | None
    ex_aequo: bool
    status: Status
    flags: tuple[str, ...]  # each a flags.Flag written as text ("disagreement:<key>")
    reviews: int  # counted (submitted, not conflicted) reviews
    criteria: tuple[CriterionResult, ...]  # scheme order
    # The totals as exact ratios (numerator, denominator); None when a criterion has no score.
    total_ratio: tuple[int, int] | None
    weighted_ratio: tuple[int, int] | None
    passes: bool
    requested_funding: Decimal | None
    cumulative_funding: Decimal | None
    # True when every criterion score comes from a final consensus.
    has_full_consensus: bool = False
    # Whether the unweighted total reaches rules.overall_threshold (None: no such threshold or
    # no total).
    meets_overall_threshold: bool | None = None
    # The place the panel gave it inside its ex aequo group, when the panel's order decided
    # its rank (None: no tie, or the panel did not order it).
    panel_place: int | None = None

    @cached_property
    def total(self) -> Fraction | None:
        return None if self.total_ratio is None else Fraction(*self.total_ratio)

    @cached_property
    def weighted_total(self) -> Fraction | None:
        return None if self.weighted_ratio is None else Fraction(*self.weighted_ratio)

    def criterion(self, key: str) -> CriterionResult:
        for result in self.criteria:
            if result.key == key:
                return result
        raise KeyError(key)

    @property
    def is_ranked(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class Ranking:
    scheme: Scheme
    budget: Decimal | None
    rows: tuple[ProposalResult, ...]  # ranked first (rank order), then unranked by weighted_total
    main_total: Decimal  # requested funding on the main list
    reserve_total: Decimal = Decimal(0)  # requested funding on the reserve list

    def row(self, reference: str) -> ProposalResult:
        for result in self.rows:
            if result.reference == reference:
                return result
        raise KeyError(reference)

    @property
    def ranked(self) -> tuple[ProposalResult, ...]:
        return tuple(r for r in self.rows if r.rank is not None)

    def with_status(self, status: Status) -> tuple[ProposalResult, ...]:
        return tuple(r for r in self.rows if r.status is status)


def evaluate(data: EvaluationIn) -> Ranking:
    """Score, threshold, rank and fund every proposal of ``data`` by the rules of its scheme.

    :raises EvaluationError: a score off the scale, or one for an unknown criterion or proposal.
    """
    check(data)
    scheme = data.scheme
    counted: dict[str, list[ReviewIn]] = defaultdict(list)
    for review in data.reviews:
        if review.submitted and not review.conflicted:  # ReviewIn.counts, without the call
            counted[review.proposal].append(review)
    consensus = {c.proposal: dict(c.scores) for c in data.consensus}

    scored = [
        _score_proposal(scheme, p, counted.get(p.reference, []), consensus.get(p.reference, {}))
        for p in data.proposals
    ]
    return _rank(scheme, data.budget, scored, dict(data.panel_order))


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


def _at_least(value: _Ratio, bound: Decimal) -> bool:
    bn, bd = bound.as_integer_ratio()
    return value[0] * bd >= bn * value[1]


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


def _score_proposal(
    scheme: Scheme,
    proposal: ProposalIn,
    reviews: list[ReviewIn],
    consensus: dict[str, Decimal],
) -> _Scored:
    rules = scheme.rules
    spread = rules.disagreement_spread
    use_mean = rules.aggregate == "mean"
    given: dict[str, list[tuple[str, Decimal]]] = {spec.key: [] for spec in scheme.criteria}
    for review in reviews:
        expert = review.expert
        for key, value in review.scores:
            given[key].append((expert, value))
    results: list[CriterionResult] = []
    ratios: dict[str, _Ratio] = {}
    for spec in scheme.criteria:
        pairs = given[spec.key]
        count = len(pairs)
        values = [value for _expert, value in pairs]
        ratio: _Ratio | None
        if spec.key in consensus:
            ratio, source = consensus[spec.key].as_integer_ratio(), SOURCE_CONSENSUS
        elif not count:
            ratio, source = None, None
        elif use_mean:
            n, d = sum(values, Decimal(0)).as_integer_ratio()  # exact: a few decimals each
            ratio, source = (n, d * count), SOURCE_AGGREGATE
        else:
            values.sort()
            middle = count // 2
            if count % 2:
                ratio = values[middle].as_integer_ratio()
            else:
                n, d = (values[middle - 1] + values[middle]).as_integer_ratio()
                ratio = (n, d * 2)
            source = SOURCE_AGGREGATE
        if ratio is not None:
            ratios[spec.key] = ratio
        results.append(
            CriterionResult(
                key=spec.key,
                ratio=ratio,
                source=source,
                given=tuple(pairs),
                meets_threshold=(
                    None
                    if spec.threshold is None or ratio is None
                    else _at_least(ratio, spec.threshold)
                ),
                disagreement=(
                    spread is not None and count > 0 and max(values) - min(values) >= spread
                ),
                threshold=spec.threshold,
                weight=spec.weight,
            )
        )

    all_scored = len(ratios) == len(results)
    full_consensus = all(r.source == SOURCE_CONSENSUS for r in results)
    # A full consensus stands on its own; otherwise the scores rest on enough reviews.
    complete = all_scored and (full_consensus or len(reviews) >= rules.min_reviews)
    total: _Ratio | None = None
    weighted: _Ratio | None = None
    meets_overall: bool | None = None
    if all_scored:
        total = _sum_ratios(list(ratios.values()))
        weighted = _sum_ratios(
            [
                (n * wn, d * wd)
                for spec in scheme.criteria
                for (n, d), (wn, wd) in [(ratios[spec.key], spec.weight.as_integer_ratio())]
            ]
        )
        if rules.overall_threshold is not None:
            meets_overall = _at_least(total, rules.overall_threshold)
    passes = (
        complete
        and all(r.meets_threshold is not False for r in results)
        and meets_overall is not False
    )
    merit: tuple[_Ratio, ...] = ()
    if passes and weighted is not None:
        merit = (weighted, *(ratios[key] for key in rules.tie_break))
    return _Scored(
        proposal=proposal,
        reviews=len(reviews),
        criteria=tuple(results),
        total=total,
        weighted=weighted,
        complete=complete,
        passes=passes,
        meets_overall=meets_overall,
        full_consensus=full_consensus,
        merit=merit,
    )


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
