"""A proposal's history for its coordinator: every kept version of each expert's review and of
the consensus report, and what changed from one version to the next.

Reads what :func:`~reviewer_app.models.versions.keep_version` wrote; the page gets plain frozen
dataclasses, never rows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..display import criterion_titles
from ..extensions import db
from ..models import (
    Assignment,
    ConsensusReport,
    ConsensusVersion,
    Criterion,
    Proposal,
    Review,
    ReviewVersion,
    SavedThrough,
)

# Words, punctuation and the whitespace between them: a diff of words reads better than a diff
# of lines, and "credible." to "credible and well staffed." should keep "credible" unchanged.
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


class Change(StrEnum):
    SAME = "same"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class TextPiece:
    change: Change
    text: str


@dataclass(frozen=True)
class CriterionState:
    key: str
    title: str
    value: Decimal | None
    comment: str


@dataclass(frozen=True)
class CriterionChange:
    """One criterion that differs from the version before."""

    key: str
    title: str
    old_value: Decimal | None
    new_value: Decimal | None
    # The comment word by word, marked added or removed; empty when the comment is the same.
    comment_diff: tuple[TextPiece, ...]

    @property
    def value_changed(self) -> bool:
        return self.old_value != self.new_value


@dataclass(frozen=True)
class VersionEntry:
    number: int
    saved_at: datetime
    saved_by: str  # the author's name; "" for the command line or not recorded
    path: SavedThrough
    status: str  # the review's or report's status value then
    criteria: tuple[CriterionState, ...]
    previous: int | None  # the number of the kept version compared with, None for the first
    changes: tuple[CriterionChange, ...]
    justification: str = ""  # a consensus version's: why it crosses a threshold
    overall_comment: str = ""  # a consensus version's: for the applicant


@dataclass(frozen=True)
class History:
    """The versions of one review (or of the consensus report), newest first."""

    author: str  # the expert's name; "" for the consensus report
    is_rapporteur: bool
    versions: tuple[VersionEntry, ...]


@dataclass(frozen=True)
class ProposalHistory:
    reviews: tuple[History, ...]  # one per expert with a review, by name
    consensus: History | None


def proposal_history(proposal: Proposal) -> ProposalHistory:
    """Every kept version of the proposal's reviews and consensus report, in three queries."""
    criteria = list(proposal.call.criteria)
    titles = criterion_titles(proposal.call.scheme)  # the reader's language, read once
    review_versions = db.session.scalars(
        select(ReviewVersion)
        .join(ReviewVersion.review)
        .join(Review.assignment)
        .where(Assignment.proposal_id == proposal.id)
        .options(
            joinedload(ReviewVersion.saved_by),
            joinedload(ReviewVersion.review).joinedload(Review.assignment),
            selectinload(ReviewVersion.scores),
        )
        .order_by(ReviewVersion.review_id, ReviewVersion.number)
    ).all()
    by_review: dict[int, list[ReviewVersion]] = {}
    for version in review_versions:
        by_review.setdefault(version.review_id, []).append(version)
    experts = {a.id: a for a in proposal.assignments}
    reviews = []
    for versions in by_review.values():
        assignment = experts[versions[0].review.assignment_id]
        reviews.append(
            History(
                author=assignment.expert.name,
                is_rapporteur=assignment.is_rapporteur,
                versions=_entries(versions, criteria, titles),
            )
        )
    reviews.sort(key=lambda h: h.author.lower())
    consensus_versions = db.session.scalars(
        select(ConsensusVersion)
        .join(ConsensusVersion.report)
        .where(ConsensusReport.proposal_id == proposal.id)
        .options(joinedload(ConsensusVersion.saved_by), selectinload(ConsensusVersion.scores))
        .order_by(ConsensusVersion.number)
    ).all()
    consensus = (
        History(
            author="", is_rapporteur=False, versions=_entries(consensus_versions, criteria, titles)
        )
        if consensus_versions
        else None
    )
    return ProposalHistory(reviews=tuple(reviews), consensus=consensus)


def _entries(
    versions: Sequence[ReviewVersion | ConsensusVersion],
    criteria: Sequence[Criterion],
    titles: dict[str, str],
) -> tuple[VersionEntry, ...]:
    """The versions (oldest first in), each compared with the one before, newest first out."""
    entries: list[VersionEntry] = []
    before: VersionEntry | None = None
    for version in versions:
        saved = {s.criterion_id: s for s in version.scores}
        states = tuple(
            CriterionState(
                key=c.key,
                title=titles.get(c.key, c.title),
                value=saved[c.id].value if c.id in saved else None,
                comment=saved[c.id].comment if c.id in saved else "",
            )
            for c in criteria
        )
        entry = VersionEntry(
            number=version.number,
            saved_at=version.saved_at,
            saved_by=version.saved_by.name if version.saved_by is not None else "",
            path=version.path,
            status=version.status.value,
            criteria=states,
            previous=before.number if before is not None else None,
            changes=compare(before.criteria, states) if before is not None else (),
            justification=version.justification if isinstance(version, ConsensusVersion) else "",
            overall_comment=(
                version.overall_comment if isinstance(version, ConsensusVersion) else ""
            ),
        )
        entries.append(entry)
        before = entry
    return tuple(reversed(entries))


def compare(
    old: Iterable[CriterionState], new: Iterable[CriterionState]
) -> tuple[CriterionChange, ...]:
    """The criteria whose score or comment differ, in the order of ``new``."""
    earlier = {s.key: s for s in old}
    changes = []
    for state in new:
        was = earlier.get(state.key, CriterionState(state.key, state.title, None, ""))
        if was.value == state.value and was.comment == state.comment:
            continue
        changes.append(
            CriterionChange(
                key=state.key,
                title=state.title,
                old_value=was.value,
                new_value=state.value,
                comment_diff=text_diff(was.comment, state.comment)
                if was.comment != state.comment
                else (),
            )
        )
    return tuple(changes)


def text_diff(old: str, new: str) -> tuple[TextPiece, ...]:
    """``new`` against ``old`` word by word: what stayed, what was removed, what was added."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[TextPiece] = []

    def add(change: Change, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if pieces and pieces[-1].change is change:
            pieces[-1] = TextPiece(change, pieces[-1].text + text)
        else:
            pieces.append(TextPiece(change, text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add(Change.SAME, a[i1:i2])
        else:  # replace, delete, insert: what went, then what came
            add(Change.REMOVED, a[i1:i2])
            add(Change.ADDED, b[j1:j2])
    return tuple(pieces)
