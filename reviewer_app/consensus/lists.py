"""The lists of consensus work: a call's progress per proposal, and an expert's own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Assignment,
    Call,
    ConsensusReport,
    Phase,
    Proposal,
    ReviewStatus,
    User,
)
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

    @property
    def state(self) -> str:
        if self.report is None:
            return "none"
        return self.report.status.value


def call_progress(call: Call) -> list[ProgressRow]:
    """Per proposal of the call: rapporteur, reviews in, consensus state and approvals."""
    rows = []
    for proposal in call_proposals(call):
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
            )
        )
    return rows


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
