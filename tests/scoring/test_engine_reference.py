"""The engine decides on integer ratios for speed (issue 11); this file holds the rules written
the plain way, with ``Fraction`` everywhere, and checks that both agree on every input
hypothesis finds: every score, total, threshold, rank, status and the funding line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings

from reviewer_app.scoring.engine import EvaluationIn, evaluate

from .test_engine_properties import evaluations


def reference(data: EvaluationIn) -> dict[str, tuple]:
    """reference -> (criterion scores, total, weighted, passes, rank, status)."""
    scheme, rules = data.scheme, data.scheme.rules
    consensus = {c.proposal: dict(c.scores) for c in data.consensus}
    scored = {}
    for p in data.proposals:
        counted = [r for r in data.reviews if r.proposal == p.reference and r.counts]
        scores: dict[str, Fraction | None] = {}
        for spec in scheme.criteria:
            values = sorted(Fraction(v) for r in counted for k, v in r.scores if k == spec.key)
            if spec.key in consensus.get(p.reference, {}):
                scores[spec.key] = Fraction(consensus[p.reference][spec.key])
            elif not values:
                scores[spec.key] = None
            elif rules.aggregate == "mean":
                scores[spec.key] = sum(values, Fraction(0)) / len(values)
            else:
                m = len(values) // 2
                scores[spec.key] = values[m] if len(values) % 2 else (values[m - 1] + values[m]) / 2
        all_scored = all(v is not None for v in scores.values())
        full = all(spec.key in consensus.get(p.reference, {}) for spec in scheme.criteria)
        complete = all_scored and (full or len(counted) >= rules.min_reviews)
        total = weighted = None
        if all_scored:
            total = sum((v for v in scores.values() if v is not None), Fraction(0))
            weighted = sum(
                (Fraction(s.weight) * scores[s.key] for s in scheme.criteria),  # type: ignore[operator]
                Fraction(0),
            )
        passes = (
            complete
            and all(
                s.threshold is None or scores[s.key] >= Fraction(s.threshold)  # type: ignore[operator]
                for s in scheme.criteria
            )
            and (rules.overall_threshold is None or total >= Fraction(rules.overall_threshold))  # type: ignore[operator]
        )
        merit = (weighted, *(scores[k] for k in rules.tie_break)) if passes else None
        scored[p.reference] = (scores, total, weighted, passes, complete, merit, p)
    passing = sorted(
        (ref for ref, s in scored.items() if s[3]),
        key=lambda ref: (tuple(-v for v in scored[ref][5]), ref),
    )
    out: dict[str, tuple] = {}
    cumulative, below, position, index = Decimal(0), False, 1, 0
    while index < len(passing):
        group = [r for r in passing[index:] if scored[r][5] == scored[passing[index]][5]]
        cost = sum((scored[r][6].requested_funding or Decimal(0) for r in group), Decimal(0))
        if data.budget is not None and not below and cumulative + cost > data.budget:
            below = True
        for ref in group:
            cumulative += scored[ref][6].requested_funding or Decimal(0)
            out[ref] = (position, "reserve" if below else "main")
        position += len(group)
        index += len(group)
    result = {}
    for ref, (scores, total, weighted, passes, complete, _merit, _p) in scored.items():
        rank, status = out.get(ref, (None, "below_threshold" if complete else "incomplete"))
        result[ref] = (scores, total, weighted, passes, rank, status)
    return result


@settings(max_examples=300, deadline=None)
@given(evaluations())
def test_the_engine_agrees_with_the_rules_written_in_fractions(data: EvaluationIn) -> None:
    expected = reference(data)
    ranking = evaluate(data)
    for row in ranking.rows:
        scores, total, weighted, passes, rank, status = expected[row.reference]
        assert {c.key: c.score for c in row.criteria} == scores
        assert (row.total, row.weighted_total, row.passes) == (total, weighted, passes)
        assert (row.rank, row.status.value) == (rank, status)
