"""How sure the ranking is: the whole ranking recomputed on bootstrap samples of the reviews.

Pure: numpy and the standard library. In each sample every proposal's counted reviews are drawn
with replacement (as many as it has) and the call's own rules are applied again: aggregate,
``min_reviews``, thresholds, weights, tie-break, ex aequo groups and the funding line. The
figures are the share of samples in which a proposal is on the main list and the 5th and
95th percentiles of its rank.

Every decision inside a sample is exact, as in the engine. Scores are integers (``Reviews``)
and every criterion score of a proposal is a numerator over one denominator of the proposal:
for the mean, the sum over the count (over lcm(1..k) when a review lacks a score, so that
criteria with fewer scores share it); for the median, twice the median over 2. Thresholds
compare by cross-multiplying integers. The keys that order the ranking (weighted total, then
the tie-break scores) are mixed into one integer over a denominator common to the call when it
fits in 62 bits; otherwise each is its numerator divided once by its denominator in float64,
which rounds correctly: equal ratios give equal floats, and unequal ones cannot swap since
their difference, at least 1 / (d1 d2), is checked to lie above the rounding.

Vectorised across samples, a chunk at a time: the proposals are grouped by their number of
reviews, so a chunk's draws for a group are one (samples x reviews x proposals) array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from math import lcm

import numpy as np
from numpy.typing import NDArray

from ..scoring.engine import EvaluationError, EvaluationIn
from .reviews import Reviews, decimals, scaled

Progress = Callable[[int, int], None]
# Review draws per chunk: each a few int64 arrays of this size at a time (some 100 MB), and
# 50 samples a chunk for 10,000 proposals of 5 reviews.
CHUNK_DRAWS = 2_500_000
MAX_CHUNK = 100
_EXACT = 2**53  # integers up to this convert to float64 exactly
_MIXED = 2**62  # the one-integer key must stay below this
_FAR = np.iinfo(np.int64).max // 4  # after every real score: a missing one sorts last


@dataclass(frozen=True)
class ProposalRobustness:
    reference: str
    funded_probability: float  # share of samples with the proposal on the main list
    rank_low: int  # 5th percentile of its rank (a rank that occurred)
    rank_high: int  # 95th percentile


@dataclass(frozen=True, eq=False)
class _Group:
    """The proposals with ``k`` counted reviews: columns ``start`` to ``stop`` of a sample."""

    k: int
    start: int
    stop: int
    values: NDArray[np.int64]  # (C, G * k): proposal-major, each proposal's reviews in order
    given: NDArray[np.bool_] | None  # (C, G * k); None when every review scores every criterion
    # For the mean of complete reviews: the criteria side by side in int64 words, so that one
    # gather and one sum serve them all. ``fields[c]`` = (word, shift) of criterion c; a field
    # holds value - ``base`` and is wide enough for the sum of k of them.
    packed: NDArray[np.int64] | None = None
    fields: tuple[tuple[int, int], ...] = ()
    mask: int = 0
    base: int = 0

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def offsets(self) -> NDArray[np.intp]:
        """(G,) where each proposal's reviews start in ``values``."""
        return np.arange(self.size, dtype=np.intp) * self.k


@dataclass(frozen=True, eq=False)
class _Merit:
    """What orders the ranking as one integer: the weighted total, then each tie-break score,
    all over the call's common denominator L, in mixed radix ``span``."""

    scale: NDArray[np.int64]  # (M,) L / the column's denominator
    low: int  # the least criterion score x L x unit
    span: int  # how many values a criterion score x L x unit can take
    weighted_low: int  # the least weighted total x L x unit (x the weights' denominator)


