"""The optional partial lottery (issue 14, point 4; Heyard et al. 2022): proposals whose funded
probability lies between two bounds are equally fundable by these figures, so the budget left
after the clearly fundable ones is allocated among them by a draw with a published seed.

Pure and reproducible: the draw is Python's ``random.Random(seed)`` shuffling the pool sorted
by reference, so anyone with the seed and the figures gets the same order
(``reviewer-app analytics KEY --draw SEED``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..scoring.engine import Ranking


@dataclass(frozen=True)
class LotteryRule:
    """Funded probabilities from ``low`` to ``high`` (inclusive, in [0, 1]) go into the draw;
    above ``high`` a proposal is funded before the draw, below ``low`` it is not."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.low < self.high <= 1.0:
            raise ValueError(f"need 0 <= low < high <= 1, got {self.low} and {self.high}")


@dataclass(frozen=True)
class LotteryDraw:
    rule: LotteryRule
    seed: int
    sure: tuple[str, ...]  # funded without the draw, in rank order
    pool: tuple[str, ...]  # in the draw, by reference
    order: tuple[str, ...]  # the pool in the drawn order
    funded: tuple[str, ...]  # every funded proposal: the sure ones, then those drawn
    budget: Decimal | None
    spent: Decimal  # requested funding of ``funded``


def draw(
    ranking: Ranking, probabilities: Mapping[str, float], rule: LotteryRule, seed: int
) -> LotteryDraw:
    """The partial lottery over ``ranking``'s passing proposals. The clearly fundable ones
    (probability above ``rule.high``) come first, in rank order, then the pool (probability
    within the bounds) in the order ``seed`` draws; each is funded if it still fits the
    budget. Proposals below ``rule.low`` are not funded. Without a budget every passing
    proposal is funded (there is nothing to draw for)."""
    ranked = [row for row in ranking.ranked if row.passes]
    cost = {row.reference: row.requested_funding or Decimal(0) for row in ranked}
    sure = [r.reference for r in ranked if probabilities[r.reference] > rule.high]
    pool = sorted(
        r.reference for r in ranked if rule.low <= probabilities[r.reference] <= rule.high
    )
    order = list(pool)
    random.Random(seed).shuffle(order)
    funded: list[str] = []
    spent = Decimal(0)
    for reference in [*sure, *order]:
        if ranking.budget is None or spent + cost[reference] <= ranking.budget:
            funded.append(reference)
            spent += cost[reference]
    return LotteryDraw(
        rule=rule,
        seed=seed,
        sure=tuple(sure),
        pool=tuple(pool),
        order=tuple(order),
        funded=tuple(funded),
        budget=ranking.budget,
        spent=spent,
    )
