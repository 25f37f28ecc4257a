"""Importing offline reviews next to its floor: the same CSV read with ``csv`` and inserted with
one ``executemany``.

    .venv/bin/python benchmarks/import_bench.py                       # 100,000 rows in 10 files
    .venv/bin/python benchmarks/import_bench.py --rows 20000 --files 4
    .venv/bin/python benchmarks/import_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench

A synthetic call of ``rows / 5`` proposals (5 reviews each, 3 criteria, a comment of realistic
length per criterion) is made, its reviews are written out as the files ``reviewer-app reviews
import`` reads, and the reviews are taken out again (assignments and declarations stay), so
that the call is in evaluation with every review still to come. Then, file after file:

* floor:   the file read with ``csv`` and inserted row for row, with one ``executemany``, into
           a plain table of the file's columns, committed;
* floor, same rows: the file read with ``csv`` and the rows the import keeps per line (review,
           declaration, version, audit event, a score and a version score per criterion) inserted
           with ``executemany`` into plain tables: the database's own share;
* import:  ``reviewer-app reviews import`` on the file, as a process (its start included): it
           streams the CSV, checks every row and writes, per row, a declaration, a submitted
           review, its scores, its first version and its audit event, and commits; with the
           process's peak memory.

Each file's figure is printed, so a file that costs more because of what came before shows.
Then one file of every row at once (the 100,000-row case), into a fresh copy of the call.
Not a test: benchmarks/README.md records the figures measured.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ranking_bench import _config, fresh_database


def review_files(call: Any, files: int) -> list[bytes]:
    """The call's submitted reviews as ``files`` CSV files in the import's own columns."""
    from sqlalchemy import select

    from reviewer_app.extensions import db
    from reviewer_app.importers.reviews import score_columns
    from reviewer_app.models import Assignment, Proposal, Review, Score, User

    scheme = call.scheme
    keys = {c.id: c.key for c in call.criteria}
    rows: dict[int, dict[str, str]] = {}
    for review_id, reference, email, criterion_id, value, comment in db.session.execute(
        select(
            Review.id,
            Proposal.reference,
            User.email,
            Score.criterion_id,
            Score.value,
            Score.comment,
        )
        .join(Review.assignment)
        .join(Assignment.proposal)
        .join(Assignment.expert)
        .join(Score, Score.review_id == Review.id)
        .where(Proposal.call_id == call.id)
        .order_by(Review.id)
    ):
        row = rows.setdefault(review_id, {"proposal": reference, "expert": email})
        row[keys[criterion_id]] = str(value)
        row[f"{keys[criterion_id]}_comment"] = comment
    columns = ["proposal", "expert", *score_columns(scheme)]
    ordered = list(rows.values())
    size = -(-len(ordered) // files)
    out = []
    for start in range(0, len(ordered), size):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns)
        writer.writeheader()
        writer.writerows(ordered[start : start + size])
        out.append(buffer.getvalue().encode())
    return out


def take_reviews_out(call: Any) -> None:
    """Back to evaluation with no review written: what a call looks like before the import."""
    from sqlalchemy import delete, select

    from reviewer_app.extensions import db
    from reviewer_app.models import (
        Assignment,
        ConsensusReport,
        Phase,
        Proposal,
        Review,
        ReviewVersion,
        Score,
    )
    from reviewer_app.models.versions import ReviewVersionScore as VersionScore

    reviews = (
        select(Review.id)
        .join(Review.assignment)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call.id)
    )
    versions = select(ReviewVersion.id).where(ReviewVersion.review_id.in_(reviews))
    db.session.execute(delete(VersionScore).where(VersionScore.version_id.in_(versions)))
    db.session.execute(delete(ReviewVersion).where(ReviewVersion.review_id.in_(reviews)))
    db.session.execute(delete(Score).where(Score.review_id.in_(reviews)))
    db.session.execute(delete(Review).where(Review.id.in_(reviews)))
    proposals = select(Proposal.id).where(Proposal.call_id == call.id)
    for report in db.session.scalars(
        select(ConsensusReport).where(ConsensusReport.proposal_id.in_(proposals))
    ):
        db.session.delete(report)
    call.phase = Phase.EVALUATION  # planted: the benchmark's starting point, not a service's
    db.session.commit()


def floor(data: bytes) -> float:
    """``csv`` + one ``executemany`` of the same rows into a plain table, committed."""
    header, rows = _read(data)
    return _timed_inserts(
        {"bench_floor": (header, [dict(zip(header, r, strict=True)) for r in rows])}
    )


def floor_same_rows(data: bytes) -> float:
    """``csv`` + ``executemany`` of the rows the import keeps per line (a review, a score and a
    version score per criterion, a version, an audit event, a declaration) into plain tables:
    the database's share of the import, with no checks, no ORM and no audit digest."""
    start = time.perf_counter()
    header, rows = _read(data)
    keys = [c for c in header[2:] if not c.endswith("_comment")]
    scores = [
        {
            "review": n,
            "criterion": k,
            "value": r[header.index(k)],
            "comment": r[header.index(f"{k}_comment")],
        }
        for n, r in enumerate(rows)
        for k in keys
    ]
    tables = {
        "bench_reviews": (
            ["review", "proposal", "expert"],
            [{"review": n, "proposal": r[0], "expert": r[1]} for n, r in enumerate(rows)],
        ),
        "bench_declarations": (["review"], [{"review": n} for n in range(len(rows))]),
        "bench_versions": (["review"], [{"review": n} for n in range(len(rows))]),
        "bench_events": (
            ["review", "data"],
            [{"review": n, "data": ",".join(r)} for n, r in enumerate(rows)],
        ),
        "bench_scores": (["review", "criterion", "value", "comment"], scores),
        "bench_version_scores": (["review", "criterion", "value", "comment"], scores),
    }
    return _timed_inserts(tables, start=start)


