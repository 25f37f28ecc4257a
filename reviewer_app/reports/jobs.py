"""Large reports in the background: the decision report and the feedback ZIP of a call.

A report takes seconds at the demo's size and minutes at thousands of proposals: far longer than
a web request may hold a server worker. The page asks for the report (``request_report``); the
job is made once per state of the call's data (``data_state``) and run by

- an RQ worker on Redis (``REPORT_JOBS = "rq"``, the default when ``REDIS_URL`` is set; run
  ``reviewer-app worker`` on any host that reaches the database and Redis),
- a thread of the app server (``"thread"``, the default otherwise: one report at a time per
  process), or
- the request itself (``"inline"``: the test suite's setting for the pages that only read reports).

The job writes its progress and, at the end, the file into its row (``models/jobs.py``), so any
app server shows the progress bar and serves the file. A finished file stays until the data
changes: the same data is served at once, without rendering again.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..audit.chain import state_of
from ..extensions import db
from ..models import Call, JobFailure, JobStatus, ReportJob, ReportKind, User, utcnow
from ..models.audit import chain_of
from .records import ConsensusNamesExpert
from .services import (
    Progress,
    ReportFile,
    check_language,
    decision_report_pdf,
    feedback_reports_zip,
)

log = logging.getLogger(__name__)

# The reports made as jobs; one proposal's feedback report is small and stays in the request.
BACKGROUND_KINDS = (ReportKind.DECISION, ReportKind.FEEDBACK_ZIP, ReportKind.ANALYTICS)
# One report at a time per app server: a decision report of a large call needs a lot of memory.
_threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-job")


def data_state(call: Call) -> str:
    """The digest of the newest event of the call's audit chain that changed something: every
    write to a call is audited, so a new digest means new data (reads are skipped)."""
    return state_of(db.session, chain_of(call.id))[1]


def _find(call: Call, kind: ReportKind, lang: str, state: str) -> ReportJob | None:
    job: ReportJob | None = db.session.scalar(
        select(ReportJob)
        .where(
            ReportJob.call_id == call.id,
            ReportJob.kind == kind,
            ReportJob.language == lang,
            ReportJob.data_state == state,
        )
        .execution_options(populate_existing=True)
    )
    return job


def _lost(job: ReportJob) -> bool:
    """A job that failed, or that nobody has touched for too long (its worker died)."""
    if job.status is JobStatus.FAILED:
        return True
    if job.status is JobStatus.DONE:
        return False
    stale = timedelta(seconds=int(current_app.config["REPORT_JOB_STALE_SECONDS"]))
    return job.updated_at < utcnow() - stale


def request_report(call: Call, kind: ReportKind, lang: str, actor: User | None) -> ReportJob:
    """The job making ``kind`` in ``lang`` for the call's data as it is now: the finished one
    when there is one (served at once), else the one under way, else a new one, started. A
    failed or abandoned job starts again, so asking again retries. Commits: the worker reads
    the job from the database.
    """
    if kind not in BACKGROUND_KINDS:
        raise ValueError(f"{kind} is not made in the background")
    check_language(lang)
    state = data_state(call)
    job = _find(call, kind, lang, state)
    if job is not None and _lost(job):
        # Asking again retries: the same job (and page), from the start.
        job.status, job.failure, job.error, job.done = JobStatus.QUEUED, None, "", 0
        job.updated_at = utcnow()
        job.requested_by_id = actor.id if actor is not None else None
        db.session.commit()
        _start(job.id)
        db.session.refresh(job)
        return job
    if job is None:
        job = ReportJob(
            call_id=call.id,
            kind=kind,
            language=lang,
            data_state=state,
            requested_by_id=actor.id if actor is not None else None,
        )
        try:
            with db.session.begin_nested():
                db.session.add(job)
        except IntegrityError:
            # Two requests at once: the other one made the job; this one follows it.
            found = _find(call, kind, lang, state)
            assert found is not None
            db.session.commit()
            return found
        db.session.commit()
        _start(job.id)
        db.session.refresh(job)
    else:
        db.session.commit()
    return job


def _start(job_id: int) -> None:
    backend = current_app.config["REPORT_JOBS"]
    if backend == "rq":
        queue().enqueue_call(
            run_job,
            args=(job_id,),
            timeout=int(current_app.config["REPORT_JOB_STALE_SECONDS"]),
            job_id=f"report-job-{job_id}",
            result_ttl=0,
            failure_ttl=24 * 3600,
        )
    elif backend == "thread":
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        _threads.submit(_run_in, app, job_id)
    else:
        run_job(job_id)


def drain() -> None:
    """Wait until every report given to this process's thread is made (a clean shutdown, and
    the tests: they wait for the state, not for time)."""
    _threads.submit(lambda: None).result()


def queue() -> Any:
    """The RQ queue of report jobs (Redis at ``REDIS_URL``)."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(current_app.config["REDIS_URL"])
    return Queue(current_app.config["REPORT_JOBS_QUEUE"], connection=connection)


