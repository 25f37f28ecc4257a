"""What the engine evaluates: a call's proposals with either the counted scores themselves or
what they sum up to per proposal and criterion. Pure: standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from .scheme import Scheme


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


class CriterionSummary(NamedTuple):
    """The counted scores of one proposal on one criterion, summed up (by the database, for a
    large call): all a mean, a threshold and a disagreement flag need, without the scores. A
    named tuple, not a dataclass: a large call has one per proposal and criterion, and a tuple
    is made in a third of the time."""

    key: str
    n: int  # how many scores
    total: Decimal  # the sum of the scores, exact
    low: Decimal
    high: Decimal
    # How many of the scores are not on a step of the scale: a score off the scale is either
    # outside ``low``..``high`` or off a step, and the engine refuses both.
    off_step: int = 0


@dataclass(frozen=True)
class SummaryIn:
    """One proposal's counted reviews in summary: how many, and each criterion's summary (a
    criterion no counted review scored is left out, as it has no scores)."""

    proposal: str
    reviews: int
    criteria: tuple[CriterionSummary, ...]


@dataclass(frozen=True)
class EvaluationIn:
    """A call to evaluate. The counted scores come either one by one (``reviews``: every
    number behind every score can be shown) or summed up per proposal and criterion
    (``summaries``: the same ranking from far fewer rows, for a mean only; the individual scores
    are then not in the result). Never both."""

    scheme: Scheme
    proposals: tuple[ProposalIn, ...]
    reviews: tuple[ReviewIn, ...] = ()
    consensus: tuple[ConsensusIn, ...] = ()
    budget: Decimal | None = None
    # The panel's order inside ex aequo groups: (reference, place), a lower place first. It
    # only ever orders proposals the scheme's rules leave tied (see ``engine._panel_split``).
    panel_order: tuple[tuple[str, int], ...] = ()
    summaries: tuple[SummaryIn, ...] = ()
