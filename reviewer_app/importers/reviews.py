"""Importing reviews scored offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import Column, insert, select, update
from sqlalchemy.orm import selectinload

from .. import limits
from ..audit.events import (
    ReviewImported,
)
from ..extensions import db, table_of
from ..models import (
    Assignment,
    Call,
    ConflictDeclaration,
    Criterion,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    ReviewVersion,
    ReviewVersionScore,
    SavedThrough,
    Score,
    User,
    utcnow,
)
from ..models.audit import ObjectRef, record, record_many
from ..models.reviews import new_score, stored_comment, write_scores
from ..models.versions import keep_version
from ..scoring.scheme import Scheme
from .checks import (
    Check,
    check_phase,
    in_chunks,
    known_expert,
    normalise_email,
    users_by_email,
)
from .tables import ImportRejected, Row, RowStream, Table

# --- offline reviews ----------------------------------------------------------------------------


def score_columns(scheme: Scheme) -> tuple[str, ...]:
    """``<key>``, ``<key>_comment`` for each criterion, in scheme order."""
    return tuple(col for key in scheme.criterion_keys for col in (key, f"{key}_comment"))


@dataclass(frozen=True)
class _Pair:
    """An assigned (proposal, expert) as the checks and the writer need it: ids, no objects."""

    assignment_id: int
    expert_id: int
    declaration_id: int | None
    has_conflict: bool
    review_id: int | None
    review_status: ReviewStatus | None


def _pairs(call: Call, references: set[str]) -> dict[tuple[str, str], _Pair]:
    """The assignments of the proposals the file names (so a file's cost does not grow with
    what was imported before), by (reference, e-mail), in one query per 5,000 references."""
    found: dict[tuple[str, str], _Pair] = {}
    for chunk in in_chunks(references):
        for row in db.session.execute(
            select(
                Proposal.reference,
                User.email,
                Assignment.id,
                Assignment.expert_id,
                ConflictDeclaration.id,
                ConflictDeclaration.has_conflict,
                Review.id,
                Review.status,
            )
            .select_from(Assignment)
            .join(Assignment.proposal)
            .join(Assignment.expert)
            .outerjoin(Assignment.declaration)
            .outerjoin(Assignment.review)
            .where(Proposal.call_id == call.id, Proposal.reference.in_(chunk))
        ).tuples():
            reference, email, assignment_id, expert_id, declared, conflict, review, status = row
            found[(reference, email)] = _Pair(
                assignment_id=assignment_id,
                expert_id=expert_id,
                declaration_id=declared,
                has_conflict=bool(conflict),
                review_id=review,
                review_status=status,
            )
    return found


Planned = tuple[str, _Pair, dict[str, tuple[Decimal, str]]]


BATCH = 5_000  # rows checked and written at a time: memory stays flat however long the file


def import_reviews(
    call: Call, table: Table | RowStream, *, actor: User | None, replace: bool = False
) -> list[int]:
    """Record offline reviews (call in ``evaluation``): per row a no-conflict declaration and a
    submitted review with a score and a comment for every criterion. Returns the reviews' ids
    in the file's order.

    Columns: ``proposal`` (reference), ``expert`` (e-mail), then ``<key>`` and ``<key>_comment``
    for each criterion. The pair must be assigned; a pair with a submitted review is refused
    unless ``replace``; a draft is overwritten.

    The rows are checked and written ``BATCH`` at a time (a ``RowStream`` is read as it goes);
    after the first problem nothing more is written, the checking goes on to the end so that
    every problem is listed, and the caller's rollback takes back what was written. Within a
    batch the audit events of new reviews come before those of overwritten ones.

    :raises ImportRejected: a bad row (every one is listed); the caller must roll back.
    """
    check_phase(call, (Phase.EVALUATION,), "reviews")
    scheme = call.scheme
    check = Check()
    columns = ("proposal", "expert", *score_columns(scheme))
    check.require_columns(table, columns)
    check.refuse_unknown_columns(table, columns)
    check.raise_if_any()
    proposals = set(
        db.session.scalars(select(Proposal.reference).where(Proposal.call_id == call.id))
    )
    criteria = {c.key: c for c in call.criteria}
    shape_errors = table.errors if isinstance(table, RowStream) else []
    seen: dict[str, int | None] = {}
    written: list[int] = []
    count = 0
    rows = iter(table.rows)
    stopped: ImportRejected | None = None
    while stopped is None:
        batch, stopped = _take(rows, BATCH)
        if not batch:
            break
        count += len(batch)
        planned = _checked(call, check, batch, proposals, seen, replace=replace)
        if check.errors or shape_errors:
            continue  # refused: only the checking goes on
        done = _write_new([p for p in planned if p[1].review_id is None], criteria, call, actor)
        done |= _write_over(
            [p for p in planned if p[1].review_id is not None], criteria, call, actor
        )
        written.extend(done[pair.assignment_id] for _, pair, _ in planned)
    check.errors.extend(shape_errors)
    if stopped is not None:
        # The file stops being readable there: what the rows before it got wrong is said
        # with it (the transaction writes nothing either way).
        check.errors.extend(stopped.errors)
    if not count and not check.errors:
        check.add(None, None, gettext("the file has no reviews"))
    check.raise_if_any()
    return written


def _take(rows: Iterator[Row], size: int) -> tuple[list[Row], ImportRejected | None]:
    """Up to ``size`` rows, and the refusal that stopped the reading early, if one did."""
    batch: list[Row] = []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) == size:
                break
    except ImportRejected as exc:
        return batch, exc
    return batch, None


def _checked(
    call: Call,
    check: Check,
    batch: list[Row],
    proposals: set[str],
    seen: dict[str, int | None],
    *,
    replace: bool,
) -> list[Planned]:
    """The batch's rows that pass every check, each with its assignment; the problems go to
    ``check``. ``seen`` carries the (proposal, expert) pairs of earlier batches."""
    scheme = call.scheme
    # Only the panels the batch names: a file's cost does not grow with what came before.
    named = {str(row.values.get("proposal") or "").strip() for row in batch} - {""}
    pairs = _pairs(call, named)
    rows = [(row, normalise_email(check, row, "expert")) for row in batch]
    experts = users_by_email({email for _, email in rows if email})
    planned: list[Planned] = []
    for row, email in rows:
        reference = check.text(row, "proposal", required=True, max_length=limits.PROPOSAL_REFERENCE)
        if reference and reference not in proposals:
            check.add(
                row,
                "proposal",
                gettext("'%(ref)s' is not a proposal of this call", ref=reference),
            )
            reference = ""
        expert = known_expert(check, row, experts, email)
        values = scores_of(check, row, scheme)
        if not reference or expert is None:
            continue
        check.unique(row, "expert", f"{reference} / {email}", seen)
        pair = pairs.get((reference, email))
        if pair is None:
            check.add(
                row,
                "expert",
                gettext("%(email)s is not assigned to %(ref)s", email=email, ref=reference),
            )
            continue
        if pair.has_conflict:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s declared a conflict of interest on %(ref)s",
                    email=email,
                    ref=reference,
                ),
            )
            continue
        if pair.review_status is ReviewStatus.SUBMITTED and not replace:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s already submitted a review of %(ref)s (use --replace to overwrite)",
                    email=email,
                    ref=reference,
                ),
            )
        if values is not None:
            planned.append((reference, pair, values))
    return planned


def _accept(pairs: list[_Pair], now: datetime) -> None:
    """The no-conflict declaration each imported review stands on: written where missing,
    confidentiality accepted where one exists (the checks refused a declared conflict)."""
    declarations = table_of(ConflictDeclaration)
    missing = [p.assignment_id for p in pairs if p.declaration_id is None]
    if missing:
        db.session.execute(
            insert(declarations),
            [
                {
                    "assignment_id": a,
                    "has_conflict": False,
                    "reason": "",
                    "confidentiality_accepted": True,
                    "declared_at": now,
                }
                for a in missing
            ],
        )
    declared = [p.declaration_id for p in pairs if p.declaration_id is not None]
    for chunk in in_chunks(declared):
        db.session.execute(
            update(declarations)
            .where(declarations.c.id.in_(chunk))
            .values(confidentiality_accepted=True)
        )


def _write_new(
    planned: list[Planned], criteria: dict[str, Criterion], call: Call, actor: User | None
) -> dict[int, int]:
    """Reviews where there was none, written in bulk: per row the review, its scores, its first
    version with the same scores, and the audit event. The same rows the save of a review
    writes (``write_scores``, ``keep_version``, ``record``), without an object per row: a file
    of 100,000 reviews is written in seconds, not in hours. Returns assignment id -> review id.
    """
    if not planned:
        return {}
    db.session.flush()  # anything pending goes first, so the statements below see it
    now = utcnow()
    _accept([pair for _, pair, _ in planned], now)
    reviews, scores = table_of(Review), table_of(Score)
    versions, version_scores = table_of(ReviewVersion), table_of(ReviewVersionScore)
    # executemany without RETURNING, then the new ids read back by their unique keys: on SQLite,
    # RETURNING in the file's order would cost one statement per row.
    db.session.execute(
        insert(reviews),
        [
            {
                "assignment_id": pair.assignment_id,
                "status": ReviewStatus.SUBMITTED,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "submitted_at": now,
            }
            for _, pair, _ in planned
        ],
    )
    by_assignment = _ids_by(reviews.c.assignment_id, [p.assignment_id for _, p, _ in planned])
    review_ids = [by_assignment[pair.assignment_id] for _, pair, _ in planned]
    stored = [
        (review_id, criteria[key].id, value, stored_comment(comment))
        for review_id, (_, _, values) in zip(review_ids, planned, strict=True)
        for key, (value, comment) in values.items()
    ]
    db.session.execute(
        insert(scores),
        [
            {"review_id": r, "criterion_id": c, "value": v, "comment": text}
            for r, c, v, text in stored
        ],
    )
    db.session.execute(
        insert(versions),
        [
            {
                "review_id": review_id,
                "number": 1,
                "saved_at": now,
                "saved_by_id": None,  # the command line: no author (as the event says)
                "path": SavedThrough.IMPORT,
                "status": ReviewStatus.SUBMITTED,
            }
            for review_id in review_ids
        ],
    )
    # A new review has exactly one version, so its review id names it.
    version_ids = _ids_by(versions.c.review_id, review_ids)
    db.session.execute(
        insert(version_scores),
        [
            {"version_id": version_ids[r], "criterion_id": c, "value": v, "comment": text}
            for r, c, v, text in stored
        ],
    )
    record_many(
        (
            (
                ReviewImported(
                    proposal=reference,
                    expert_id=pair.expert_id,
                    replaced=False,
                    scores={k: str(v) for k, (v, _) in values.items()},
                    version=1,
                ),
                ObjectRef(Review, review_id),
            )
            for review_id, (reference, pair, values) in zip(review_ids, planned, strict=True)
        ),
        call_id=call.id,
        actor_id=actor.id if actor else None,
        at=now,
    )
    return {pair.assignment_id: r for r, (_, pair, _) in zip(review_ids, planned, strict=True)}


def _ids_by(key: Column[int], values: list[int]) -> dict[int, int]:
    """id by ``key`` (a unique column of the rows just written), one query per 5,000 keys."""
    table = key.table
    found: dict[int, int] = {}
    for chunk in in_chunks(values):
        found.update(
            db.session.execute(select(key, table.c.id).where(key.in_(chunk))).tuples().all()
        )
    return found


def _write_over(
    planned: list[Planned], criteria: dict[str, Criterion], call: Call, actor: User | None
) -> dict[int, int]:
    """Reviews that exist (a draft, or a submitted one with ``--replace``): through the objects,
    as a save on the page does, so the review's version moves on. Returns assignment id ->
    review id."""
    if not planned:
        return {}
    now = utcnow()
    _accept([pair for _, pair, _ in planned], now)
    by_id = {
        review.id: review
        for chunk in in_chunks(pair.review_id for _, pair, _ in planned if pair.review_id)
        for review in db.session.scalars(
            select(Review).where(Review.id.in_(chunk)).options(selectinload(Review.scores))
        )
    }
    reviews: list[tuple[Review, str, _Pair, dict[str, tuple[Decimal, str]]]] = []
    for reference, pair, values in planned:
        assert pair.review_id is not None
        review = by_id[pair.review_id]
        write_scores(review.scores, new_score, criteria.values(), values)
        review.status = ReviewStatus.SUBMITTED
        review.updated_at = now
        review.submitted_at = now
        reviews.append((review, reference, pair, values))
    db.session.flush()
    for review, reference, pair, values in reviews:
        # The command line acts as "system": no author (the audit event says the same).
        kept = keep_version(review, SavedThrough.IMPORT, saved_by_id=None)
        record(
            ReviewImported(
                proposal=reference,
                expert_id=pair.expert_id,
                replaced=pair.review_status is ReviewStatus.SUBMITTED,
                scores={k: str(v) for k, (v, _) in values.items()},
                version=kept.number,
            ),
            review,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    return {pair.assignment_id: review.id for review, _, pair, _ in reviews}


def scores_of(check: Check, row: Row, scheme: Scheme) -> dict[str, tuple[Decimal, str]] | None:
    """Each criterion's (score, comment) of the row; None when any is missing or bad."""
    before = len(check.errors)
    values: dict[str, tuple[Decimal, str]] = {}
    for key in scheme.criterion_keys:
        value = check.score(row, key, scheme)
        comment = check.comment(row, f"{key}_comment", scheme.rules.comment_min_chars)
        if value is not None:
            values[key] = (value, comment)
    return values if len(check.errors) == before else None
