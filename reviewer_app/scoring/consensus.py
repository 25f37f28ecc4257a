"""What a proposed consensus does to a proposal, against the reviews it replaces.

Pure: standard library only. Both sides are computed by the engine (``evaluate``): *before* from
the counted reviews alone (the aggregate), *after* with the proposed consensus scores. Compared
are each criterion against its threshold and the (unweighted) total against the overall
threshold. A **crossing** is a threshold met on one side and not on the other; finalising a
consensus with a crossing needs a written justification (docs/scoring.md, section 9).

The consensus page shows this while the rapporteur edits. Its script recomputes the *after* side
from ``ConsensusEffect.page_data()``: thresholds and weights in integer hundredths (every score,
weight and threshold has at most two decimals), the aggregates as exact fractions and the
*before* verdicts as the engine gave them, so the page never decides a threshold in floating
point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from .engine import ConsensusIn, EvaluationIn, ProposalIn, ReviewIn, evaluate
from .scheme import Scheme

OVERALL = "overall"  # the crossing of the overall threshold, beside the criterion keys
_REFERENCE = "consensus"  # the one proposal evaluated here


class Turn(StrEnum):
    """How the consensus changes the proposal's verdict on the thresholds."""

    FAIL_TO_PASS = "fail_to_pass"
    PASS_TO_FAIL = "pass_to_fail"


@dataclass(frozen=True)
class CriterionEffect:
    key: str
    threshold: Decimal | None
    weight: Decimal
    aggregate: Fraction | None  # the reviews' mean or median (None: no counted score)
    proposed: Decimal | None  # the consensus score (None: not chosen yet)
    aggregate_meets: bool | None  # None: no threshold, or no score
    proposed_meets: bool | None

    @property
    def change(self) -> Fraction | None:
        if self.aggregate is None or self.proposed is None:
            return None
        return Fraction(self.proposed) - self.aggregate

    @property
    def crosses(self) -> bool:
        return _crosses(self.aggregate_meets, self.proposed_meets)


@dataclass(frozen=True)
class ConsensusEffect:
    criteria: tuple[CriterionEffect, ...]  # scheme order
    overall_threshold: Decimal | None
    aggregate_total: Fraction | None  # None: some criterion has no score
    proposed_total: Fraction | None
    aggregate_weighted_total: Fraction | None
    proposed_weighted_total: Fraction | None
    aggregate_meets_overall: bool | None  # None: no overall threshold, or no total
    proposed_meets_overall: bool | None

    def criterion(self, key: str) -> CriterionEffect:
        for item in self.criteria:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def total_change(self) -> Fraction | None:
        if self.aggregate_total is None or self.proposed_total is None:
            return None
        return self.proposed_total - self.aggregate_total

    @property
    def weighted_total_change(self) -> Fraction | None:
        if self.aggregate_weighted_total is None or self.proposed_weighted_total is None:
            return None
        return self.proposed_weighted_total - self.aggregate_weighted_total

    @property
    def overall_crosses(self) -> bool:
        return _crosses(self.aggregate_meets_overall, self.proposed_meets_overall)

    @property
    def crossings(self) -> tuple[str, ...]:
        """The criterion keys whose threshold is crossed, then ``OVERALL`` if that one is."""
        keys = tuple(c.key for c in self.criteria if c.crosses)
        return (*keys, OVERALL) if self.overall_crosses else keys

    @property
    def needs_justification(self) -> bool:
        return bool(self.crossings)

    @property
    def aggregate_passes(self) -> bool | None:
        """Every threshold met by the aggregate (None: some criterion has no score)."""
        return _passes(
            self.aggregate_total,
            (c.aggregate_meets for c in self.criteria),
            self.aggregate_meets_overall,
        )

    @property
    def proposed_passes(self) -> bool | None:
        return _passes(
            self.proposed_total,
            (c.proposed_meets for c in self.criteria),
            self.proposed_meets_overall,
        )

    @property
    def turn(self) -> Turn | None:
        before, after = self.aggregate_passes, self.proposed_passes
        if before is None or after is None or before == after:
            return None
        return Turn.FAIL_TO_PASS if after else Turn.PASS_TO_FAIL

    def page_data(self) -> dict[str, Any]:
        """The numbers the consensus page's script needs, as JSON-ready values."""
        return {
            "criteria": [
                {
                    "key": c.key,
                    "threshold": _hundredths(c.threshold),
                    "weight": _hundredths(c.weight),
                    "aggregate": _fraction(c.aggregate),
                    "aggregate_meets": c.aggregate_meets,
                }
                for c in self.criteria
            ],
            "overall_threshold": _hundredths(self.overall_threshold),
            "aggregate_total": _fraction(self.aggregate_total),
            "aggregate_weighted_total": _fraction(self.aggregate_weighted_total),
            "aggregate_meets_overall": self.aggregate_meets_overall,
            "aggregate_passes": self.aggregate_passes,
        }


def consensus_effect(
    scheme: Scheme, reviews: Iterable[ReviewIn], proposed: Mapping[str, Decimal | None]
) -> ConsensusEffect:
    """The effect of the ``proposed`` consensus scores (criterion key -> score, None or missing:
    not chosen) against the aggregate of ``reviews`` (one proposal's; drafts and conflicted
    reviews do not count, as everywhere).

    :raises EvaluationError: a proposed or reviewed score off the scale, or an unknown criterion.
    """
    counted = tuple(replace(r, proposal=_REFERENCE) for r in reviews)
    chosen = tuple(
        (key, value) for key in scheme.criterion_keys if (value := proposed.get(key)) is not None
    )
    proposal = (ProposalIn(reference=_REFERENCE, title=""),)
    before = evaluate(EvaluationIn(scheme=scheme, proposals=proposal, reviews=counted)).rows[0]
    after = evaluate(
        EvaluationIn(
            scheme=scheme,
            proposals=proposal,
            reviews=counted,
            consensus=(ConsensusIn(proposal=_REFERENCE, scores=chosen),),
        )
    ).rows[0]
    complete = len(chosen) == len(scheme.criteria)
    criteria = []
    for spec in scheme.criteria:
        was, now = before.criterion(spec.key), after.criterion(spec.key)
        value = proposed.get(spec.key)
        criteria.append(
            CriterionEffect(
                key=spec.key,
                threshold=spec.threshold,
                weight=spec.weight,
                aggregate=was.score,
                proposed=value,
                aggregate_meets=was.meets_threshold,
                proposed_meets=now.meets_threshold if value is not None else None,
            )
        )
    return ConsensusEffect(
        criteria=tuple(criteria),
        overall_threshold=scheme.rules.overall_threshold,
        aggregate_total=before.total,
        proposed_total=after.total if complete else None,
        aggregate_weighted_total=before.weighted_total,
        proposed_weighted_total=after.weighted_total if complete else None,
        aggregate_meets_overall=before.meets_overall_threshold,
        proposed_meets_overall=after.meets_overall_threshold if complete else None,
    )


def _crosses(before: bool | None, after: bool | None) -> bool:
    return before is not None and after is not None and before != after


def _passes(
    total: Fraction | None, meets: Iterable[bool | None], overall: bool | None
) -> bool | None:
    if total is None:
        return None
    return all(m is not False for m in meets) and overall is not False


def _hundredths(value: Decimal | None) -> int | None:
    if value is None:
        return None
    scaled = value * 100
    if scaled != scaled.to_integral_value():  # the scheme loader allows two decimals at most
        raise ValueError(f"{value} has more than two decimals")
    return int(scaled)


def _fraction(value: Fraction | None) -> list[int] | None:
    return None if value is None else [value.numerator, value.denominator]
