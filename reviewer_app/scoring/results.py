"""What the engine returns: every proposal's criterion scores, totals, rank and status. Pure:
standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

from .numbers import median, population_stdev
from .scheme import Scheme


class Status(StrEnum):
    MAIN = "main"
    RESERVE = "reserve"
    BELOW_THRESHOLD = "below_threshold"
    INCOMPLETE = "incomplete"


class ScoresNotLoaded(LookupError):
    """A figure that needs the individual scores, read from a result ranked on summaries (see
    ``EvaluationIn.summaries``): the page or report must rank the proposal from its scores. Never
    answered with a guess."""


@dataclass(frozen=True, eq=False)
class CriterionResult:
    key: str
    # The score as an exact ratio (numerator, denominator): what was decided on.
    ratio: tuple[int, int] | None
    source: str | None  # "consensus" | "aggregate" | None
    n: int  # the counted scores
    total: Decimal  # their sum
    low: Decimal | None  # the lowest and the highest (None without a score)
    high: Decimal | None
    # The counted scores with the expert who gave each, in no particular order (``by_expert``
    # and ``individual`` are the ordered views); None when ranked on summaries.
    given: tuple[tuple[str, Decimal], ...] | None
    meets_threshold: bool | None
    disagreement: bool
    threshold: Decimal | None = None
    weight: Decimal = Decimal(1)

    def _compared(self) -> tuple[object, ...]:
        return (
            self.key,
            self.score,
            self.source,
            self.n,
            self.total,
            self.low,
            self.high,
            None if self.given is None else self.by_expert,  # in whatever order they came
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

    # Everything below is for reading, not for deciding: worked out when read, so a page that
    # shows 50 rows of a 10,000-proposal ranking pays for 50. The score is made afresh each
    # time (a Fraction of two integers); Python 3.11's cached_property takes a lock on every
    # first read, which cost an export of 10,000 rows 0.6 s where the Fractions cost 0.1 s.
    @property
    def score(self) -> Fraction | None:
        return None if self.ratio is None else Fraction(*self.ratio)

    @property
    def has_scores(self) -> bool:
        """Whether the individual scores are here (not ranked on summaries)."""
        return self.given is not None

    def _given(self) -> tuple[tuple[str, Decimal], ...]:
        if self.given is None:
            raise ScoresNotLoaded(f"the individual scores of {self.key} were not loaded")
        return self.given

    @cached_property
    def by_expert(self) -> tuple[tuple[str, Decimal], ...]:
        """The numbers behind the score, ordered by expert id, for the pages and reports."""
        return tuple(sorted(self._given()))

    @cached_property
    def individual(self) -> tuple[Decimal, ...]:
        """The counted scores, ascending."""
        return tuple(sorted(value for _expert, value in self._given()))

    @property
    def min(self) -> Decimal | None:
        return self.low

    @property
    def max(self) -> Decimal | None:
        return self.high

    @cached_property
    def mean(self) -> Fraction | None:
        return Fraction(self.total) / self.n if self.n else None

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

    @property  # not cached: see CriterionResult.score
    def total(self) -> Fraction | None:
        return None if self.total_ratio is None else Fraction(*self.total_ratio)

    @property
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
