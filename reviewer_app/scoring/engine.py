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
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

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


@dataclass(frozen=True)
class CriterionResult:
    key: str
    score: Fraction | None
    source: str | None  # "consensus" | "aggregate" | None
    individual: tuple[Decimal, ...]  # counted individual scores, ascending
    n: int
    mean: Fraction | None
    median: Fraction | None
    min: Decimal | None
    max: Decimal | None
    stdev: Decimal | None
    meets_threshold: bool | None
    disagreement: bool
    # The same counted scores with the expert who gave each, ordered by expert id: the numbers
    # behind the score, for the ranking page and the reports.
    by_expert: tuple[tuple[str, Decimal], ...] = ()
    threshold: Decimal | None = None
    weight: Decimal = Decimal(1)


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
    total: Fraction | None
    weighted_total: Fraction | None
    passes: bool
    requested_funding: Decimal | None
    cumulative_funding: Decimal | None
    # True when every criterion score comes from a final consensus.
    has_full_consensus: bool = False
    # Whether the unweighted total reaches rules.overall_threshold (None: no such threshold or
    # no total).
    meets_overall_threshold: bool | None = None

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
        if review.counts:
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

    def check_scores(where: str, proposal: str, scores: Iterable[tuple[str, Decimal]]) -> None:
        if proposal not in known:
            problems.append(f"{where}: unknown proposal {proposal!r}")
        seen: set[str] = set()
        for key, value in scores:
            if key not in keys:
                problems.append(f"{where}: unknown criterion {key!r}")
            elif key in seen:
                problems.append(f"{where}: criterion {key!r} scored twice")
            elif not scheme.scale.contains(value):
                problems.append(
                    f"{where}: {key} = {value} is off the scale "
                    f"{scheme.scale.min} to {scheme.scale.max} in steps of {scheme.scale.step}"
                )
            seen.add(key)

    for review in data.reviews:
        if not review.counts:
            continue  # drafts and conflicted reviews never count, so they never block a ranking
        check_scores(
            f"review of {review.proposal} by {review.expert}", review.proposal, review.scores
        )
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


@dataclass(frozen=True)
class _Scored:
    """A proposal with its criterion scores, before ranking and funding."""

    proposal: ProposalIn
    reviews: int
    criteria: tuple[CriterionResult, ...]
    total: Fraction | None
    weighted_total: Fraction | None
    complete: bool
    passes: bool
    meets_overall: bool | None
    full_consensus: bool


def _score_proposal(
    scheme: Scheme,
    proposal: ProposalIn,
    reviews: list[ReviewIn],
    consensus: dict[str, Decimal],
) -> _Scored:
    rules = scheme.rules
    results: list[CriterionResult] = []
    for spec in scheme.criteria:
        by_expert = tuple(
            sorted(
                ((r.expert, value) for r in reviews for key, value in r.scores if key == spec.key),
                key=lambda pair: (pair[0], pair[1]),
            )
        )
        individual = tuple(sorted(value for _, value in by_expert))
        aggregate = (mean if rules.aggregate == "mean" else median)(individual)
        if spec.key in consensus:
            score: Fraction | None = Fraction(consensus[spec.key])
            source: str | None = SOURCE_CONSENSUS
        elif aggregate is not None:
            score, source = aggregate, SOURCE_AGGREGATE
        else:
            score, source = None, None
        low = individual[0] if individual else None
        high = individual[-1] if individual else None
        spread = rules.disagreement_spread
        results.append(
            CriterionResult(
                key=spec.key,
                score=score,
                source=source,
                individual=individual,
                n=len(individual),
                mean=mean(individual),
                median=median(individual),
                min=low,
                max=high,
                stdev=population_stdev(individual),
                meets_threshold=(
                    None if spec.threshold is None or score is None else score >= spec.threshold
                ),
                disagreement=(
                    spread is not None
                    and low is not None
                    and high is not None
                    and high - low >= spread
                ),
                by_expert=by_expert,
                threshold=spec.threshold,
                weight=spec.weight,
            )
        )

    all_scored = all(r.score is not None for r in results)
    full_consensus = all(r.source == SOURCE_CONSENSUS for r in results)
    # A full consensus stands on its own; otherwise the scores rest on enough reviews.
    complete = all_scored and (full_consensus or len(reviews) >= rules.min_reviews)
    total = weighted = None
    meets_overall: bool | None = None
    if all_scored:
        total = sum((r.score for r in results if r.score is not None), Fraction(0))
        weighted = sum(
            (Fraction(r.weight) * r.score for r in results if r.score is not None), Fraction(0)
        )
        if rules.overall_threshold is not None:
            meets_overall = total >= rules.overall_threshold
    passes = (
        complete
        and all(r.meets_threshold is not False for r in results)
        and meets_overall is not False
    )
    return _Scored(
        proposal=proposal,
        reviews=len(reviews),
        criteria=tuple(results),
        total=total,
        weighted_total=weighted,
        complete=complete,
        passes=passes,
        meets_overall=meets_overall,
        full_consensus=full_consensus,
    )


def _rank(scheme: Scheme, budget: Decimal | None, scored: list[_Scored]) -> Ranking:
    tie_break = scheme.rules.tie_break

    def merit(item: _Scored) -> tuple[Fraction, ...]:
        assert item.weighted_total is not None  # passing proposals are complete
        tie = tuple(_criterion_score(item, key) for key in tie_break)
        return (item.weighted_total, *tie)

    passing = sorted(
        (s for s in scored if s.passes),
        key=lambda s: (tuple(-v for v in merit(s)), s.proposal.reference),
    )
    groups: list[list[_Scored]] = []
    for item in passing:
        if groups and merit(groups[-1][0]) == merit(item):
            groups[-1].append(item)
        else:
            groups.append([item])

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

    unranked = sorted(
        (s for s in scored if not s.passes),
        key=lambda s: (
            s.weighted_total is None,
            -(s.weighted_total or 0),
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


def _criterion_score(item: _Scored, key: str) -> Fraction:
    for result in item.criteria:
        if result.key == key:
            assert result.score is not None
            return result.score
    raise KeyError(key)


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
    flags.extend(str(disagreement(c.key)) for c in item.criteria if c.disagreement)
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
        total=item.total,
        weighted_total=item.weighted_total,
        passes=item.passes,
        requested_funding=item.proposal.requested_funding,
        cumulative_funding=cumulative,
        has_full_consensus=item.full_consensus,
        meets_overall_threshold=item.meets_overall,
    )
