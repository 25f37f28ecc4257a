"""The lists of consensus work: a call's progress per proposal, and an expert's own."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Assignment,
    Call,
    ConsensusReport,
    ConsensusStatus,
    Phase,
    Proposal,
    ReviewStatus,
    User,
    utcnow,
)
from ..paging import window
from .finalising import approved_by_everyone, call_proposals
from .services import Access, Part, Refusal, approval_is_current

# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    proposal: Proposal
    rapporteur: User | None
    panel: int
    submitted: int
    report: ConsensusReport | None
    approvals: int  # current approvals of the draft
    objections: int  # current comments asking for changes
    ready: bool = False  # a complete draft every other expert approved
    overdue: bool = False  # past the call's consensus deadline and not final

    @property
    def state(self) -> str:
        if self.report is None:
            return "none"
        return self.report.status.value


def call_progress(
    call: Call, ids: Collection[int] | None = None, today: date | None = None
) -> list[ProgressRow]:
    """Per proposal of the call (or of ``ids``): rapporteur, reviews in, consensus state and
    approvals, and whether it is overdue on ``today`` (the consensus deadline passed)."""
    late = is_overdue(call, today)
    rows = []
    for proposal in call_proposals(call, ids):
        members = [a for a in proposal.assignments if not a.has_conflict]
        report = proposal.consensus
        current = [a for a in report.approvals if approval_is_current(a, report)] if report else []
        rows.append(
            ProgressRow(
                proposal=proposal,
                rapporteur=next((a.expert for a in members if a.is_rapporteur), None),
                panel=len(members),
                submitted=sum(
                    1
                    for a in members
                    if a.review is not None and a.review.status is ReviewStatus.SUBMITTED
                ),
                report=report,
                approvals=sum(1 for a in current if a.approved),
                objections=sum(1 for a in current if not a.approved),
                ready=approved_by_everyone(proposal),
                overdue=late and (report is None or not report.is_final),
            )
        )
    return rows


def is_overdue(call: Call, today: date | None = None) -> bool:
    """Whether the call's consensus deadline has passed (a report not final by then is late)."""
    deadline = call.consensus_deadline
    return deadline is not None and (today or utcnow().date()) > deadline


@dataclass(frozen=True)
class ExpertItem:
    assignment: Assignment
    access: Access


def expert_work(user: User) -> list[ExpertItem]:
    """The expert's proposals in calls that are in the consensus phase (not conflicted)."""
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .join(Proposal.call)
        .where(Assignment.expert_id == user.id, Call.phase == Phase.CONSENSUS)
        .order_by(Call.key, Proposal.reference)
        .options(
            joinedload(Assignment.proposal).joinedload(Proposal.call),
            joinedload(Assignment.proposal)
            .selectinload(Proposal.consensus)
            .selectinload(ConsensusReport.approvals),
            joinedload(Assignment.declaration),
            joinedload(Assignment.review),
        )
    ).unique()
    items = []
    for assignment in assignments:
        if assignment.has_conflict:
            continue
        part = Part.RAPPORTEUR if assignment.is_rapporteur else Part.EXPERT
        submitted = assignment.review is not None and assignment.review.is_submitted
        items.append(
            ExpertItem(
                assignment, Access(part, None if submitted else Refusal.OWN_REVIEW, assignment)
            )
        )
    return items


PER_PAGE = 50
CONSENSUS_STATES = ("none", "draft", "final")


@dataclass(frozen=True)
class ConsensusPage:
    rows: list[ProgressRow]
    ready: list[ProgressRow]  # drafts every other expert approved, over the whole call
    total: int
    final: int
    matching: int
    page: int
    pages: int
    state: str
    query: str


def consensus_page(
    call: Call, *, page: int = 1, state: str = "", query: str = "", per: int = PER_PAGE
) -> ConsensusPage:
    """One page of the call's consensus progress, filtered by state and text; the counts and
    the drafts ready to be made final are the whole call's (issue 11: the page's work does
    not grow with the call beyond its drafts)."""
    report = ConsensusReport
    state = state if state in CONSENSUS_STATES else ""
    listed = (
        select(Proposal.id)
        .outerjoin(report, report.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id)
    )
    if state == "none":
        listed = listed.where(report.id.is_(None))
    elif state:
        listed = listed.where(report.status == ConsensusStatus(state))
    needle = query.strip().casefold()
    if needle:
        like = f"%{needle}%"
        listed = listed.where(
            func.lower(Proposal.reference).like(like) | func.lower(Proposal.title).like(like)
        )
    matching = db.session.scalar(select(func.count()).select_from(listed.subquery())) or 0
    at = window(matching, page, per)
    page, pages = at.page, at.pages
    ids = db.session.scalars(listed.order_by(Proposal.reference).limit(per).offset(at.offset)).all()
    drafts = db.session.scalars(
        select(report.proposal_id)
        .join(Proposal, Proposal.id == report.proposal_id)
        .where(Proposal.call_id == call.id, report.status == ConsensusStatus.DRAFT)
    ).all()
    total = db.session.scalar(select(func.count(Proposal.id)).where(Proposal.call_id == call.id))
    final = db.session.scalar(
        select(func.count(report.id))
        .join(Proposal, Proposal.id == report.proposal_id)
        .where(Proposal.call_id == call.id, report.status == ConsensusStatus.FINAL)
    )
    return ConsensusPage(
        rows=call_progress(call, ids) if ids else [],
        ready=[row for row in (call_progress(call, drafts) if drafts else []) if row.ready],
        total=total or 0,
        final=final or 0,
        matching=matching,
        page=page,
        pages=pages,
        state=state,
        query=query.strip(),
    )
