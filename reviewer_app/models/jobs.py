"""Report jobs: a large report made in the background and kept until the call's data changes.

A job is identified by what it makes (call, kind, language) and by the state of the data it
describes (``data_state``: the digest of the call's newest audit event that changed something).
The same data therefore finds the same finished file, served at once; a change of the data gives
a new state, and so a new job. The file lives in the database, like uploaded documents, so that
every app server and worker reads the same one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import Model
from .types import utcnow
from .users import enum_column

if TYPE_CHECKING:
    from .calls import Call


class ReportKind(StrEnum):
    DECISION = "decision"
    FEEDBACK = "feedback"  # one proposal's
    FEEDBACK_ZIP = "feedback-zip"
    FEEDBACK_ALL = "feedback-all"  # every proposal's, into a folder (command line)
    ANALYTICS = "analytics"  # the decision analytics of a large call, as JSON (issue 14)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobFailure(StrEnum):
    NAMED_EXPERTS = "named-experts"  # a final consensus text names an expert (feedback)
    ERROR = "error"  # anything else: logged for the administrator


class ReportJob(Model):
    __tablename__ = "report_jobs"
    __table_args__ = (
        # One job per report of one state of the data: two clicks at once share it.
        UniqueConstraint("call_id", "kind", "language", "data_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind"))
    language: Mapped[str] = mapped_column(String(8))
    data_state: Mapped[str] = mapped_column(String(64))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    done: Mapped[int] = mapped_column(default=0)  # steps done of ``total``: the progress bar
    total: Mapped[int] = mapped_column(default=1)
    failure: Mapped[JobFailure | None] = mapped_column(enum_column(JobFailure, "job_failure"))
    error: Mapped[str] = mapped_column(Text, default="")  # the detail shown with ``failure``
    filename: Mapped[str] = mapped_column(String(255), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Touched at every step: a job whose worker died stops being touched (see reports/jobs.py).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship()

    @property
    def percent(self) -> int:
        return 100 if self.status is JobStatus.DONE else int(100 * self.done / max(self.total, 1))

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
