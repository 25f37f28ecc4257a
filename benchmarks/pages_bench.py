"""The coordinator's and an expert's pages of a large call, next to a bare Flask route of the same app.

    .venv/bin/python benchmarks/pages_bench.py                      # N = 1,000 and 10,000 on SQLite
    .venv/bin/python benchmarks/pages_bench.py --sizes 1000
    .venv/bin/python benchmarks/pages_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Each call is made by ``reviewer-app demo --synthetic`` (5 reviews per proposal, 3 criteria, in
the ranking phase) in a fresh database (the PostgreSQL database given has its tables replaced).
A signed-in coordinator asks for each page through the app's WSGI interface (no network, so
the figures are the server's work): *first* is the first request after the data was written
(it ranks the call; for the analytics of a large call, the first once its background job has
finished), *median* the median of ``--repeat`` more; *size* is the HTML. The floor is
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
    ("calls", "coordinator.calls", {}),
    ("overview", "coordinator.call_detail", {}),
    ("scheme", "coordinator.call_scheme", {}),
    ("settings", "coordinator.edit_call", {}),
    ("closing the call", "coordinator.decide", {}),
    ("proposals", "coordinator.proposals", {}),
    ("a proposal", "coordinator.proposal_detail", {"proposal_id": "PROPOSAL"}),
    ("a proposal's history", "coordinator.proposal_history", {"proposal_id": "PROPOSAL"}),
    ("assignments", "coordinator.assignments", {}),
    ("assignments, searched", "coordinator.assignments", {"q": "cloud", "expert": "a"}),
    ("an expert", "coordinator.expert_page", {"user_id": "EXPERT"}),
    ("progress", "coordinator.progress", {}),
    ("progress, open reviews", "coordinator.progress", {"pstate": "open"}),
    ("consensus", "consensus.call_progress_page", {}),
    ("ranking", "coordinator.ranking", {}),
    ("ranking, page 100", "coordinator.ranking", {"page": 100}),
    ("panel", "coordinator.panel", {}),
    ("analytics", "coordinator.analytics", {}),
    ("decisions", "coordinator.decisions", {}),
    ("audit log", "coordinator.audit", {}),
)
# Asked by one of the call's experts, signed in (the bench gives that expert a password).
EXPERT_PAGES = (
    ("expert: assignments", "expert.assignments", {}),
    ("expert: a review", "expert.review", {"assignment_id": "ASSIGNMENT"}),
    ("expert: consensus", "consensus.index", {}),
)


def measure(url: str, size: int, repeat: int) -> list[tuple[str, float, float, int]]:
    from flask import url_for

    from reviewer_app import create_app

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
        ids, expert_email = _bench_ids()
        with app.test_request_context():

            def urls(pages: tuple[tuple[str, str, dict[str, Any]], ...]) -> list[tuple[str, str]]:
                return [(name, url_for(ep, **_with_ids(ep, args, ids))) for name, ep, args in pages]

            coordinator_urls, expert_urls = urls(PAGES), urls(EXPERT_PAGES)
    rows = _timed(app, made.coordinator_email, made.password, coordinator_urls, repeat)
    return rows + _timed(app, expert_email, made.password, expert_urls, repeat)[1:]


def _bench_ids() -> tuple[dict[str, int], str]:
    """A proposal of the call, an expert with reviews in it (given the demo password, so the
    bench can sign in as that expert) and one of their assignments."""
    from sqlalchemy import select

    from reviewer_app.auth.passwords import hash_password
    from reviewer_app.demo import DEMO_PASSWORD
    from reviewer_app.extensions import db
    from reviewer_app.models import Assignment, Call, Proposal, User

    call_id = db.session.scalar(select(Call.id).where(Call.key == "bench"))
    proposal_id, assignment_id, expert_id = db.session.execute(
        select(Proposal.id, Assignment.id, Assignment.expert_id)
        .join(Assignment, Assignment.proposal_id == Proposal.id)
        .where(Proposal.call_id == call_id)
        .order_by(Proposal.reference, Assignment.id)
        .limit(1)
    ).one()
    expert = db.session.get(User, expert_id)
    assert expert is not None
    expert.password_hash = hash_password(DEMO_PASSWORD)
    db.session.commit()
    ids = {"PROPOSAL": proposal_id, "ASSIGNMENT": assignment_id, "EXPERT": expert_id}
    return ids, expert.email


def _with_ids(endpoint: str, args: dict[str, Any], ids: dict[str, int]) -> dict[str, Any]:
    named = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    return (
        named if endpoint.startswith(("expert.", "consensus.index")) else {"key": "bench", **named}
    )


def _timed(
    app: Any, email: str, password: str, urls: list[tuple[str, str]], repeat: int
) -> list[tuple[str, float, float, int]]:
    """The floor, then each page: the first answer's time, the median of ``repeat`` more and
    the size, for a client signed in as ``email``."""
    client = app.test_client()
    signed = client.post("/login", data={"email": email, "password": password})
    assert signed.status_code == 302, signed.status_code
    rows = []
    for name, path in [("floor: a bare route", "/_floor"), *urls]:
        start = time.perf_counter()
        response = client.get(path)
        first = time.perf_counter() - start
        if b'id="job-state"' in response.data:  # a large call's analytics: a background job
            _await_job(client, path)
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


def _await_job(client: Any, path: str, limit: float = 600) -> None:
    """Until the page shows the finished job's figures (it refreshes itself every 2 s)."""
    deadline = time.monotonic() + limit
    while b'id="job-state"' in client.get(path).data:
        assert time.monotonic() < deadline, f"{path}: the job did not finish in {limit} s"
        time.sleep(2)


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
