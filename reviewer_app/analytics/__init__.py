"""Decision analytics of a call: how much the experts agree, how lenient each is, and how sure
the ranking is (issue 14). Shown beside the official ranking, never instead of it: the ranking
and the funding line stay the engine's (``reviewer_app.scoring``).

Pure: numpy and the standard library, and ``reviewer_app.scoring`` for its input and the
official ranking; no Flask, no SQLAlchemy. The definitions and their sources are in
docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..scoring.engine import EvaluationIn, evaluate
from .agreement import TOTAL, Reliability, icc1, krippendorff_alpha, reliabilities
from .leniency import Calibrated, ExpertOffset, calibrate, fit_leniency
from .reviews import counted_reviews
from .robustness import ProposalRobustness, bootstrap, prepare

DEFAULT_SAMPLES = 2000
# Fixed, so that the same data gives the same figures on every page, export and report.
DEFAULT_SEED = 20241001


@dataclass(frozen=True)
class Analytics:
    reliability: dict[str, Reliability]  # every criterion key in scheme order, then "total"
    experts: tuple[ExpertOffset, ...]  # sorted by expert id
    proposals: tuple[ProposalRobustness, ...]  # sorted by reference
    calibrated: tuple[Calibrated, ...]  # sorted by reference
    samples: int
    seed: int


def analyse(
    data: EvaluationIn,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> Analytics:
    """Every figure of the analytics for ``data``, from its counted individual reviews (its
    consensus scores and panel order are not read). The same data and seed give the same
    figures; ``progress(done, samples)`` is called after each chunk of bootstrap samples.

    :raises EvaluationError: what the engine refuses (a score off the scale, an unknown
        criterion or proposal).
    :raises ValueError: ``samples`` below 1.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    ranking = evaluate(data)  # checks the data first; the official passes for ``calibrated``
    reviews = counted_reviews(data)
    fit = fit_leniency(reviews)
    return Analytics(
        reliability=reliabilities(reviews),
        experts=fit.experts,
        proposals=bootstrap(prepare(data, reviews), samples=samples, seed=seed, progress=progress),
        calibrated=calibrate(ranking, fit, reviews.references),
        samples=samples,
        seed=seed,
    )


__all__ = [
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "TOTAL",
    "Analytics",
    "Calibrated",
    "ExpertOffset",
    "ProposalRobustness",
    "Reliability",
    "analyse",
    "icc1",
    "krippendorff_alpha",
]