@dataclass(frozen=True, eq=False)
class Model:
    """What every sample needs, prepared once. Columns are the proposals that can be ranked
    (at least ``min_reviews`` counted reviews, and one), ordered by review count."""

    references: tuple[str, ...]  # every proposal, sorted
    columns: NDArray[np.intp]  # (M,) index into ``references`` of each column
    groups: tuple[_Group, ...]
    denominator: NDArray[np.int64]  # (M,) of every criterion score of the column
    cost: NDArray[np.int64]  # (M,) requested funding x money unit (None: 0)
    budget: int | None  # x money unit
    unit: int  # score = value / unit
    median: bool
    weights: NDArray[np.int64]  # (C,) proportional to the scheme's weights, exactly
    thresholds: tuple[tuple[int, int, int], ...]  # (criterion, numerator, denominator)
    overall: tuple[int, int] | None  # overall threshold as numerator, denominator
    tie_break: tuple[int, ...]  # criterion indices
    partial: bool  # some review lacks a criterion's score
    merit: _Merit | None  # None: the keys are sorted as floats (lexsort)

    @property
    def width(self) -> int:
        return int(self.columns.size)


def prepare(data: EvaluationIn, reviews: Reviews) -> Model:
    """The model of ``data`` (as the engine accepts it) and its counted ``reviews``.

    :raises EvaluationError: amounts or scores too large for exact integer arithmetic.
    """
    scheme, rules = data.scheme, data.scheme.rules
    median = rules.aggregate == "median"
    counts_all = np.bincount(reviews.proposal, minlength=len(reviews.references))
    eligible = counts_all >= max(rules.min_reviews, 1)
    # Columns by review count, then by reference: each group of equal count is one slice.
    columns = np.lexsort((np.arange(counts_all.size), counts_all))
    columns = columns[eligible[columns]].astype(np.intp)
    counts = counts_all[columns].astype(np.int64)

    partial = not bool(reviews.given.all())
    if median:
        denominator = np.full(counts.size, 2, dtype=np.int64)
    elif partial:
        common = {k: lcm(*range(1, k + 1)) for k in np.unique(counts).tolist()}
        if max(common.values(), default=1) >= _EXACT:  # some 40 reviews of one proposal
            raise EvaluationError(["too many reviews on a proposal for the analytics' exact sums"])
        denominator = np.asarray([common[k] for k in counts.tolist()], dtype=np.int64)
    else:
        denominator = counts
    present = reviews.values[reviews.given]
    low, high = (int(present.min()), int(present.max())) if present.size else (0, 0)
    weight_ratios = [spec.weight.as_integer_ratio() for spec in scheme.criteria]
    common_weight = lcm(*(d for _n, d in weight_ratios)) if weight_ratios else 1
    weights = [n * (common_weight // d) for n, d in weight_ratios]
    # The largest numerator of a criterion score, and of a weighted total or total.
    largest = max(abs(low), abs(high)) * int(denominator.max(initial=1))
    biggest = largest * (sum(abs(w) for w in weights) + len(weights))
    if biggest >= _EXACT:
        raise EvaluationError(["scores or weights too large for the analytics' exact sums"])

    order = np.argsort(reviews.proposal, kind="stable")  # rows by proposal, in data order
    starts = np.concatenate(([0], np.cumsum(counts_all)[:-1]))
    groups = []
    for size in np.unique(counts):
        k = int(size)
        start, stop = np.searchsorted(counts, [k, k + 1])
        rows = order[starts[columns[start:stop]][:, None] + np.arange(k)].reshape(-1)
        group = _Group(
            k=k,
            start=int(start),
            stop=int(stop),
            values=np.ascontiguousarray(reviews.values[rows].T),
            given=np.ascontiguousarray(reviews.given[rows].T) if partial else None,
        )
        groups.append(group if median or partial else _packed(group, low, high))

    funding = {p.reference: p.requested_funding or Decimal(0) for p in data.proposals}
    places = decimals([*funding.values(), *([data.budget] if data.budget is not None else [])])
    cost_all = [scaled(funding[ref], places) for ref in reviews.references]
    budget = None if data.budget is None else scaled(data.budget, places)
    if sum(cost_all) + (budget or 0) >= _MIXED:
        raise EvaluationError(["requested funding too large for the analytics"])

    tie_break = tuple(reviews.criteria.index(key) for key in rules.tie_break)
    merit = _merit(denominator, low, high, weights, len(tie_break))
    if merit is None:
        # Sorted as floats: two different ratios a/d1 and b/d2 differ by 1/(d1 d2) at least,
        # which must stay above twice the rounding of the largest key.
        d = int(denominator.max(initial=1))
        if biggest * d * d * 2 >= _EXACT:
            raise EvaluationError(["too many reviews on a proposal for the analytics' exact sort"])
    return Model(
        references=reviews.references,
        columns=columns,
        groups=tuple(groups),
        denominator=denominator,
        cost=np.asarray(cost_all, dtype=np.int64)[columns],
        budget=budget,
        unit=reviews.unit,
        median=median,
        weights=np.asarray(weights, dtype=np.int64),
        thresholds=tuple(
            (c, *spec.threshold.as_integer_ratio())
            for c, spec in enumerate(scheme.criteria)
            if spec.threshold is not None
        ),
        overall=(
            None if rules.overall_threshold is None else rules.overall_threshold.as_integer_ratio()
        ),
        tie_break=tie_break,
        partial=partial,
        merit=merit,
    )


def _packed(group: _Group, low: int, high: int) -> _Group:
    bits = max(group.k * (high - low), 1).bit_length()
    per_word = 63 // bits
    criteria = int(group.values.shape[0])
    fields = tuple((c // per_word, (c % per_word) * bits) for c in range(criteria))
    words = fields[-1][0] + 1 if fields else 0
    packed = np.zeros((words, group.values.shape[1]), np.int64)
    for c, (word, shift) in enumerate(fields):
        packed[word] += (group.values[c] - low) << shift
    return replace(group, packed=packed, fields=fields, mask=(1 << bits) - 1, base=low)


def _merit(
    denominator: NDArray[np.int64], low: int, high: int, weights: list[int], ties: int
) -> _Merit | None:
    """The one-integer key, or None when it would not fit."""
    common = lcm(*np.unique(denominator).tolist()) if denominator.size else 1
    least, most = low * common, high * common
    weighted_low = sum(min(w * least, w * most) for w in weights)
    weighted_high = sum(max(w * least, w * most) for w in weights)
    span = most - least + 1
    if (weighted_high - weighted_low + 1) * span**ties >= _MIXED:
        return None
    scale = (common // np.maximum(denominator, 1)).astype(np.int64)
    return _Merit(scale=scale, low=least, span=span, weighted_low=weighted_low)


@dataclass(frozen=True, eq=False)
class Outcome:
    """A chunk of samples: ranks and the main list of the columns, and how many were ranked.
    A column not ranked in a sample has rank ``ranked + 1``."""

    rank: NDArray[np.int32]  # (S, M)
    main: NDArray[np.bool_]  # (S, M)
    ranked: NDArray[np.int64]  # (S,)


def draw(model: Model, rng: np.random.Generator, samples: int) -> list[NDArray[np.integer]]:
    """For each group, which of its proposal's reviews each draw takes: (S, k, G)."""
    out: list[NDArray[np.integer]] = []
    for group in model.groups:
        if group.k == 1:  # one review: the draw is always it
            out.append(np.zeros((samples, 1, group.size), dtype=np.uint8))
        else:
            kind = np.uint8 if group.k <= 256 else np.int64
            out.append(rng.integers(0, group.k, size=(samples, group.k, group.size), dtype=kind))
    return out


def outcome(model: Model, draws: list[NDArray[np.integer]], samples: int) -> Outcome:
    """The ranking and the funding line of each of the ``samples`` that ``draws`` (as ``draw``
    makes them) describe."""
    criteria, width = int(model.weights.size), model.width
    numerator = np.zeros((criteria, samples, width), dtype=np.int64)
    scored = np.ones((samples, width), dtype=np.bool_)
    for group, chosen in zip(model.groups, draws, strict=True):
        offsets = group.offsets
        part = slice(group.start, group.stop)
        if group.packed is not None:
            # One draw of every proposal at a time, added in place: no (S, k, G) index.
            sums = [np.zeros((samples, group.size), dtype=np.int64) for _word in group.packed]
            for j in range(group.k):
                index = chosen[:, j, :] + offsets
                for total, words in zip(sums, group.packed, strict=True):
                    total += np.take(words, index)
            for c, (word, shift) in enumerate(group.fields):
                field = (sums[word] >> shift) & group.mask
                numerator[c, :, part] = field + group.k * group.base
            continue
        index = chosen + offsets  # (S, k, G) into the group's reviews
        for c in range(criteria):
            values = np.take(group.values[c], index)  # a missing score is 0 (``Reviews.values``)
            if group.given is None:
                ordered = np.sort(values, axis=1)  # the median of complete reviews
                middle = ordered[:, (group.k - 1) // 2, :] + ordered[:, group.k // 2, :]
                numerator[c, :, part] = middle
                continue
            present = np.take(group.given[c], index)
            n = present.sum(axis=1)
            scored[:, part] &= n > 0
            if model.median:  # the missing sort last; the middle is found among the n present
                ordered = np.sort(np.where(present, values, _FAR), axis=1)
                low = np.take_along_axis(ordered, ((np.maximum(n, 1) - 1) // 2)[:, None], axis=1)
                high = np.take_along_axis(ordered, (n // 2)[:, None], axis=1)
                numerator[c, :, part] = np.where(n > 0, low[:, 0] + high[:, 0], 0)
            else:  # sum / n as (sum x lcm(1..k) / n) / lcm(1..k)
                factor = model.denominator[group.start] // np.maximum(n, 1)
                numerator[c, :, part] = values.sum(axis=1) * factor
    return _rank(model, numerator, scored)


def _rank(model: Model, numerator: NDArray[np.int64], scored: NDArray[np.bool_]) -> Outcome:
    _criteria, samples, width = numerator.shape
    denominator = model.denominator
    # Thresholds: score >= t as numerator x t's denominator >= t's numerator x unit x denominator.
    passes = scored.copy()
    for c, top, bottom in model.thresholds:
        passes &= numerator[c] * bottom >= top * model.unit * denominator
    if model.overall is not None:
        top, bottom = model.overall
        passes &= numerator.sum(axis=0) * bottom >= top * model.unit * denominator
    order, changes = _order(model, numerator, passes)

    place = np.arange(width, dtype=np.int64)
    # Standard competition ranking: a group's rank is one more than the places before it.
    rank_sorted = np.maximum.accumulate(np.where(changes, place, 0), axis=1) + 1
    passing_sorted = np.take_along_axis(passes, order, axis=1)
    ranked = passes.sum(axis=1)
    if model.budget is None:
        main_sorted = passing_sorted
    else:
        # Those that do not pass come last: their amounts add only after every passing one.
        spent = np.cumsum(model.cost[order], axis=1)
        ends = np.ones((samples, width), dtype=np.bool_)
        ends[:, :-1] = changes[:, 1:]
        # Each member takes its group's cumulative amount at the group's end; amounts are
        # never negative, so the first group past the budget is followed by none that fits.
        at_end = np.where(ends, spent, np.iinfo(np.int64).max)
        group_spent = np.minimum.accumulate(at_end[:, ::-1], axis=1)[:, ::-1]
        main_sorted = passing_sorted & (group_spent <= model.budget)

    rank = np.empty((samples, width), dtype=np.int32)
    main = np.empty((samples, width), dtype=np.bool_)
    np.put_along_axis(rank, order, rank_sorted.astype(np.int32), axis=1)
    np.put_along_axis(main, order, main_sorted, axis=1)
    rank = np.where(passes, rank, (ranked + 1).astype(np.int32)[:, None])
    return Outcome(rank=rank, main=main, ranked=ranked)


def _order(
    model: Model, numerator: NDArray[np.int64], passes: NDArray[np.bool_]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Each sample's order (higher merit first, those that do not pass last) and, in that
    order, where a new group of equal keys starts."""
    _criteria, samples, width = numerator.shape
    merit = model.merit
    weighted = np.tensordot(model.weights, numerator, axes=1)
    keys: list[NDArray[np.int64]] | list[NDArray[np.float64]]
    if merit is not None:
        mixed = weighted * merit.scale - merit.weighted_low
        for c in model.tie_break:
            mixed = mixed * merit.span + (numerator[c] * merit.scale - merit.low)
        key = np.where(passes, -mixed, 1)  # a passing one's key is <= 0
        keys = [key]
        order = np.argsort(key, axis=1)
    else:
        denominator = model.denominator
        keys = [np.where(passes, -(weighted / denominator), np.inf)]
        keys += [-(numerator[c] / denominator) for c in model.tie_break]
        # lexsort takes its primary key last.
        order = np.argsort(keys[0], axis=1) if len(keys) == 1 else np.lexsort(keys[::-1], axis=-1)
    changes = np.zeros((samples, width), dtype=np.bool_)
    changes[:, :1] = True
    for each in keys:
        ordered = np.take_along_axis(each, order, axis=1)
        changes[:, 1:] |= ordered[:, 1:] != ordered[:, :-1]
    return order, changes


def chunk_size(model: Model, samples: int) -> int:
    draws = sum(g.size * g.k for g in model.groups)
    return max(1, min(MAX_CHUNK, samples, CHUNK_DRAWS // max(draws, 1)))


def bootstrap(
    model: Model, *, samples: int, seed: int, progress: Progress | None = None
) -> tuple[ProposalRobustness, ...]:
    """B = ``samples`` bootstrap rankings, ``progress(done, samples)`` after each chunk."""
    rng = np.random.Generator(np.random.PCG64(seed))
    width = model.width
    funded = np.zeros(width, dtype=np.int64)
    # Every rank of every sample (the percentiles need them all): 2 bytes each up to 65,534
    # proposals, 40 MB for 10,000 proposals and 2000 samples.
    kind = np.uint16 if width < np.iinfo(np.uint16).max else np.int32
    ranks = np.empty((samples, width), dtype=kind)
    ranked = np.empty(samples, dtype=np.int64)
    step = chunk_size(model, samples)
    done = 0
    while done < samples:
        size = min(step, samples - done)
        result = outcome(model, draw(model, rng, size), size)
        funded += result.main.sum(axis=0)
        ranks[done : done + size] = result.rank
        ranked[done : done + size] = result.ranked
        done += size
        if progress is not None:
            progress(done, samples)

    # numpy.percentile(ranks, 5, axis=0, method="lower") and (95, "higher"): the same order
    # statistics, read after one partition in place instead of two sorted copies.
    low_at, high_at = _percentile_places(samples)
    ranks.partition(sorted({low_at, high_at}), axis=0)
    low, high = ranks[low_at], ranks[high_at]
    # A proposal that is never ranked takes, in each sample, the rank after the last ranked.
    after_last = np.sort(ranked + 1)
    never = (int(after_last[low_at]), int(after_last[high_at]))
    column = {int(p): i for i, p in enumerate(model.columns)}
    out = []
    for p, reference in enumerate(model.references):
        i = column.get(p)
        if i is None:
            out.append(ProposalRobustness(reference, 0.0, *never))
        else:
            out.append(
                ProposalRobustness(
                    reference=reference,
                    funded_probability=float(funded[i]) / samples,
                    rank_low=int(low[i]),
                    rank_high=int(high[i]),
                )
            )
    return tuple(out)


def _percentile_places(samples: int) -> tuple[int, int]:
    """Where, in ``samples`` sorted values, numpy.percentile finds the 5th (method "lower")
    and the 95th (method "higher") percentile: asked of numpy itself, on the places."""
    places = np.arange(samples)
    return (
        int(np.percentile(places, 5, method="lower")),
        int(np.percentile(places, 95, method="higher")),
    )
