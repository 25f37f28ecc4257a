"""One page of the progress dashboard: the same figures as ``progress.call_progress``, worked
out in the database for one page of proposals and one page of experts, so the page costs the
same for 7 proposals and for 10,000 (issue 11, point 3).

Counts come from grouped queries; only the rows shown are loaded as objects, with their
conflicts, open work and disagreement flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    Call,
    ConflictDeclaration,
    Proposal,
    Review,
    ReviewStatus,
    User,
    utcnow,
)
from ..models.reviews import without_conflict
from ..paging import asked_page, window
from ..ranking import rows_with_scores
from ..scoring.engine import EvaluationError
from .progress import ExpertProgress, ProposalProgress, disagreement_titles, due_date

PER_PAGE = 50
PROPOSAL_STATES = ("open", "complete", "conflicts")
EXPERT_STATES = ("open", "overdue", "done")


@dataclass(frozen=True)
class Paged:
    page: int
    pages: int
    total: int  # rows that pass the filter
    state: str
    query: str


@dataclass(frozen=True)
class ProgressPage:
    proposals: list[ProposalProgress]
    proposal_paging: Paged
    experts: list[ExpertProgress]
    expert_paging: Paged
    flags_available: bool
    has_proposals: bool


def _submitted() -> Any:
    return Review.status == ReviewStatus.SUBMITTED


def _assignment_rows(call: Call) -> Select[Any]:
    return (
        select(Assignment)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .outerjoin(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Proposal.call_id == call.id)
    )


def _proposal_page(
    call: Call, *, page: int, state: str, query: str, with_conflict_reasons: bool, per: int
) -> tuple[list[ProposalProgress], Paged]:
    counted = and_(Assignment.id.is_not(None), without_conflict())  # a proposal may have none
    assigned = func.sum(case((counted, 1), else_=0))
    submitted = func.sum(case((and_(counted, _submitted()), 1), else_=0))
    conflicts = func.sum(case((ConflictDeclaration.has_conflict.is_(True), 1), else_=0))
    counts = (
        select(
            Proposal.id.label("id"),
            func.coalesce(assigned, 0).label("assigned"),
            func.coalesce(submitted, 0).label("submitted"),
            func.coalesce(conflicts, 0).label("conflicts"),
        )
        .select_from(Proposal)
        .outerjoin(Assignment, Assignment.proposal_id == Proposal.id)
        .outerjoin(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Proposal.call_id == call.id)
        .group_by(Proposal.id)
    )
    if query:
        needle = f"%{query.casefold()}%"
        counts = counts.where(
            or_(
                func.lower(Proposal.reference).like(needle), func.lower(Proposal.title).like(needle)
            )
        )
    if state == "open":
        counts = counts.having(or_(submitted < assigned, assigned == 0))
    elif state == "complete":
        counts = counts.having(and_(assigned > 0, submitted == assigned))
    elif state == "conflicts":
        counts = counts.having(conflicts > 0)
    if not state:
        # No filter on the counts: page the proposals first and count only the page's (the
        # default view of a 10,000-proposal call must not group every assignment).
        listed = select(Proposal.id).where(Proposal.call_id == call.id)
        if query:
            listed = listed.where(
                or_(
                    func.lower(Proposal.reference).like(needle),
                    func.lower(Proposal.title).like(needle),
                )
            )
        total = db.session.scalar(select(func.count()).select_from(listed.subquery())) or 0
        shown_at = window(total, page, per)
        ids = list(
            db.session.scalars(
                listed.order_by(Proposal.reference).limit(per).offset(shown_at.offset)
            )
        )
        counts = counts.where(Proposal.id.in_(ids))
    grouped = counts.subquery()
    if state:
        # Filtered on the counts: every assignment of the call is grouped, so the page's rows
        # carry the number matching (a window count) rather than grouping it all twice.
        page = asked_page(page)
        rows = _filtered_rows(grouped, page=page, per=per)
        total = rows[0][3] if rows else 0
        if not rows and page > 1:  # past the end: the count says which page is the last
            total = db.session.scalar(select(func.count()).select_from(grouped)) or 0
            rows = _filtered_rows(grouped, page=window(total, page, per).page, per=per)
        shown_at = window(total, page, per)
    else:
        rows = list(
            db.session.execute(
                select(Proposal, grouped.c.assigned, grouped.c.submitted)
                .join(grouped, grouped.c.id == Proposal.id)
                .order_by(Proposal.reference)
            ).all()
        )
    page, pages = shown_at.page, shown_at.pages
    shown = {
        proposal.id: ProposalProgress(proposal, int(assigned_), int(submitted_))
        for proposal, assigned_, submitted_, *_total in rows
    }
    if shown:
        conflicted = db.session.scalars(
            select(Assignment)
            .join(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
            .where(Assignment.proposal_id.in_(list(shown)), ConflictDeclaration.has_conflict)
            .options(selectinload(Assignment.expert), selectinload(Assignment.declaration))
            .order_by(Assignment.id)
        )
        for assignment in conflicted:
            declaration = assignment.declaration
            reason = declaration.reason if with_conflict_reasons and declaration else None
            shown[assignment.proposal_id].conflicts.append((assignment.expert, reason))
    return list(shown.values()), Paged(page, pages, total, state, query)


def _filtered_rows(grouped: Any, *, page: int, per: int) -> list[Any]:
    """Page ``page`` of the proposals ``grouped`` keeps, each row (proposal, assigned,
    submitted, how many match in all)."""
    return list(
        db.session.execute(
            select(Proposal, grouped.c.assigned, grouped.c.submitted, func.count().over())
            .join(grouped, grouped.c.id == Proposal.id)
            .order_by(Proposal.reference)
            .limit(per)
            .offset((page - 1) * per)
        ).all()
    )


def _disagreements(call: Call, rows: list[ProposalProgress]) -> bool:
    """Set each shown proposal's disagreement flags (criterion titles); False if the scores
    cannot be evaluated. Only the shown proposals are evaluated: the flag is per proposal."""
    references = {row.proposal.reference for row in rows}
    try:
        scored = rows_with_scores(call, references)
    except EvaluationError:
        return False
    flagged = disagreement_titles(call, scored.values())
    for row in rows:
        row.disagreements = flagged.get(row.proposal.reference, [])
    return True


def _expert_page(
    call: Call, *, page: int, state: str, query: str, today: date, per: int
) -> tuple[list[ExpertProgress], Paged]:
    is_open = and_(
        without_conflict(), or_(Review.id.is_(None), Review.status != ReviewStatus.SUBMITTED)
    )
    due: Any = (
        Assignment.due_date
        if call.deadline is None
        else func.coalesce(Assignment.due_date, literal(call.deadline))
    )
    assigned = func.sum(case((without_conflict(), 1), else_=0))
    submitted = func.sum(case((and_(without_conflict(), _submitted()), 1), else_=0))
    earliest_open_due = func.min(case((is_open, due), else_=None))
    counts = (
        _assignment_rows(call)
        .with_only_columns(
            Assignment.expert_id.label("id"),
            assigned.label("assigned"),
            submitted.label("submitted"),
            func.max(Review.updated_at).label("last_review"),
        )
        .group_by(Assignment.expert_id)
    )
    if state == "open":
        counts = counts.having(submitted < assigned)
    elif state == "done":
        counts = counts.having(submitted == assigned)
    elif state == "overdue":
        counts = counts.having(earliest_open_due < today)
    needle = f"%{query.casefold()}%"
    named = or_(func.lower(User.name).like(needle), func.lower(User.email).like(needle))
    if not state:
        # No filter on the counts: page the call's experts first and count only the page's.
        in_call = (
            select(Assignment.expert_id)
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .where(Proposal.call_id == call.id)
        )
        ids_listed = select(User.id).where(User.id.in_(in_call))
        if query:
            ids_listed = ids_listed.where(named)
        total = db.session.scalar(select(func.count()).select_from(ids_listed.subquery())) or 0
        shown_at = window(total, page, per)
        ids = list(
            db.session.scalars(
                ids_listed.order_by(func.lower(User.name), User.id)
                .limit(per)
                .offset(shown_at.offset)
            )
        )
        counts = counts.where(Assignment.expert_id.in_(ids))
    grouped = counts.subquery()
    listed = select(User, grouped.c.assigned, grouped.c.submitted, grouped.c.last_review).join(
        grouped, grouped.c.id == User.id
    )
    if query:
        listed = listed.where(named)
    if state:
        total = db.session.scalar(select(func.count()).select_from(listed.subquery())) or 0
        shown_at = window(total, page, per)
    page, pages, offset = shown_at.page, shown_at.pages, shown_at.offset
    rows = db.session.execute(
        listed.order_by(func.lower(User.name), User.id).limit(per).offset(offset if state else 0)
    ).all()
    shown = {
        user.id: ExpertProgress(user, int(assigned_), int(submitted_), last_review)
        for user, assigned_, submitted_, last_review in rows
    }
    if shown:
        open_work = db.session.scalars(
            _assignment_rows(call)
            .where(Assignment.expert_id.in_(list(shown)), is_open)
            .options(selectinload(Assignment.proposal))
            .order_by(Proposal.reference)
        )
        for assignment in open_work:
            expert = shown[assignment.expert_id]
            expert.open.append(assignment.proposal)
            deadline = due_date(assignment, call)
            if deadline is not None and (expert.due is None or deadline < expert.due):
                expert.due = deadline
            if deadline is not None and deadline < today:
                expert.overdue.append(assignment.proposal)
        latest = db.session.execute(
            select(AuditEvent.actor_id, func.max(AuditEvent.at))
            .where(AuditEvent.actor_id.in_(list(shown)))
            .group_by(AuditEvent.actor_id)
        ).tuples()
        for actor_id, at in latest:
            active = shown.get(actor_id) if actor_id is not None else None
            if active is not None and (active.last_activity is None or at > active.last_activity):
                active.last_activity = at
    return list(shown.values()), Paged(page, pages, total, state, query)


def progress_page(
    call: Call,
    *,
    proposal_page: int = 1,
    proposal_state: str = "",
    proposal_query: str = "",
    expert_page: int = 1,
    expert_state: str = "",
    expert_query: str = "",
    with_conflict_reasons: bool = False,
    today: date | None = None,
    per: int = PER_PAGE,
) -> ProgressPage:
    """The dashboard's two tables, one page of each, filtered by state and text."""
    today = today or utcnow().date()
    proposals, proposal_paging = _proposal_page(
        call,
        page=proposal_page,
        state=proposal_state if proposal_state in PROPOSAL_STATES else "",
        query=proposal_query.strip(),
        with_conflict_reasons=with_conflict_reasons,
        per=per,
    )
    flags = _disagreements(call, proposals)
    experts, expert_paging = _expert_page(
        call,
        page=expert_page,
        state=expert_state if expert_state in EXPERT_STATES else "",
        query=expert_query.strip(),
        today=today,
        per=per,
    )
    has_proposals = bool(proposals) or bool(
        db.session.scalar(select(Proposal.id).where(Proposal.call_id == call.id).limit(1))
    )
    return ProgressPage(proposals, proposal_paging, experts, expert_paging, flags, has_proposals)
