"""What the engine refuses to evaluate: scores off the scale, unknown criteria or proposals,
duplicates, a negative budget or amount. Pure: standard library only."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import EvaluationIn


class EvaluationError(ValueError):
    """The input cannot be evaluated (a score off the scale, an unknown criterion or proposal).

    Entry and import refuse such scores, so this signals a bug or tampered data, never a user's
    typing mistake; ``problems`` lists every one.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def check(data: EvaluationIn) -> None:
    """Every problem of ``data`` at once.

    :raises EvaluationError: listing them.
    """
    scheme = data.scheme
    keys = set(scheme.criterion_keys)
    references = [p.reference for p in data.proposals]
    known = set(references)
    problems: list[str] = []
    if len(known) != len(references):
        duplicates = sorted({r for r in references if references.count(r) > 1})
        problems.append(f"duplicate proposal references: {', '.join(duplicates)}")

    on_scale: dict[Decimal, bool] = {}  # a call has few distinct values: check each once

    def check_scores(where: str, proposal: str, scores: Iterable[tuple[str, Decimal]]) -> None:
        if proposal not in known:
            problems.append(f"{where}: unknown proposal {proposal!r}")
        seen: set[str] = set()
        for key, value in scores:
            fits = on_scale.get(value)
            if fits is None:
                fits = on_scale[value] = scheme.scale.contains(value)
            if key not in keys:
                problems.append(f"{where}: unknown criterion {key!r}")
            elif key in seen:
                problems.append(f"{where}: criterion {key!r} scored twice")
            elif not fits:
                problems.append(
                    f"{where}: {key} = {value} is off the scale "
                    f"{scheme.scale.min} to {scheme.scale.max} in steps of {scheme.scale.step}"
                )
            seen.add(key)

    # Most reviews share a handful of key orders, and a call a handful of values: each is
    # checked once, and a review is looked at closely only when something is wrong with it.
    good_keys: dict[tuple[str, ...], bool] = {}
    for review in data.reviews:
        if not (review.submitted and not review.conflicted):
            continue  # drafts and conflicted reviews never count, so they never block a ranking
        scores = review.scores
        order = tuple([key for key, _value in scores])
        keys_fine = good_keys.get(order)
        if keys_fine is None:
            keys_fine = good_keys[order] = len(set(order)) == len(order) and keys.issuperset(order)
        if keys_fine and review.proposal in known:
            for _key, value in scores:
                fits = on_scale.get(value)
                if fits is None:
                    fits = on_scale[value] = scheme.scale.contains(value)
                if not fits:
                    break
            else:
                continue
        check_scores(f"review of {review.proposal} by {review.expert}", review.proposal, scores)
    _check_summaries(data, known, keys, problems, on_scale)
    consensus_seen: set[str] = set()
    for item in data.consensus:
        if item.proposal in consensus_seen:
            problems.append(f"consensus of {item.proposal}: given twice")
        consensus_seen.add(item.proposal)
        check_scores(f"consensus of {item.proposal}", item.proposal, item.scores)
    if data.budget is not None and data.budget < 0:
        problems.append(f"budget must not be negative, got {data.budget}")
    placed = [reference for reference, _place in data.panel_order]
    for reference in sorted({r for r in placed if placed.count(r) > 1}):
        problems.append(f"panel order of {reference}: given twice")
    for reference in sorted(set(placed) - known):
        problems.append(f"panel order: unknown proposal {reference!r}")
    for proposal in data.proposals:
        if proposal.requested_funding is not None and proposal.requested_funding < 0:
            problems.append(f"{proposal.reference}: requested funding must not be negative")
    if problems:
        raise EvaluationError(problems)


def _check_summaries(
    data: EvaluationIn,
    known: set[str],
    keys: set[str],
    problems: list[str],
    on_scale: dict[Decimal, bool],
) -> None:
    """What ``check`` refuses in the scores, refused in their summaries: a summary cannot name
    the review, so the caller evaluates the scores themselves to say which one."""
    if not data.summaries:
        return
    scale = data.scheme.scale
    if data.reviews:
        problems.append("scores given both one by one and summed up")
    if data.scheme.rules.aggregate != "mean":
        problems.append(f"a {data.scheme.rules.aggregate} needs the scores, not their sums")

    def fits(value: Decimal) -> bool:  # each value checked once, then looked up
        known_fit = on_scale.get(value)
        if known_fit is None:
            known_fit = on_scale[value] = scale.contains(value)
        return known_fit

    seen: set[str] = set()
    for summary in data.summaries:
        where = f"scores of {summary.proposal}"
        if summary.proposal not in known:
            problems.append(f"{where}: unknown proposal {summary.proposal!r}")
        if summary.proposal in seen:
            problems.append(f"{where}: summed up twice")
        seen.add(summary.proposal)
        criteria: set[str] = set()
        for c in summary.criteria:
            if c.key not in keys:
                problems.append(f"{where}: unknown criterion {c.key!r}")
            elif c.key in criteria:
                problems.append(f"{where}: criterion {c.key!r} summed up twice")
            elif not 0 < c.n <= summary.reviews:
                problems.append(f"{where}: {c.n} scores of {c.key} from {summary.reviews} reviews")
            elif c.off_step or not (
                (on_scale.get(c.low) or fits(c.low)) and (on_scale.get(c.high) or fits(c.high))
            ):
                problems.append(
                    f"{where}: a score of {c.key} is off the scale "
                    f"{scale.min} to {scale.max} in steps of {scale.step}"
                )
            criteria.add(c.key)
