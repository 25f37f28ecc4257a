"""The ranking of a call next to its floor: one bare SQL query reading every submitted score.

    .venv/bin/python benchmarks/ranking_bench.py                       # N = 7, 1,000, 10,000 on SQLite
    .venv/bin/python benchmarks/ranking_bench.py --sizes 1000
    .venv/bin/python benchmarks/ranking_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Each call is made by ``reviewer-app demo --synthetic`` (5 reviews per proposal, 3 criteria) in
a fresh database: a temporary SQLite file, or the PostgreSQL database given (its tables are
dropped and made again, so never point it at data you keep). Each figure is the median of
``--repeat`` runs, beside the floor measured in the same run:

* floor:    ``SELECT`` of every submitted score with its proposal and expert (no ORM, no engine);
* load:     ``ranking.summary_input`` (the engine's input from the database: the scores
            summed up per proposal and criterion);
* engine:   ``scoring.engine.evaluate`` on that input;
* ranking:  ``ranking.rank_call``, load and engine together (what every page and export calls);
* with scores: ``rank_call(call, with_scores=True)``, from every score one by one (what the
            JSON exports call, as they list every score);
* command:  ``reviewer-app ranking KEY --format csv`` as a process, wall clock and CPU;
* startup:  CPU of ``reviewer-app --help`` next to ``python -c pass``, and of a command that
            reads the database (``reviewer-app call list``) next to Python importing what
            every such command needs (Flask's command line, Flask-SQLAlchemy, SQLAlchemy's ORM).

Not a test: the figures depend on the machine; benchmarks/README.md records the ones measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

FLOOR_SQL = """
SELECT p.reference, a.expert_id, s.criterion_id, s.value
FROM scores s
JOIN reviews r ON r.id = s.review_id
JOIN assignments a ON a.id = r.assignment_id
JOIN proposals p ON p.id = a.proposal_id
WHERE p.call_id = :call AND r.status = 'submitted'
"""


def median_time(
    fn: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None
) -> float:
    """The median of ``repeat`` runs of ``fn``; ``before`` runs untimed ahead of each."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_cpu(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    """Median wall clock and CPU (user + system) of a child process."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(
            after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        )
    return statistics.median(walls), statistics.median(cpus)


def fresh_database(url: str) -> None:
    from reviewer_app import create_app
    from reviewer_app.extensions import db

    app = create_app(_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()


def _config(url: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "benchmark",
        "REVIEWER_APP_MODE": "test",
    }


def seed_bench_call(size: int) -> Any:
    """The call every benchmark measures: ``bench``, ``size`` proposals, 5 reviews each (in the
    current app context, committed, the planner's statistics refreshed as `reviewer-app demo
    --synthetic` does); returns what ``seed_synthetic`` made.

    Without the statistics PostgreSQL plans the loading as if the tables were empty (nested
    loops over 150,000 scores): the ranking measured 2.2 s at 10,000 proposals where it takes
    about 1 s once autovacuum or ``reviewer-app cleanup`` has run."""
    from reviewer_app.demo.synthetic import seed_synthetic
    from reviewer_app.extensions import db, refresh_planner_statistics

    made = seed_synthetic(
        key="bench", proposals=size, experts=max(6, size // 5), reviews_per_proposal=5, seed=1
    )
    db.session.commit()
    refresh_planner_statistics()
    return made


def measure(url: str, size: int, repeat: int) -> dict[str, float]:
    from sqlalchemy import select, text

    from reviewer_app import create_app
    from reviewer_app.extensions import db
    from reviewer_app.models import Call
    from reviewer_app.ranking import _RANKINGS, rank_call, summary_input
    from reviewer_app.scoring.engine import evaluate

    fresh_database(url)
    app = create_app(_config(url))
    figures: dict[str, float] = {}
    with app.app_context():
        start = time.perf_counter()
        seed_bench_call(size)
        figures["seed"] = time.perf_counter() - start
        call = db.session.scalar(select(Call).where(Call.key == "bench"))
        assert call is not None

        def floor() -> None:
            db.session.execute(text(FLOOR_SQL), {"call": call.id}).all()

        floor()  # warm the database's cache for every contender alike
        data = summary_input(call)
        assert data is not None  # the synthetic call's scheme ranks on a mean
        figures["floor"] = median_time(floor, repeat)
        figures["load"] = median_time(lambda: summary_input(call), repeat)
        figures["engine"] = median_time(lambda: evaluate(data), repeat)

        def forget() -> None:
            # The work itself, not the per-state cache of rank_call. The ranking forgotten is
            # freed here, untimed (about 0.1 s at 10,000 proposals): a request pays for that only
            # when its new ranking pushes the oldest of the RANKINGS_KEPT out of the cache.
            _RANKINGS.clear()

        figures["ranking"] = median_time(lambda: rank_call(call), repeat, before=forget)
        figures["with_scores"] = median_time(
            lambda: rank_call(call, with_scores=True), repeat, before=forget
        )
        figures["reviews"] = sum(summary.reviews for summary in data.summaries)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "benchmark"}
    figures["command_wall"], figures["command_cpu"] = child_cpu(
        [str(BIN / "reviewer-app"), "ranking", "bench", "--format", "csv"], env, repeat
    )
    return figures


LIBRARIES = "import flask.cli, flask_sqlalchemy, sqlalchemy.orm"


def startup(repeat: int) -> tuple[float, float, float, float]:
    """CPU of (``--help``, ``python -c pass``, ``call list``, importing the libraries)."""
    env = {**os.environ, "REVIEWER_APP_MODE": "demo"}
    _wall, app_cpu = child_cpu([str(BIN / "reviewer-app"), "--help"], env, repeat)
    _wall, bare_cpu = child_cpu([sys.executable, "-c", "pass"], env, repeat)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'start.db'}"
        fresh_database(url)
        command = [str(BIN / "reviewer-app"), "call", "list"]
        _wall, list_cpu = child_cpu(command, {**env, "DATABASE_URL": url}, repeat)
    _wall, libraries_cpu = child_cpu([sys.executable, "-c", LIBRARIES], env, repeat)
    return app_cpu, bare_cpu, list_cpu, libraries_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="7,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL to use (its tables are replaced)")
    args = parser.parse_args()

    app_cpu, bare_cpu, list_cpu, libraries_cpu = startup(max(args.repeat, 5))
    print(
        f"startup: reviewer-app --help {app_cpu:.3f} s CPU; python -c pass {bare_cpu:.3f} s "
        f"({app_cpu / bare_cpu:.1f}x the floor)"
    )
    print(
        f"startup of a database command: reviewer-app call list {list_cpu:.3f} s CPU; "
        f"python -c '{LIBRARIES}' {libraries_cpu:.3f} s ({list_cpu / libraries_cpu:.1f}x)"
    )
    header = (
        "| N | reviews | seed | floor | load | engine | ranking | ranking / floor "
        "| with scores | command (wall, CPU) |"
    )
    print(header)
    print("|---" * 10 + "|")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            f = measure(url, size, args.repeat)
        print(
            f"| {size:,} | {int(f['reviews']):,} | {f['seed']:.1f} s | {f['floor']:.3f} s "
            f"| {f['load']:.3f} s | {f['engine']:.3f} s | {f['ranking']:.3f} s "
            f"| {f['ranking'] / f['floor']:.1f}x | {f['with_scores']:.3f} s "
            f"| {f['command_wall']:.2f} s, "
            f"{f['command_cpu']:.2f} s |",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
