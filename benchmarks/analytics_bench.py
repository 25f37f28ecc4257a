"""Decision analytics (issue 14) of a large call next to its floor.

    .venv/bin/python benchmarks/analytics_bench.py                  # N = 10,000, B = 2000
    .venv/bin/python benchmarks/analytics_bench.py 1000 --samples 500

A synthetic call, made in memory with a seeded generator (no database): N proposals under the
AI Factories scheme (3 criteria, thresholds, an overall threshold, two tie-break criteria,
min_reviews 3), 5 reviews each by experts drawn from N / 5 (each with a leniency of its own),
requested funding of 100,000 to 1,000,000 euros and a budget of a third of all of it.
``analytics.analyse`` runs once with B samples; the figure is beside a floor measured in the
same run: what any bootstrap of this size must do at least, one ``Generator.integers`` draw of
(B x 5N) (the same dtype the analytics draw) and numpy's ``argsort`` of a (B x N) float array,
one row a sample. Wall clock, CPU (``time.process_time``) and peak resident memory
(``resource.getrusage``) are printed; the parts of ``analyse`` are timed after it. BLAS runs
on one thread (unless OPENBLAS_NUM_THREADS and the like say otherwise): the goal is one core.

Not a test: the figures depend on the machine; docs/analytics.md records the ones measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

# One core, as the goal says: the linear algebra of the leniency fit would use them all.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewer_app import analytics  # noqa: E402
from reviewer_app.analytics import agreement, leniency, reviews, robustness  # noqa: E402
from reviewer_app.scoring.engine import EvaluationIn, ProposalIn, ReviewIn, evaluate  # noqa: E402
from reviewer_app.scoring.scheme_parser import load_scheme_file  # noqa: E402

SCHEME = ROOT / "criteria" / "ai-factories-2024.toml"
REVIEWS = 5


def synthetic_call(size: int, seed: int = 1) -> EvaluationIn:
    scheme = load_scheme_file(SCHEME)
    keys = scheme.criterion_keys
    rng = np.random.Generator(np.random.PCG64(seed))
    experts = max(REVIEWS + 1, size // 5)
    leniency_of = rng.normal(0.0, 0.4, experts)
    merit = rng.uniform(2.0, 4.6, size)
    proposals = []
    made: list[ReviewIn] = []
    half_points = [Decimal(i) / 2 for i in range(11)]
    for p in range(size):
        reference = f"P{p:05d}"
        cents = int(rng.integers(10_000_000, 100_000_001))
        proposals.append(ProposalIn(reference, f"Proposal {p}", Decimal(cents).scaleb(-2)))
        panel = rng.choice(experts, REVIEWS, replace=False)
        noise = rng.normal(0.0, 0.5, (REVIEWS, len(keys)))
        for j, e in enumerate(panel):
            raw = merit[p] + leniency_of[e] + noise[j]
            points = np.clip(np.rint(raw * 2), 0, 10).astype(int)
            made.append(
                ReviewIn(
                    proposal=reference,
                    expert=f"expert{int(e):05d}@example.org",
                    scores=tuple((k, half_points[v]) for k, v in zip(keys, points, strict=True)),
                )
            )
    requested = sum((p.requested_funding or Decimal(0) for p in proposals), Decimal(0))
    return EvaluationIn(
        scheme=scheme,
        proposals=tuple(proposals),
        reviews=tuple(made),
        budget=(requested / 3).quantize(Decimal("0.01")),
    )


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def floor(size: int, samples: int, seed: int) -> tuple[float, float]:
    """The unavoidable work, wall and CPU: the draws of every review of every sample (in the
    dtype the analytics draw) and one sort a sample; making the array to sort is not timed."""
    rng = np.random.Generator(np.random.PCG64(seed))
    keys = rng.random((samples, size))
    _draws, wall_draws, cpu_draws = timed(
        lambda: rng.integers(0, REVIEWS, size=(samples, REVIEWS * size), dtype=np.uint8)
    )
    _order, wall_sort, cpu_sort = timed(lambda: np.argsort(keys, axis=1))
    return wall_draws + wall_sort, cpu_draws + cpu_sort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("proposals", nargs="?", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=analytics.DEFAULT_SAMPLES)
    args = parser.parse_args()
    size, samples = args.proposals, args.samples

    data, wall, _cpu = timed(lambda: synthetic_call(size))
    ranking = evaluate(data)
    main_list = sum(1 for row in ranking.rows if row.status == "main")
    print(
        f"call: {size:,} proposals, {len(data.reviews):,} reviews, "
        f"{len({r.expert for r in data.reviews}):,} experts, {len(ranking.ranked):,} passing, "
        f"{main_list:,} on the main list (made in {wall:.1f} s)"
    )
    before = peak_mb()
    chunks: list[int] = []
    result, wall, cpu = timed(
        lambda: analytics.analyse(data, samples=samples, progress=lambda d, _t: chunks.append(d))
    )
    peak = peak_mb()
    floor_wall, floor_cpu = floor(size, samples, analytics.DEFAULT_SEED)
    funded = sum(1 for p in result.proposals if 0 < p.funded_probability < 1)
    print(
        f"analyse, B = {samples}: {len(chunks)} chunks; {funded:,} proposals funded in some "
        "samples but not all"
    )
    print("| | wall | CPU | figure / floor (CPU) |")
    print("|---|---|---|---|")
    print(f"| analyse | {wall:.2f} s | {cpu:.2f} s | {cpu / floor_cpu:.1f}x |")
    print(f"| floor | {floor_wall:.2f} s | {floor_cpu:.2f} s | 1x |")
    print(
        f"peak resident memory: {peak:.0f} MB after analyse ({before:.0f} MB before it: "
        "the call's objects and the interpreter)"
    )

    # The parts, one after the other (the bootstrap dominates).
    table, _w, cpu_table = timed(lambda: reviews.counted_reviews(data))
    _r, _w, cpu_engine = timed(lambda: evaluate(data))
    _r, _w, cpu_agreement = timed(lambda: agreement.reliabilities(table))
    _r, _w, cpu_leniency = timed(lambda: leniency.fit_leniency(table))
    model, _w, cpu_prepare = timed(lambda: robustness.prepare(data, table))
    _r, _w, cpu_boot = timed(
        lambda: robustness.bootstrap(model, samples=samples, seed=analytics.DEFAULT_SEED)
    )
    print(
        f"parts (CPU): engine {cpu_engine:.2f} s, reviews as arrays {cpu_table:.2f} s, "
        f"agreement {cpu_agreement:.2f} s, leniency {cpu_leniency:.2f} s, "
        f"bootstrap {cpu_prepare + cpu_boot:.2f} s ({(cpu_prepare + cpu_boot) / floor_cpu:.1f}x "
        "the floor)"
    )


if __name__ == "__main__":
    main()
