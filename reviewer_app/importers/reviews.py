"""Importing reviews scored offline."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import limits
from ..audit.events import (
    ReviewImported,
)
from ..extensions import db
from ..models import (
    Assignment,
    Call,
    ConflictDeclaration,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    SavedThrough,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.reviews import new_score, write_scores
from ..models.versions import keep_version
from ..scoring.scheme import Scheme
from .checks import Check, check_phase, known_expert, normalise_email, users_by_email
from .tables import Row, Table

# --- offline reviews ----------------------------------------------------------------------------


def score_columns(scheme: Scheme) -> tuple[str, ...]:
    """``<key>``, ``<key>_comment`` for each criterion, in scheme order."""
    return tuple(col for key in scheme.criterion_keys for col in (key, f"{key}_comment"))


def import_reviews(
    call: Call, table: Table, *, actor: User | None, replace: bool = False
) -> list[Review]:
    """Record offline reviews (call in ``evaluation``): per row a no-conflict declaration and a
    submitted review with a score and a comment for every criterion.

    Columns: ``proposal`` (reference), ``expert`` (e-mail), then ``<key>`` and ``<key>_comment``
    for each criterion. The pair must be assigned; a pair with a submitted review is refused
    unless ``replace``; a draft is overwritten.

    :raises ImportRejected: a bad row (every one is listed); nothing is written.
    """
    check_phase(call, (Phase.EVALUATION,), "reviews")
    scheme = call.scheme
    check = Check()
    columns = ("proposal", "expert", *score_columns(scheme))
    check.require_columns(table, columns)
    check.refuse_unknown_columns(table, columns)
    check.raise_if_any()
    criteria = {c.key: c for c in call.criteria}
    # Only the panels the file names: a file's cost does not grow with what was imported before.
    named = {str(row.values.get("proposal") or "").strip() for row in table.rows} - {""}
    assignments = {
        (a.proposal.reference, a.expert.email): a
        for a in db.session.scalars(
            select(Assignment)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id, Proposal.reference.in_(sorted(named)))
            .options(
                joinedload(Assignment.proposal),
                joinedload(Assignment.expert),
                joinedload(Assignment.declaration),
                joinedload(Assignment.review).selectinload(Review.scores),
            )
        ).unique()
    }
    proposals = {reference for reference, _ in assignments} | set(
        db.session.scalars(select(Proposal.reference).where(Proposal.call_id == call.id))
    )
    rows = [(row, normalise_email(check, row, "expert")) for row in table.rows]
    experts = users_by_email({email for _, email in rows if email})
    seen: dict[str, int | None] = {}
    planned: list[tuple[Assignment, dict[str, tuple[Decimal, str]]]] = []
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
        assignment = assignments.get((reference, email))
        if assignment is None:
            check.add(
                row,
                "expert",
                gettext("%(email)s is not assigned to %(ref)s", email=email, ref=reference),
            )
            continue
        if assignment.has_conflict:
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
        review = assignment.review
        if review is not None and review.is_submitted and not replace:
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
            planned.append((assignment, values))
    if not table.rows:
        check.add(None, None, gettext("the file has no reviews"))
    check.raise_if_any()

    now = utcnow()
    reviews: list[tuple[Review, Assignment, bool, dict[str, tuple[Decimal, str]]]] = []
    for assignment, values in planned:
        if assignment.declaration is None:
            assignment.declaration = ConflictDeclaration(
                has_conflict=False, confidentiality_accepted=True, declared_at=now
            )
        else:
            assignment.declaration.confidentiality_accepted = True
        review = assignment.review
        replaced = review is not None and review.is_submitted
        if review is None:
            review = Review(assignment=assignment)
            db.session.add(review)
        write_scores(review.scores, new_score, criteria.values(), values)
        review.status = ReviewStatus.SUBMITTED
        review.updated_at = now
        review.submitted_at = now
        reviews.append((review, assignment, replaced, values))
    db.session.flush()
    for review, assignment, replaced, values in reviews:
        # The command line acts as "system": no author (the audit event says the same).
        kept = keep_version(review, SavedThrough.IMPORT, saved_by_id=None)
        record(
            ReviewImported(
                proposal=assignment.proposal.reference,
                expert_id=assignment.expert_id,
                replaced=replaced,
                scores={k: str(v) for k, (v, _) in values.items()},
                version=kept.number,
            ),
            review,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    return [review for review, *_ in reviews]


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
