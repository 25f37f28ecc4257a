"""A server worker killed in the middle of a submit leaves all or nothing (issue 11, point 8).

The expert's submit is held inside its transaction, after it has written, by a lock the test
takes on the call's audit chain head (every write appends to the chain under that lock). The
test waits until PostgreSQL shows the request waiting for that lock (the state, not a time),
kills every gunicorn worker with SIGKILL, releases the lock, and finds the review exactly as
it was before: a draft with its earlier scores, no submission in the audit log, the chain
intact. The expert then submits again and it counts once.

PostgreSQL only: it is what production runs, and its lock table shows where the request waits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import urllib.error
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from reviewer_app.audit.chain import verify
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Review, ReviewStatus
from reviewer_app.models.audit import chain_of

from .conftest import PASSWORD, is_postgres
from .test_load import Expert, served  # noqa: F401  (the gunicorn fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not is_postgres(), reason="PostgreSQL only (see the module's text)"),
]

WRITTEN_TABLES = ("reviews", "scores", "review_versions", "review_version_scores", "audit_events")


def _wait_for(condition: Any, what: str) -> Any:
    """Until ``condition()`` is true: the state, with a generous bound for a busy machine."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def _gunicorn_workers(master: int) -> list[int]:
    children = f"/proc/{master}/task/{master}/children"
    with open(children, encoding="ascii") as fh:
        return [int(pid) for pid in fh.read().split()]


def test_a_worker_killed_mid_submit_leaves_the_review_as_it_was(served) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    base, app, work, server = served
    email, assignment_id = work[0]
    expert = Expert(base, email, assignment_id)
    status, _ = expert.post("/login", {"email": email, "password": PASSWORD})
    assert status == 302
    page = f"/expert/assignments/{assignment_id}"
    draft = expert.form(1, 0)
    assert expert.post(page, draft)[0] == 302  # a draft, version 1

    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.assignment_id == assignment_id))
        assert review is not None
        before = (
            review.status,
            review.version,
            sorted((s.value, s.comment) for s in review.scores),
        )
        call_id = review.assignment.proposal.call_id
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    chain = chain_of(call_id)

    engine = create_engine(url)
    # pg_stat_activity is read once per transaction: the watcher asks outside any.
    watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    holder = engine.connect()
    holder.begin()
    holder.execute(text("SELECT seq FROM audit_heads WHERE chain = :c FOR UPDATE"), {"c": chain})
    holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
    submit = threading.Thread(
        target=lambda: _ignore_reset(expert.post, page, expert.form(2, 1, submit=True)),
        daemon=True,
    )
    submit.start()
    waiting = _wait_for(
        lambda: watcher.execute(
            text("SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
            {"holder": holder_pid},
        ).scalar(),
        "the submit waiting for the chain's lock",
    )
    written = watcher.execute(
        text(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = :pid AND l.mode = 'RowExclusiveLock' AND l.granted"
        ),
        {"pid": waiting},
    ).scalars()
    assert set(written) & set(WRITTEN_TABLES), "the submit had written nothing yet"

    for worker in _gunicorn_workers(server.pid):
        os.kill(worker, signal.SIGKILL)
    holder.commit()  # the lock goes; the dead worker's transaction can never commit
    _wait_for(
        lambda: (
            not watcher.execute(
                text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": waiting}
            ).first()
        ),
        "the killed worker's database session to end",
    )
    holder.close()
    watcher.close()
    engine.dispose()
    submit.join(timeout=60)

    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.assignment_id == assignment_id))
        assert review is not None
        after = (review.status, review.version, sorted((s.value, s.comment) for s in review.scores))
        assert after == before and review.status is ReviewStatus.DRAFT
        submitted = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.chain == chain, AuditEvent.action == "review.submit"
            )
        ).all()
        assert submitted == []
        assert verify(db.session, chain).intact

    # The master has started new workers: the expert's submit goes through once.
    def answered() -> bool:
        try:
            return expert.post(page, expert.form(2, 1, submit=True))[0] == 302
        except OSError:
            return False

    _wait_for(answered, "a new worker to take the submit")
    with app.app_context():
        db.session.expire_all()
        review = db.session.scalar(select(Review).where(Review.assignment_id == assignment_id))
        assert review is not None and review.status is ReviewStatus.SUBMITTED
        assert {s.comment for s in review.scores} == {
            expert.form(2, 1)[f"comment_{k}"].strip()  # stored without surrounding spaces
            for k in ("compute", "expertise", "funding")
        }
        assert verify(db.session, chain).intact


def _ignore_reset(post: Any, *args: Any) -> None:
    # The worker dies under the request: what this test does.
    with contextlib.suppress(OSError, urllib.error.URLError):
        post(*args)
