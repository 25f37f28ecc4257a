"""Krippendorff's alpha and ICC(1) against published and hand-worked examples, and read from a
call's reviews the way docs/analytics.md says (units, dropped proposals, the total)."""

from __future__ import annotations

import numpy as np
import pytest

from reviewer_app.analytics import analyse, icc1, krippendorff_alpha
from reviewer_app.analytics.agreement import reliability

from ..scoring.helpers import data, make_scheme, proposal, review

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the worked example with
# missing values: observers A-D (rows) x units 1-12 (columns), None where an observer gave no
# value. Unit 12 has a single value and drops out; 40 values pair. Interval alpha = 0.849
# (the 0.743 printed beside it is the nominal metric).
KRIPPENDORFF = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Shrout and Fleiss (1979), Table 2: 6 targets (rows) x 4 judges. Their Table 3 gives
# BMS = 11.24, WMS = 6.26 and ICC(1,1) = (11.24 - 6.26) / (11.24 + 3 x 6.26) = 0.17.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def _pairs(table: dict[str, list[int | None]]) -> tuple[np.ndarray, np.ndarray]:
    units, values = [], []
    for row in table.values():
        for unit, value in enumerate(row):
            if value is not None:
                units.append(unit)
                values.append(float(value))
    return np.asarray(units), np.asarray(values)


def test_alpha_reproduces_krippendorffs_worked_example() -> None:
    units, values = _pairs(KRIPPENDORFF)
    alpha = krippendorff_alpha(units, values)
    assert alpha is not None
    assert round(alpha, 3) == 0.849
    stats = reliability(units, values)
    assert (stats.units, stats.values) == (11, 40)


def test_alpha_by_hand() -> None:
    # Units {1, 3} and {2, 2}: n = 4 pairable values.
    # D_o = (1/4) [ (1/1) (2 x (1-3)^2) + 0 ] = 2
    # ordered pairs over all four values: 2 x [(1-3)^2 + 2 (1-2)^2 + 2 (3-2)^2 + 0] = 16,
    # D_e = 16 / (4 x 3) = 4/3, alpha = 1 - 2 / (4/3) = -0.5 (worse than chance).
    alpha = krippendorff_alpha(np.array([0, 0, 1, 1]), np.array([1.0, 3.0, 2.0, 2.0]))
    assert alpha == pytest.approx(-0.5)


def test_icc1_reproduces_shrout_and_fleiss_table_2() -> None:
    units = np.repeat(np.arange(6), 4)
    values = np.asarray(SHROUT_FLEISS, dtype=float).reshape(-1)
    # By hand: target means 6, 3, 6.5, 4, 7.5, 4.75, grand mean 127/24;
    # SSB = 4 x (182.0625 - 6 (127/24)^2) = 4 x 1349/96 = 1349/24, BMS = 1349/120 = 11.2417;
    # SSW = 30 + 14 + 11 + 26 + 17 + 14.75 = 112.75, WMS = 112.75 / 18 = 6.2639;
    # ICC(1,1) = (11.2417 - 6.2639) / (11.2417 + 3 x 6.2639) = 0.1657.
    value = icc1(units, values)
    assert value is not None
    assert round(value, 2) == 0.17
    assert value == pytest.approx((1349 / 120 - 112.75 / 18) / (1349 / 120 + 3 * 112.75 / 18))


def test_icc1_unbalanced_by_hand() -> None:
    # Groups {1, 3}, {4, 6, 8}, {5} (a single value: left out), {2, 2}: g = 3, N = 7,
    # grand mean 26/7. SSB = 2 (12/7)^2 + 3 (16/7)^2 + 2 (12/7)^2 = 1344/49, MSB = 672/49;
    # SSW = 2 + 8 + 0 = 10, MSW = 10 / 4 = 2.5; n0 = (7 - (4 + 9 + 4)/7) / 2 = 16/7;
    # ICC1 = (672/49 - 5/2) / (672/49 + (9/7)(5/2)) = (1099/98) / (1659/98) = 157/237.
    units = np.array([0, 0, 1, 1, 1, 2, 3, 3])
    values = np.array([1.0, 3.0, 4.0, 6.0, 8.0, 5.0, 2.0, 2.0])
    assert icc1(units, values) == pytest.approx(157 / 237)
    assert reliability(units, values).units == 3


@pytest.mark.parametrize(
    ("units", "values"),
    [
        ([], []),
        ([0, 1, 2], [1.0, 2.0, 3.0]),  # no unit has two values
        ([0, 0, 1, 1], [2.5, 2.5, 2.5, 2.5]),  # no variation at all
    ],
)
def test_nothing_to_say_is_none(units: list[int], values: list[float]) -> None:
    stats = reliability(np.asarray(units, dtype=np.intp), np.asarray(values))
    assert stats.krippendorff_alpha is None
    assert stats.icc1 is None


def test_icc1_needs_two_units() -> None:
    # One proposal with varying scores: alpha is defined (it compares with the same unit),
    # a between-proposal variance is not.
    units, values = np.array([0, 0, 0]), np.array([1.0, 2.0, 4.0])
    assert icc1(units, values) is None
    assert krippendorff_alpha(units, values) is not None


def test_a_call_reads_as_krippendorffs_example() -> None:
    """Proposals are units and experts coders; drafts and conflicted reviews never count."""
    scheme = make_scheme(criteria=("compute",))
    proposals = [proposal(f"U{u:02d}") for u in range(1, 13)]
    reviews = [
        review(f"U{u + 1:02d}", expert, str(value), keys=("compute",))
        for expert, row in KRIPPENDORFF.items()
        for u, value in enumerate(row)
        if value is not None
    ]
    # Values that would change alpha if they counted.
    reviews += [
        review("U01", "E", "5", keys=("compute",), submitted=False),
        review("U02", "E", "0", keys=("compute",), conflicted=True),
    ]
    result = analyse(data(scheme, proposals, reviews), samples=5)
    assert list(result.reliability) == ["compute", "total"]
    for key in ("compute", "total"):  # one criterion: the total is the same score
        stats = result.reliability[key]
        assert stats.krippendorff_alpha is not None
        assert round(stats.krippendorff_alpha, 3) == 0.849
        assert (stats.units, stats.values) == (11, 40)


def test_the_total_is_the_unweighted_sum_of_a_review() -> None:
    # Two criteria that disagree in opposite directions: each alone shows disagreement, the
    # totals agree perfectly within each proposal, which only the sum (not a weighted sum,
    # and not a mean of the criteria's alphas) shows. A weight must not matter.
    scheme = make_scheme(criteria=("compute", "funding"), weights={"compute": "3"})
    keys = ("compute", "funding")
    reviews = [
        review("P1", "A", "1", "4", keys=keys),
        review("P1", "B", "4", "1", keys=keys),
        review("P2", "A", "2", "1", keys=keys),
        review("P2", "B", "1", "2", keys=keys),
    ]
    result = analyse(data(scheme, [proposal("P1"), proposal("P2")], reviews), samples=5)
    assert result.reliability["total"].krippendorff_alpha == pytest.approx(1.0)
    assert result.reliability["total"].icc1 == pytest.approx(1.0)
    compute = result.reliability["compute"].krippendorff_alpha
    assert compute is not None and compute < 0
