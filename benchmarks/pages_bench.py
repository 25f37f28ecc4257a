"""The coordinator's pages of a large call, next to a bare Flask route of the same app.

    .venv/bin/python benchmarks/pages_bench.py                      # N = 1,000 and 10,000 on SQLite
    .venv/bin/python benchmarks/pages_bench.py --sizes 1000
    .venv/bin/python benchmarks/pages_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Each call is made by ``reviewer-app demo --synthetic`` (5 reviews per proposal, 3 criteria, in
the ranking phase) in a fresh database (the PostgreSQL database given has its tables replaced).
A signed-in coordinator asks for each page through the app's WSGI interface (no network, so
the figures are the server's work): *first* is the first request after the data was written
(it ranks the call), *median* the median of ``--repeat`` more; *size* is the HTML. The floor is
a route of the same app that returns a word, through the same sign-in and headers.

Issue 11 asks for each page under 300 ms (median) and 1 MB at 10,000 proposals, on a quiet
machine. Not a test: benchmarks/README.md records the figures measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ranking_bench import _config, fresh_database, seed_bench_call

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = (
    ("overview", "coordinator.call_detail", {}),
    ("proposals", "coordinator.proposals", {}),
    ("assignments", "coordinator.assignments", {}),
    ("assignments, searched", "coordinator.assignments", {"q": "cloud", "expert": "a"}),
    ("progress", "coordinator.progress", {}),
    ("progress, open reviews", "coordinator.progress", {"pstate": "open"}),
    ("consensus", "consensus.call_progress_page", {}),
    ("ranking", "coordinator.ranking", {}),
    ("ranking, page 100", "coordinator.ranking", {"page": 100}),
    ("decisions", "coordinator.decisions", {}),
    ("audit log", "coordinator.audit", {}),
)


def measure(url: str, size: int, repeat: int) -> list[tuple[str, float, float, int]]:
    from flask import url_for

    from reviewer_app import create_app
    from reviewer_app.extensions import refresh_planner_statistics

    fresh_database(url)
    config: dict[str, Any] = {
        **_config(url),
        "WTF_CSRF_ENABLED": False,
        "TWO_FACTOR_REQUIRED_FOR": "none",
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    app.add_url_rule("/_floor", "bench_floor", lambda: "floor")
    with app.app_context():
        made = seed_bench_call(size)
        refresh_planner_statistics()  # as `reviewer-app demo --synthetic` does
        with app.test_request_context():
            urls = [(name, url_for(ep, key="bench", **args)) for name, ep, args in PAGES]
    client = app.test_client()
    signed = client.post(
        "/login", data={"email": made.coordinator_email, "password": made.password}
    )
    assert signed.status_code == 302, signed.status_code
    rows = []
    for name, path in [("floor: a bare route", "/_floor"), *urls]:
        start = time.perf_counter()
        response = client.get(path)
        first = time.perf_counter() - start
        assert response.status_code == 200, (path, response.status_code)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
        rows.append((name, first, statistics.median(times), len(response.data)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL to use (its tables are replaced)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            rows = measure(url, size, args.repeat)
        print(f"\nN = {size:,} proposals ({size * 5:,} reviews)\n")
        print("| page | first | median | median / floor | size |")
        print("|---|---|---|---|---|")
        floor = rows[0][2]
        for name, first, median, length in rows:
            print(
                f"| {name} | {first * 1000:.0f} ms | {median * 1000:.0f} ms "
                f"| {median / floor:.0f}x | {length / 1024:.0f} KB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
