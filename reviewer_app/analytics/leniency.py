"""Each expert's leniency, and the ranking the totals would give corrected by it. Pure: numpy
and the standard library, and the engine's ranking as input.

The model is the additive one of Heyard et al. (2022) without its priors: a review's total is
its proposal's merit plus its expert's offset, total(p, e) = mu(p) + b(e), fitted by least
squares with the offsets summing to 0. docs/analytics.md says how to read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from ..scoring.engine import Ranking
from .reviews import Reviews


@dataclass(frozen=True)
class ExpertOffset:
    expert: str
    reviews: int  # reviews in the fit (those that score every criterion)
    offset: float  # points of total above (+) or below (-) the experts' average
    stderr: float | None  # None: not estimable (no residual degrees of freedom, or no peer)


@dataclass(frozen=True)
class Calibrated:
    reference: str
    calibrated_total: float | None  # mu(p) from the fit; None: no review in the fit
    main: bool  # on the main list when the passing proposals are ranked by calibrated_total


@dataclass(frozen=True, eq=False)
class Fit:
    experts: tuple[ExpertOffset, ...]  # sorted by expert id
    merit: dict[int, float]  # mu(p), by index into ``Reviews.references``
    residual_variance: float | None  # sigma^2 = RSS / degrees of freedom
    degrees_of_freedom: int  # N - P - E + K (K: groups of experts linked by shared proposals)


def fit_leniency(reviews: Reviews) -> Fit:
    """The least-squares fit of total(p, e) = mu(p) + b(e) over the reviews that have a total.

    mu(p) is eliminated (for given offsets it is the mean of total - b(e) over p's reviews),
    which leaves the E x E normal equations A b = r with
    A = diag(reviews of e) - sum_p (1/n_p) c_p c_p^T (c_p: how often each expert reviewed p)
    and r_e = sum over e's reviews of (total - mean total of the proposal). A is singular: a
    constant added to every offset of a group of experts linked by shared proposals is taken
    back by their proposals' mu. Each such group is solved with its offsets summing to 0, by
    A^+ = (A + J/k)^-1 - J/k (J: all ones, k: the group's size), which is also what the
    variances read: Var(b) = sigma^2 A^+. An expert who shares no proposal with another has
    offset 0 and no standard error (nothing to compare them with).
    """
    keep = reviews.complete
    proposal = reviews.proposal[keep]
    expert_all = reviews.expert[keep]
    y = reviews.totals[keep] / float(reviews.unit)
    n = int(y.size)
    if n == 0:
        return Fit(experts=(), merit={}, residual_variance=None, degrees_of_freedom=0)

    expert_index, expert = np.unique(expert_all, return_inverse=True)
    proposal_index, unit = np.unique(proposal, return_inverse=True)
    count_e = np.bincount(expert, minlength=expert_index.size)
    count_p = np.bincount(unit, minlength=proposal_index.size)
    e_total, p_total = int(expert_index.size), int(proposal_index.size)

    mean_p = np.bincount(unit, weights=y, minlength=p_total) / count_p
    rhs = np.bincount(expert, weights=y - mean_p[unit], minlength=e_total)
    normal = _normal_matrix(unit, expert, count_p, count_e)

    offsets = np.zeros(e_total, dtype=np.float64)
    variance_factor = np.full(e_total, np.nan)  # diagonal of A^+ (nan: not estimable)
    groups = _linked_groups(unit, expert, p_total, e_total)
    for members in groups:
        if members.size < 2:
            continue
        # The usual call has one group: then its block is the whole matrix, changed in place.
        block = normal if members.size == e_total else normal[np.ix_(members, members)]
        share = 1.0 / members.size
        block += share
        inverse = np.linalg.inv(block)
        # A^+ = inverse - J/k; A^+ r = inverse r - (sum r) / k, and sum r = 0 within a group.
        offsets[members] = inverse @ rhs[members] - share * float(rhs[members].sum())
        variance_factor[members] = np.clip(np.diag(inverse) - share, 0.0, None)

    merit_p = mean_p - np.bincount(unit, weights=offsets[expert], minlength=p_total) / count_p
    residual = y - merit_p[unit] - offsets[expert]
    freedom = n - p_total - e_total + len(groups)
    sigma2 = float(residual @ residual) / freedom if freedom > 0 else None

    experts = []
    for i, index in enumerate(expert_index):
        stderr = None
        if sigma2 is not None and not math.isnan(variance_factor[i]):
            stderr = math.sqrt(sigma2 * float(variance_factor[i]))
        experts.append(
            ExpertOffset(
                expert=reviews.experts[int(index)],
                reviews=int(count_e[i]),
                offset=float(offsets[i]),
                stderr=stderr,
            )
        )
    merit = {int(p): float(m) for p, m in zip(proposal_index, merit_p, strict=True)}
    return Fit(
        experts=tuple(experts),
        merit=merit,
        residual_variance=sigma2,
        degrees_of_freedom=freedom,
    )


def _normal_matrix(
    unit: NDArray[np.intp],
    expert: NDArray[np.intp],
    count_p: NDArray[np.int64],
    count_e: NDArray[np.int64],
) -> NDArray[np.float64]:
    """A = diag(count_e) - sum_p (1/n_p) c_p c_p^T, built from the pairs of reviews of each
    proposal (sum of n_p^2 pairs: 250,000 for 10,000 proposals of 5), never from the
    reviews x experts design matrix."""
    e_total = int(count_e.size)
    order = np.argsort(unit, kind="stable")
    starts = np.concatenate(([0], np.cumsum(count_p)[:-1]))
    cells: list[NDArray[np.intp]] = []
    weights: list[NDArray[np.float64]] = []
    for size in np.unique(count_p):
        k = int(size)
        members = np.flatnonzero(count_p == k)
        rows = order[starts[members][:, None] + np.arange(k)]  # (G, k) reviews of each
        who = expert[rows]
        cells.append((who[:, :, None] * e_total + who[:, None, :]).reshape(-1))
        weights.append(np.full(members.size * k * k, 1.0 / k))
    shared = np.bincount(
        np.concatenate(cells), weights=np.concatenate(weights), minlength=e_total * e_total
    ).reshape(e_total, e_total)
    result: NDArray[np.float64] = np.diag(count_e.astype(np.float64)) - shared
    return result


def _linked_groups(
    unit: NDArray[np.intp], expert: NDArray[np.intp], p_total: int, e_total: int
) -> list[NDArray[np.intp]]:
    """The experts in groups linked by shared proposals (connected components of the
    proposals-experts graph), each sorted; every expert in exactly one."""
    parent = list(range(e_total))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.full(p_total, -1, dtype=np.intp)
    for p, e in zip(unit.tolist(), expert.tolist(), strict=True):
        if first[p] < 0:
            first[p] = e
        else:
            a, b = root(int(first[p])), root(e)
            if a != b:
                parent[max(a, b)] = min(a, b)
    labels = np.fromiter((root(i) for i in range(e_total)), dtype=np.intp, count=e_total)
    return [np.flatnonzero(labels == label) for label in np.unique(labels)]


def calibrate(ranking: Ranking, fit: Fit, references: tuple[str, ...]) -> tuple[Calibrated, ...]:
    """The proposals that pass in the official ranking, ordered by calibrated total (higher
    first; those without one last), on the main list while their requested funding fits the
    budget (a missing amount counts 0; the first that does not fit and all after it are not);
    without a budget every passing proposal is on it. Equal calibrated totals (to 1e-9: the fit
    is in floating point) are a group funded whole or not at all, as the engine treats an ex
    aequo group: the reference must not decide who is funded."""
    rows = {row.reference: row for row in ranking.rows}
    merit = {references[p]: m for p, m in fit.merit.items()}
    passing = [ref for ref in references if rows[ref].passes]

    def level(ref: str) -> float | None:
        return None if ref not in merit else round(merit[ref], 9)

    passing.sort(key=lambda ref: (ref not in merit, -merit.get(ref, 0.0), ref))
    groups: list[list[str]] = []
    for ref in passing:
        if groups and level(groups[-1][0]) == level(ref):
            groups[-1].append(ref)
        else:
            groups.append([ref])
    main: set[str] = set()
    spent = Decimal(0)
    for group in groups:
        spent += sum((rows[ref].requested_funding or Decimal(0) for ref in group), Decimal(0))
        if ranking.budget is not None and spent > ranking.budget:
            break
        main.update(group)
    return tuple(
        Calibrated(reference=ref, calibrated_total=merit.get(ref), main=ref in main)
        for ref in references
    )