def _read(data: bytes) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(data.decode()))
    header = next(reader)
    return header, list(reader)


def _timed_inserts(
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]], start: float | None = None
) -> float:
    from sqlalchemy import Column, MetaData, Table, Text

    from reviewer_app.extensions import db

    start = time.perf_counter() if start is None else start
    made = []
    for name, (columns, rows) in tables.items():
        table = Table(name, MetaData(), *(Column(c, Text) for c in columns))
        table.create(db.session.connection(), checkfirst=True)
        db.session.execute(table.insert(), [{k: str(v) for k, v in r.items()} for r in rows])
        made.append(table)
    db.session.commit()
    elapsed = time.perf_counter() - start
    for table in made:
        table.drop(db.session.connection())
    db.session.commit()
    return elapsed


def import_file(url: str, data: bytes, workdir: Path) -> tuple[float, float]:
    """``reviewer-app reviews import bench FILE`` as a process: wall clock (its start, about a
    second, included) and the process's peak memory in MB."""
    path = workdir / "reviews.csv"
    path.write_bytes(data)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "benchmark"}
    env.pop("REVIEWER_APP_MODE", None)
    script = (
        "import sys; from reviewer_app.cli import run; "
        "sys.argv = ['reviewer-app', 'reviews', 'import', 'bench', sys.argv[1]]\n"
        "try:\n    run()\nfinally:\n"
        # VmHWM, not ru_maxrss: a child started by fork + exec inherits the parent's ru_maxrss.
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    print(hwm.split()[1], file=sys.stderr)"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return took, int(done.stderr.strip().splitlines()[-1]) / 1024


def run(url: str, rows: int, files: int, workdir: Path) -> None:
    from sqlalchemy import select

    from reviewer_app import create_app
    from reviewer_app.demo.synthetic import seed_synthetic
    from reviewer_app.extensions import db
    from reviewer_app.models import Call

    proposals = rows // 5
    for label, parts in ((f"{files} files", files), ("one file", 1)):
        fresh_database(url)
        app = create_app(_config(url))
        with app.app_context():
            seed_synthetic(
                key="bench",
                proposals=proposals,
                experts=max(6, proposals // 5),
                reviews_per_proposal=5,
                seed=1,
            )
            db.session.commit()
            call = db.session.scalar(select(Call).where(Call.key == "bench"))
            data = review_files(call, parts)
            take_reviews_out(call)
            print(f"\n{label}: {rows:,} rows, {sum(map(len, data)) / 1e6:.1f} MB of CSV")
            print(
                "| file | rows | floor | floor, same rows | import | import / floor "
                "| import / same rows | peak memory of the import |"
            )
            print("|---|---|---|---|---|---|---|---|")
            totals = [0.0, 0.0, 0.0]
            for number, part in enumerate(data, 1):
                took, peak = import_file(url, part, workdir)
                figures = (floor(part), floor_same_rows(part), took)
                totals = [t + f for t, f in zip(totals, figures, strict=True)]
                _line(str(number), part.count(b"\n") - 1, *figures, f"{peak:.0f} MB")
            if parts > 1:
                _line("all", rows, *totals, "")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MB")


def _line(label: str, rows: int, base: float, same: float, took: float, peak: str) -> None:
    print(
        f"| {label} | {rows:,} | {base:.2f} s | {same:.2f} s | {took:.2f} s | "
        f"{took / base:.1f}x | {took / same:.1f}x | {peak} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--database-url", help="PostgreSQL to use (its tables are replaced)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        run(url, args.rows, args.files, Path(tmp))


if __name__ == "__main__":
    main()
