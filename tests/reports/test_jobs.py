"""Large reports in the background (reports/jobs.py): a thread of the app server, or RQ workers
on the real Redis; the progress page; the finished file kept until the data changes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from reviewer_app.extensions import db
from reviewer_app.models import JobStatus, ReportJob, ReportKind, Role, utcnow
from reviewer_app.reports import jobs

from ..conftest import REDIS_URL
from .conftest import Scene

REPORT = "/calls/aif-test/report.pdf?lang=de"


def jobs_of(scene: Scene) -> list[ReportJob]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ReportJob).where(ReportJob.call_id == scene.call.id).order_by(ReportJob.id)
        )
    )


@pytest.fixture
def in_a_thread(app: Flask) -> Iterator[None]:
    app.config["REPORT_JOBS"] = "thread"
    yield
    jobs.drain()
    app.config["REPORT_JOBS"] = "inline"


def test_the_report_is_made_in_the_background_and_kept_until_the_data_changes(
    scene: Scene, in_a_thread: None, make_user, login_as
) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_user(Role.COORDINATOR))
    asked = client.get(REPORT)
    assert asked.status_code == 302 and "/calls/aif-test/reports/" in asked.location
    job_page = asked.location
    jobs.drain()

    page = client.get(job_page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "The report is ready." in text and 'http-equiv="refresh"' not in text
    assert "/calls/aif-test/report.pdf?lang=de" in text

    first = client.get(REPORT)
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert "aif-test-decision-report-de.pdf" in first.headers["Content-Disposition"]
    # Same data: the same file, at once, without a second job.
    again = client.get(REPORT)
    assert again.status_code == 200 and again.data == first.data
    [job] = jobs_of(scene)
    assert job.status is JobStatus.DONE and job.fingerprint == first.headers["X-Report-Fingerprint"]
    first_job = job.id

    # The data changes: the old file says so, and asking again makes a new one.
    scene.decide()
    assert "The call's data changed" in client.get(job_page).get_data(as_text=True)
    asked = client.get(REPORT)
    assert asked.status_code == 302 and asked.location != job_page
    jobs.drain()
    decided = client.get(REPORT)
    assert decided.status_code == 200 and decided.data != first.data
    [kept] = jobs_of(scene)  # the earlier state's file is gone
    assert kept.id != first_job and kept.status is JobStatus.DONE
    assert client.get(job_page).status_code == 404


def test_rq_workers_make_the_report_and_the_page_follows_it(
    app: Flask, scene: Scene, on_redis: str, make_user, login_as
) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_user(Role.COORDINATOR))
    asked = client.get("/calls/aif-test/feedback.zip?lang=en")
    assert asked.status_code == 302
    job_page = asked.location
    # No worker yet: the job waits in Redis, the page shows it and reloads itself.
    with app.app_context():
        assert jobs.queue().count == 1
    text = client.get(job_page).get_data(as_text=True)
    assert "Queued: the report is made" in text and "<progress" in text
    assert '<meta http-equiv="refresh" content="2">' in text
    # A reload, or asking again, finds the same job.
    assert client.get("/calls/aif-test/feedback.zip?lang=en").location == job_page
    assert len(jobs_of(scene)) == 1

    worker = subprocess.run(
        [sys.executable, "-m", "reviewer_app.cli", "worker", "--burst"],
        env={
            **os.environ,
            "REVIEWER_APP_MODE": "test",
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "REPORT_JOBS": "rq",
            "REPORT_JOBS_QUEUE": on_redis,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stderr
    [job] = jobs_of(scene)
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 5, 5), job.error
    assert "The report is ready." in client.get(job_page).get_data(as_text=True)
    archive = client.get("/calls/aif-test/feedback.zip?lang=en")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"


def test_the_worker_command_needs_redis(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1 and "Set REDIS_URL" in result.output


def test_a_job_whose_worker_died_is_made_again(
    app: Flask, scene: Scene, on_redis: str, make_user, login_as
) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_user(Role.COORDINATOR))
    first = client.get(REPORT).location
    [job] = jobs_of(scene)
    stale = timedelta(seconds=app.config["REPORT_JOB_STALE_SECONDS"] + 1)
    db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job.id)
        .values(status=JobStatus.RUNNING, updated_at=utcnow() - stale)
    )
    db.session.commit()
    assert client.get(REPORT).location == first  # the same job, started again
    [restarted] = jobs_of(scene)
    assert restarted.status is JobStatus.QUEUED and restarted.updated_at > utcnow() - stale
    with app.app_context():
        assert (
            jobs.queue().count == 2
        )  # queued again; a worker runs it once, the other finds it taken


def test_a_failed_job_says_why_and_asking_again_retries(
    app: Flask, scene: Scene, in_a_thread: None, make_user, login_as, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise MemoryError("the renderer ran out of memory")

    monkeypatch.setattr(jobs, "decision_report_pdf", broken)
    client = login_as(make_user(Role.COORDINATOR))
    job_page = client.get(REPORT).location
    jobs.drain()
    text = client.get(job_page).get_data(as_text=True)
    assert "The report could not be made." in text and "Try again" in text
    assert "MemoryError" not in text  # the log names it, not the page
    [failed] = jobs_of(scene)
    assert failed.status is JobStatus.FAILED

    monkeypatch.undo()
    retry = client.get(REPORT)
    assert retry.status_code == 302 and retry.location == job_page  # the same job, again
    jobs.drain()
    assert "The report is ready." in client.get(job_page).get_data(as_text=True)
    assert client.get(REPORT).status_code == 200


def test_who_may_follow_a_job(scene: Scene, on_redis: str, make_user, login_as, client) -> None:  # type: ignore[no-untyped-def]
    coordinator = login_as(make_user(Role.COORDINATOR))
    decision_page = coordinator.get(REPORT).location
    feedback_page = coordinator.get("/calls/aif-test/feedback.zip").location
    coordinator.get("/logout")
    observer = login_as(make_user(Role.OBSERVER))
    assert observer.get(decision_page).status_code == 200
    assert observer.get(feedback_page).status_code == 403  # applicants' reports: coordinators
    other_call = decision_page.replace("/calls/aif-test/", "/calls/other/")
    assert observer.get(other_call).status_code == 404
    [decision_job, _] = sorted(jobs_of(scene), key=lambda j: j.id)
    assert decision_job.kind is ReportKind.DECISION


def test_several_processes_make_the_same_feedback_zip(scene: Scene, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A large call's feedback reports are rendered by a pool of processes (reports/parallel.py);
    the ZIP is byte for byte the one one process makes."""
    from reviewer_app.reports import parallel
    from reviewer_app.reports.services import feedback_reports_zip

    alone = feedback_reports_zip(scene.call, "de", processes=1)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)  # the scene has five proposals
    pools: list[int] = []

    class Pool(parallel.ProcessPoolExecutor):
        def __init__(self, max_workers: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
            pools.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", Pool)
    heard: list[tuple[int, int]] = []
    together = feedback_reports_zip(
        scene.call, "de", processes=2, progress=lambda done, total: heard.append((done, total))
    )
    assert pools == [2]  # the pool did the rendering
    assert together.content == alone.content
    assert heard == [(n, 5) for n in range(6)]
