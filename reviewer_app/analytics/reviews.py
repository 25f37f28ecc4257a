"""The data every statistic of the analytics reads: the counted reviews of a call as arrays.

Pure: numpy and the standard library. A review counts as it does in the engine (submitted, no
conflict); final consensus scores and the panel's order are not read here: the analytics
describe the individual reviews (docs/analytics.md).

Scores are kept as exact integers: every value times ``unit`` (10 to the number of decimals
the call's scores use, 100 for a scale in hundredths), so a sum, a comparison with a
threshold or an equality between two proposals is decided without rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from ..scoring.engine import EvaluationIn


def decimals(values: Iterable[Decimal]) -> int:
    """The most decimals any of ``values`` has, trailing zeros not counted (0 for none)."""
    most = 0
    for value in values:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > most:
            most = -exponent
    return most


def scaled(value: Decimal, places: int) -> int:
    """``value`` times 10 ** ``places`` as an exact integer (``places`` from ``decimals``)."""
    return int(value.scaleb(places))


@dataclass(frozen=True, eq=False)
class Reviews:
    """The counted reviews, one row each, in the order of ``EvaluationIn.reviews``."""

    references: tuple[str, ...]  # every proposal of the call, sorted (the columns of results)
    criteria: tuple[str, ...]  # the scheme's criterion keys, in scheme order
    experts: tuple[str, ...]  # every expert with a counted review, sorted as str sorts
    proposal: NDArray[np.intp]  # (R,) index into ``references``
    expert: NDArray[np.intp]  # (R,) index into ``experts``
    values: NDArray[np.int64]  # (R, C) score x unit; 0 where the review gives no score
    given: NDArray[np.bool_]  # (R, C) whether the review scores that criterion
    unit: int  # values are exact: score = value / unit

    @property
    def count(self) -> int:
        return int(self.proposal.size)

    @property
    def complete(self) -> NDArray[np.bool_]:
        """Reviews that score every criterion: only they have a total (the application's own
        reviews always do: a review is submitted with every score)."""
        result = np.asarray(self.given.all(axis=1), dtype=np.bool_)
        return result

    @property
    def totals(self) -> NDArray[np.int64]:
        """Each review's unweighted total x unit (meaningful where ``complete``)."""
        result: NDArray[np.int64] = self.values.sum(axis=1)
        return result


def counted_reviews(data: EvaluationIn) -> Reviews:
    """The counted reviews of ``data`` as arrays. ``data`` is taken as the engine accepts it
    (``scoring.validation.check``): every proposal and criterion named is known."""
    references = tuple(sorted(p.reference for p in data.proposals))
    where = {reference: i for i, reference in enumerate(references)}
    keys = data.scheme.criterion_keys
    column = {key: i for i, key in enumerate(keys)}
    counted = [r for r in data.reviews if r.submitted and not r.conflicted]
    experts = tuple(sorted({r.expert for r in counted}))
    who = {expert: i for i, expert in enumerate(experts)}

    # A call has a handful of distinct scores: each is converted once.
    distinct = {value for r in counted for _key, value in r.scores}
    places = decimals(distinct)
    as_int = {value: scaled(value, places) for value in distinct}

    rows = len(counted)
    values = np.zeros((rows, len(keys)), dtype=np.int64)
    given = np.zeros((rows, len(keys)), dtype=np.bool_)
    flat_values = values.reshape(-1)
    flat_given = given.reshape(-1)
    width = len(keys)
    positions: list[int] = []
    numbers: list[int] = []
    for i, r in enumerate(counted):
        for key, value in r.scores:
            positions.append(i * width + column[key])
            numbers.append(as_int[value])
    if positions:
        index = np.asarray(positions, dtype=np.intp)
        flat_values[index] = np.asarray(numbers, dtype=np.int64)
        flat_given[index] = True
    return Reviews(
        references=references,
        criteria=keys,
        experts=experts,
        proposal=np.fromiter((where[r.proposal] for r in counted), dtype=np.intp, count=rows),
        expert=np.fromiter((who[r.expert] for r in counted), dtype=np.intp, count=rows),
        values=values,
        given=given,
        unit=10**places,
    )
