"""Every version kept: each save of a review or a consensus report leaves a copy of what it wrote.

The live rows (``reviews``/``scores``, ``consensus_reports``/``consensus_scores``) hold the
current text only; a save overwrites them. Each save therefore also adds a version: its number
(the live row's ``version`` after the save), when, who, through which path, the status, and
every criterion's score and comment as they were saved (a consensus version: its justification
too). Versions are never changed or removed (they go only with their review or report). One
version per save, autosaves included: the page autosaves only after an edit and at most every
20 seconds, so none is skipped as a duplicate.

:func:`keep_version` is the one writer, called by every write path after its flush; the
coordinator's history page reads the rows back (``coordinator/history.py``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, overload

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .reviews import ConsensusReport, ConsensusStatus, Review, ReviewStatus
from .types import Hundredths, utcnow
from .users import enum_column

if TYPE_CHECKING:
    from .calls import Criterion
    from .users import User


class SavedThrough(StrEnum):
    """The path a version was saved through."""

    PAGE = "page"  # the expert's form (save or submit), the consensus page
    AUTOSAVE = "autosave"  # the expert's page saving a draft in the background
    IMPORT = "import"  # reviews import / consensus import (with or without --replace)
    REOPEN = "reopen"  # a coordinator turned it back into a draft
    FINALISE = "finalise"  # a coordinator made the consensus report final
    EARLIER = "earlier"  # the state found when versions began to be kept (the migration)


class ReviewVersion(Model):
    """A review as one save left it."""

    __tablename__ = "review_versions"
    __table_args__ = (
        UniqueConstraint("review_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    number: Mapped[int]  # the review's version after the save
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: the command line, or not known (a version kept by the migration).
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    path: Mapped[SavedThrough] = mapped_column(enum_column(SavedThrough, "saved_through"))
    status: Mapped[ReviewStatus] = mapped_column(enum_column(ReviewStatus, "review_status"))

    review: Mapped[Review] = relationship()
    saved_by: Mapped[User | None] = relationship()
    scores: Mapped[list[ReviewVersionScore]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )


class ReviewVersionScore(Model):
    __tablename__ = "review_version_scores"
    __table_args__ = (
        UniqueConstraint("version_id", "criterion_id"),
        CheckConstraint("value IS NULL OR value >= 0", name="score_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("review_versions.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal | None] = mapped_column(Hundredths)
    comment: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ReviewVersion] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class ConsensusVersion(Model):
    """A consensus report as one save (or finalising, or reopening) left it."""

    __tablename__ = "consensus_versions"
    __table_args__ = (
        UniqueConstraint("report_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("consensus_reports.id", ondelete="CASCADE"))
    number: Mapped[int]  # the report's version after the save
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    path: Mapped[SavedThrough] = mapped_column(enum_column(SavedThrough, "saved_through"))
    status: Mapped[ConsensusStatus] = mapped_column(
        enum_column(ConsensusStatus, "consensus_status")
    )
    justification: Mapped[str] = mapped_column(Text, default="")
    overall_comment: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[ConsensusReport] = relationship()
    saved_by: Mapped[User | None] = relationship()
    scores: Mapped[list[ConsensusVersionScore]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )


class ConsensusVersionScore(Model):
    __tablename__ = "consensus_version_scores"
    __table_args__ = (
        UniqueConstraint("version_id", "criterion_id"),
        CheckConstraint("value IS NULL OR value >= 0", name="score_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("consensus_versions.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal | None] = mapped_column(Hundredths)
    comment: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ConsensusVersion] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


@overload
def keep_version(
    saved: Review, path: SavedThrough, *, saved_by_id: int | None
) -> ReviewVersion: ...
@overload
def keep_version(
    saved: ConsensusReport, path: SavedThrough, *, saved_by_id: int | None
) -> ConsensusVersion: ...
def keep_version(
    saved: Review | ConsensusReport, path: SavedThrough, *, saved_by_id: int | None
) -> ReviewVersion | ConsensusVersion:
    """Add a copy of ``saved`` as it now stands to the session (the caller's commit keeps it).

    Call it after the save's flush: the number is the version that flush gave the row, so the
    audit event recorded next can name it (``version=kept.number``).
    """
    if saved in db.session.new or saved in db.session.dirty:
        raise RuntimeError("flush the save before keeping its version")
    version: ReviewVersion | ConsensusVersion
    if isinstance(saved, Review):
        version = ReviewVersion(
            review=saved,
            number=saved.version,
            saved_by_id=saved_by_id,
            path=path,
            status=saved.status,
            scores=[
                ReviewVersionScore(criterion_id=s.criterion_id, value=s.value, comment=s.comment)
                for s in saved.scores
            ],
        )
    else:
        version = ConsensusVersion(
            report=saved,
            number=saved.version,
            saved_by_id=saved_by_id,
            path=path,
            status=saved.status,
            justification=saved.justification,
            overall_comment=saved.overall_comment,
            scores=[
                ConsensusVersionScore(criterion_id=s.criterion_id, value=s.value, comment=s.comment)
                for s in saved.scores
            ],
        )
    db.session.add(version)
    return version


@event.listens_for(ReviewVersion, "before_update")
@event.listens_for(ReviewVersionScore, "before_update")
@event.listens_for(ConsensusVersion, "before_update")
@event.listens_for(ConsensusVersionScore, "before_update")
def _refuse_change(*_args: object) -> None:
    raise RuntimeError("versions are kept as they were saved")
