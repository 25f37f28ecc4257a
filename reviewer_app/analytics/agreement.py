"""How much the experts agree: Krippendorff's alpha (interval) and ICC(1), per criterion and on
the total. Pure: numpy and the standard library.

Both statistics read the same values: units are proposals, each value one review's score (for
"total": the review's unweighted sum of its criterion scores), and a proposal with fewer than
two values drops out, since it says nothing about agreement. The definitions, with their
sources, are in docs/analytics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .reviews import Reviews

TOTAL = "total"


@dataclass(frozen=True)
class Reliability:
    krippendorff_alpha: float | None  # None: fewer than 2 pairable values, or no variation
    icc1: float | None  # None: fewer than 2 proposals with 2 values, or no variation
    units: int  # proposals that entered the computation (two values or more)
    values: int  # scores that entered it


@dataclass(frozen=True, eq=False)
class _Groups:
    """Values grouped by unit, units with fewer than two values left out."""

    unit: NDArray[np.intp]  # (n,) 0 .. units - 1
    value: NDArray[np.float64]  # (n,)
    sizes: NDArray[np.int64]  # (units,) m_u
    means: NDArray[np.float64]  # (units,)
    within: NDArray[np.float64]  # (units,) sum of squares about the unit's mean
    varies: bool  # not every value the same

    @property
    def n(self) -> int:
        return int(self.value.size)

    @property
    def units(self) -> int:
        return int(self.sizes.size)


def _groups(unit: NDArray[np.intp], value: NDArray[np.float64]) -> _Groups:
    unit = np.asarray(unit, dtype=np.intp)
    value = np.asarray(value, dtype=np.float64)
    if unit.size:
        _labels, unit, sizes = np.unique(unit, return_inverse=True, return_counts=True)
        keep = sizes[unit] >= 2
        unit, value = unit[keep], value[keep]
    if unit.size:
        _labels, unit, sizes = np.unique(unit, return_inverse=True, return_counts=True)
    else:
        sizes = np.zeros(0, dtype=np.int64)
    units = int(sizes.size)
    sizes = sizes.astype(np.int64)
    sums = np.asarray(np.bincount(unit, weights=value, minlength=units), dtype=np.float64)
    means = sums / np.maximum(sizes, 1)
    squares = (value - means[unit]) ** 2
    within = np.asarray(np.bincount(unit, weights=squares, minlength=units), dtype=np.float64)
    # Decided on the values themselves: a float sum of equal values need not come out 0.
    varies = bool(value.size) and bool(value.max() != value.min())
    return _Groups(unit, value, sizes, means, within, varies)


def krippendorff_alpha(unit: NDArray[np.intp], value: NDArray[np.float64]) -> float | None:
    """Krippendorff's alpha with the interval metric, delta^2 = (c - k)^2.

    ``unit[i]`` is the unit (proposal) of value ``value[i]``; a unit's values may come from any
    coders, missing ones are simply absent. alpha = 1 - D_o / D_e with, over the n pairable
    values (units with two values or more),
    D_o = (1/n) sum_u 1/(m_u - 1) sum_{i != j in u} (v_i - v_j)^2 and
    D_e = 1/(n (n - 1)) sum_{i != j} (v_i - v_j)^2. Over ordered pairs,
    sum_{i != j} (v_i - v_j)^2 = 2 m SS (SS: squares about the mean), which is what is summed.
    None when fewer than two values pair or they do not vary.
    """
    return _alpha(_groups(unit, value))


def _alpha(g: _Groups) -> float | None:
    if g.n < 2 or not g.varies:
        return None
    observed = float(np.sum(2.0 * g.sizes * g.within / (g.sizes - 1))) / g.n
    spread = float(np.sum((g.value - g.value.mean()) ** 2))
    expected = 2.0 * spread / (g.n - 1)
    if expected == 0.0:  # values that differ by less than a float can tell
        return None
    return 1.0 - observed / expected


def icc1(unit: NDArray[np.intp], value: NDArray[np.float64]) -> float | None:
    """ICC(1): one-way random effects, single rater (Shrout and Fleiss's ICC(1,1)), from the
    one-way ANOVA over units for groups of unequal size:
    MSB = SSB / (g - 1), MSW = SSW / (N - g), n0 = (N - sum n_i^2 / N) / (g - 1),
    ICC1 = (MSB - MSW) / (MSB + (n0 - 1) MSW). Units with a single value are left out; None
    with fewer than two units left or no variation at all.
    """
    return _icc1(_groups(unit, value))


def _icc1(g: _Groups) -> float | None:
    groups, n = g.units, g.n
    if groups < 2 or not g.varies:
        return None
    grand = float(g.value.mean())
    between = float(np.sum(g.sizes * (g.means - grand) ** 2))
    within = float(np.sum(g.within))
    msb = between / (groups - 1)
    msw = within / (n - groups)  # every unit has two values or more: n - groups >= groups
    n0 = (n - float(np.sum(g.sizes.astype(np.float64) ** 2)) / n) / (groups - 1)
    denominator = msb + (n0 - 1.0) * msw
    if denominator == 0.0:
        return None
    return (msb - msw) / denominator


def reliability(unit: NDArray[np.intp], value: NDArray[np.float64]) -> Reliability:
    """Both statistics on the same values (``unit``, ``value`` as for ``krippendorff_alpha``)."""
    g = _groups(unit, value)
    return Reliability(krippendorff_alpha=_alpha(g), icc1=_icc1(g), units=g.units, values=g.n)


def reliabilities(reviews: Reviews) -> dict[str, Reliability]:
    """Each criterion in scheme order, then "total" (reviews that score every criterion)."""
    result: dict[str, Reliability] = {}
    for c, key in enumerate(reviews.criteria):
        given = reviews.given[:, c]
        result[key] = reliability(
            reviews.proposal[given], reviews.values[given, c] / float(reviews.unit)
        )
    complete = reviews.complete
    result[TOTAL] = reliability(
        reviews.proposal[complete], reviews.totals[complete] / float(reviews.unit)
    )
    return result
