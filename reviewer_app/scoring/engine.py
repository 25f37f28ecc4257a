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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache, cached_property
from math import lcm

from .flags import EX_AEQUO, NO_FUNDING_AMOUNT, disagreement
from .numbers import mean, median, population_stdev
from .scheme import Scheme

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


class EvaluationError(ValueError):
    """The input cannot be evaluated (a score off the scale, an unknown criterion or proposal).

    Entry and import refuse such scores, so this signals a bug or tampered data, never a user's
    typing mistake; ``problems`` lists every one.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def evaluate(data: EvaluationIn) -> Ranking:
    """Score, threshold, rank and fund every proposal of ``data`` by the rules of its scheme.

    :raises EvaluationError: a score off the scale, or one for an unknown criterion or proposal.
    """
    _check(data)
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
    return _rank(scheme, data.budget, scored)


def _check(data: EvaluationIn) -> None:
    scheme = data.scheme
    keys = set(scheme.criterion_keys)
    references = [p.reference for p in data.proposals]
    known = set(references)
    problems: list[str] = []
    if len(known) != len(references):
        duplicates = sorted({r for r in references if references.count(r) > 1})
        problems.append(f"duplicate proposal references: {', '.join(duplicates)}")

    on_scale: dict[Decimal, bool] = {}  # a call has few distinct values: check each once

    def check_scores(where: str, proposal: str, scores: Iterable[tuple[str, Decimal]]) -> None:
        if proposal not in known:
            problems.append(f"{where}: unknown proposal {proposal!r}")
        seen: set[str] = set()
        for key, value in scores:
            fits = on_scale.get(value)
            if fits is None:
                fits = on_scale[value] = scheme.scale.contains(value)
            if key not in keys:
                problems.append(f"{where}: unknown criterion {key!r}")
            elif key in seen:
                problems.append(f"{where}: criterion {key!r} scored twice")
            elif not fits:
                problems.append(
                    f"{where}: {key} = {value} is off the scale "
                    f"{scheme.scale.min} to {scheme.scale.max} in steps of {scheme.scale.step}"
                )
            seen.add(key)

    # Most reviews share a handful of key orders, and a call a handful of values: each is
    # checked once, and a review is looked at closely only when something is wrong with it.
    good_keys: dict[tuple[str, ...], bool] = {}
    for review in data.reviews:
        if not (review.submitted and not review.conflicted):
            continue  # drafts and conflicted reviews never count, so they never block a ranking
        scores = review.scores
        order = tuple([key for key, _value in scores])
        keys_fine = good_keys.get(order)
        if keys_fine is None:
            keys_fine = good_keys[order] = len(set(order)) == len(order) and keys.issuperset(order)
        if keys_fine and review.proposal in known:
            for _key, value in scores:
                fits = on_scale.get(value)
                if fits is None:
                    fits = on_scale[value] = scheme.scale.contains(value)
                if not fits:
                    break
            else:
                continue
        check_scores(f"review of {review.proposal} by {review.expert}", review.proposal, scores)
    consensus_seen: set[str] = set()
    for item in data.consensus:
        if item.proposal in consensus_seen:
            problems.append(f"consensus of {item.proposal}: given twice")
        consensus_seen.add(item.proposal)
        check_scores(f"consensus of {item.proposal}", item.proposal, item.scores)
    if data.budget is not None and data.budget < 0:
        problems.append(f"budget must not be negative, got {data.budget}")
    for proposal in data.proposals:
        if proposal.requested_funding is not None and proposal.requested_funding < 0:
            problems.append(f"{proposal.reference}: requested funding must not be negative")
    if problems:
        raise EvaluationError(problems)


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


def _rank(scheme: Scheme, budget: Decimal | None, scored: list[_Scored]) -> Ranking:
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

    rows: list[ProposalResult] = []
    main_total = reserve_total = Decimal(0)
    cumulative = Decimal(0)
    below_line = False
    position = 1
    for group in groups:
        group_cost = sum((_funding(s) for s in group), Decimal(0))
        # A tie group is funded whole or not at all: the rules give no ground to prefer one
        # member, so the first group that does not fit starts the reserve list.
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
) -> ProposalResult:
    flags: list[str] = []
    if ex_aequo:
        flags.append(str(EX_AEQUO))
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
    )
