"""The applicants' feedback ZIP of a synthetic call: one process next to several.

    .venv/bin/python benchmarks/feedback_bench.py                 # 200 proposals, 1 and 2 processes
    .venv/bin/python benchmarks/feedback_bench.py --proposals 1000 --processes 1,2,4

The floor is one process (what every batch did before reports/parallel.py); the ZIPs must be
identical. Not a test: benchmarks/README.md records the figures measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ranking_bench import _config, fresh_database, seed_bench_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=200)
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()

    from sqlalchemy import select

    from reviewer_app import create_app
    from reviewer_app.extensions import db
    from reviewer_app.models import Call
    from reviewer_app.reports.services import feedback_reports_zip

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        fresh_database(url)
        app = create_app(_config(url))
        with app.app_context():
            seed_bench_call(args.proposals)
            call = db.session.scalar(select(Call).where(Call.key == "bench"))
            assert call is not None
            print(f"{args.proposals:,} proposals, {os.cpu_count()} cores")
            print("| processes | time | per report | vs one process |")
            print("|---|---|---|---|")
            floor = None
            first = None
            for processes in (int(p) for p in args.processes.split(",")):
                start = time.perf_counter()
                made = feedback_reports_zip(call, "en", processes=processes)
                took = time.perf_counter() - start
                floor = floor or took
                first = first or made.content
                assert made.content == first, "the ZIPs differ"
                print(
                    f"| {processes} | {took:.1f} s | {took / args.proposals * 1000:.0f} ms "
                    f"| {floor / took:.2f}x faster |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