def _run_in(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


def run_job(job_id: int) -> None:
    """Make the report of job ``job_id`` (what an RQ worker or the server's thread runs). A job
    another worker has taken, or one already finished, is left alone."""
    if not has_app_context():  # an RQ worker started without the app (``rq worker``)
        from .. import create_app

        _run_in(create_app(), job_id)
        return
    claimed = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, updated_at=utcnow())
    )
    db.session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    job = db.session.get(ReportJob, job_id)
    assert job is not None
    try:
        report = _make(job, _progress_of(job_id))
    except ConsensusNamesExpert as exc:
        db.session.rollback()
        _fail(job_id, JobFailure.NAMED_EXPERTS, str(exc))
        return
    except Exception as exc:
        log.exception("report job %s failed", job_id)
        db.session.rollback()
        _fail(job_id, JobFailure.ERROR, type(exc).__name__)
        return
    job = db.session.get(ReportJob, job_id, populate_existing=True)  # the progress is newer
    assert job is not None
    job.content = report.content
    job.filename = report.filename
    job.fingerprint = report.fingerprint
    job.status = JobStatus.DONE
    job.done = job.total
    job.updated_at = job.finished_at = utcnow()
    # Kept until the data changes: the files of earlier states of the same report go.
    db.session.execute(
        delete(ReportJob).where(
            ReportJob.call_id == job.call_id,
            ReportJob.kind == job.kind,
            ReportJob.language == job.language,
            ReportJob.id != job.id,
            ReportJob.status.in_((JobStatus.DONE, JobStatus.FAILED)),
        )
    )
    db.session.commit()


def _make(job: ReportJob, progress: Progress) -> ReportFile:
    call = db.session.get(Call, job.call_id)
    assert call is not None
    processes = int(current_app.config["REPORT_PROCESSES"])
    if job.kind is ReportKind.DECISION:
        return decision_report_pdf(call, job.language, progress=progress, processes=processes)
    if job.kind is ReportKind.ANALYTICS:
        from ..call_analytics import analytics_json_text, call_analytics

        made = call_analytics(call, progress=progress)
        return ReportFile(
            filename=f"{call.key}-analytics.json",
            content=analytics_json_text(made).encode("utf-8"),
        )
    return feedback_reports_zip(call, job.language, progress=progress, processes=processes)


def _progress_of(job_id: int) -> Progress:
    """Writes each step in a transaction of its own, at once visible to every page."""

    def report(done: int, total: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                update(ReportJob)
                .where(ReportJob.id == job_id)
                .values(done=done, total=total, updated_at=utcnow())
            )

    return report


def _fail(job_id: int, failure: JobFailure, detail: str) -> None:
    now = utcnow()
    db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id)
        .values(
            status=JobStatus.FAILED, failure=failure, error=detail, updated_at=now, finished_at=now
        )
    )
    db.session.commit()


def failure_message(job: ReportJob) -> str:
    """Why the job failed, for the person reading the page (in their language)."""
    if job.failure is JobFailure.NAMED_EXPERTS:
        return named_experts_message(job.error)
    return _(
        "The report could not be made. Ask for it again; if it fails again, tell the "
        "administrator (the server's log names the error)."
    )


def named_experts_message(where: str) -> str:
    """Why no feedback report was made; ``where`` names the proposals and criteria."""
    return _(
        "No feedback report was made: the final consensus text names an expert, and the "
        "applicant must not read that. Reopen the consensus report, rewrite the text and "
        "make it final again: %(where)s.",
        where=where,
    )
