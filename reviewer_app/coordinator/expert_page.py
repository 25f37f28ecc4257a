"""One expert in one call: the proposals they are assigned, the proposals they could take, and
changes to many assignments at once.

The matrix shows 50 proposals x 25 experts at a time; a call of thousands of proposals is
staffed expert by expert (or by the automatic assignment), so this page reads one page of the
expert's assignments and one page of candidates, never the whole call's objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..expert.services import AssignmentState, state_of
from ..extensions import db
from ..models import Assignment, Call, ConflictDeclaration, Proposal, User
from ..models.reviews import without_conflict
from ..paging import window
from ..planning.assignment import BlockReason, ExpertSlot, ProposalSlot, pair_block_reason
from .experts import (
    ExpertError,
    assignment_counts,
    check_assignable_phase,
    matching_proposal_ids,
    toggle_assignment,
)

PER_PAGE = 50
REASONS_SHOWN = 5  # a refusal names this many pairs: a flashed message must stay short


@dataclass(frozen=True)
class AssignedRow:
    proposal: Proposal
    state: AssignmentState
    rapporteur: bool

    @property
    def removable(self) -> bool:
        # As toggle_assignment: an assignment with a declaration or a review is kept.
        return self.state is AssignmentState.DECLARATION_NEEDED


@dataclass(frozen=True)
class Candidate:
    proposal: Proposal
    blocked: BlockReason | None
    staffed: int


@dataclass(frozen=True)
class ExpertInCall:
    expert: User
    load: int  # assignments without a declared conflict, in the whole call
    assigned: list[AssignedRow]
    assigned_total: int
    page: int
    pages: int
    candidates: list[Candidate]
    candidates_matching: int
    candidate_page: int
    candidate_pages: int
    min_reviews: int


def expert_in_call(
    call: Call, expert: User, *, query: str = "", page: int = 1, candidate_page: int = 1
) -> ExpertInCall:
    """A page of ``expert``'s assignments in ``call`` and a page of the proposals they are not
    assigned to (those matching ``query``), each with what would block the assignment."""
    own = (
        select(Assignment.id)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call.id, Assignment.expert_id == expert.id)
    )
    assigned_total = db.session.scalar(select(func.count()).select_from(own.subquery())) or 0
    shown = window(assigned_total, page, PER_PAGE)
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .where(Assignment.id.in_(own))
        .order_by(Proposal.reference)
        .offset(shown.offset)
        .limit(PER_PAGE)
        .options(
            selectinload(Assignment.proposal),
            selectinload(Assignment.declaration),
            selectinload(Assignment.review),
        )
    ).all()
    load = (
        db.session.scalar(
            select(func.count())
            .select_from(Assignment)
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .outerjoin(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
            .where(
                Proposal.call_id == call.id,
                Assignment.expert_id == expert.id,
                without_conflict(),
            )
        )
        or 0
    )
    # Candidates: the proposals the expert does not have, matched as the matrix's search does.
    matching = matching_proposal_ids(
        call,
        query,
        Proposal.id.not_in(select(Assignment.proposal_id).where(Assignment.expert_id == expert.id)),
    )
    offered = window(len(matching), candidate_page, PER_PAGE)
    ids = matching[offered.offset : offered.offset + PER_PAGE]
    loaded = {p.id: p for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(ids)))}
    staffed = assignment_counts(call, Assignment.proposal_id, ids)
    rules = call.scheme.conflicts
    slot = ExpertSlot(expert.id, expert.country, expert.organisation)
    candidates = [
        Candidate(
            proposal=loaded[i],
            blocked=pair_block_reason(
                ProposalSlot(i, loaded[i].country, loaded[i].applicant),
                slot,
                same_country=rules.same_country,
                same_organisation=rules.same_organisation,
            ),
            staffed=staffed.get(i, 0),
        )
        for i in ids
    ]
    return ExpertInCall(
        expert=expert,
        load=load,
        assigned=[AssignedRow(a.proposal, state_of(a), a.is_rapporteur) for a in assignments],
        assigned_total=assigned_total,
        page=shown.page,
        pages=shown.pages,
        candidates=candidates,
        candidates_matching=len(matching),
        candidate_page=offered.page,
        candidate_pages=offered.pages,
        min_reviews=call.scheme.rules.min_reviews,
    )


def change_assignments(
    call: Call, expert: User, proposal_ids: list[int], *, assign: bool, actor: User | None
) -> int:
    """Assign ``expert`` to each of ``proposal_ids`` (or remove those assignments), through the
    same rules as one click in the matrix. All or nothing: every refusal is collected and
    raised together (the caller rolls back). Proposals already as asked are left alone;
    returns how many changed.

    :raises ExpertError: wrong phase, a proposal of another call, a blocked pair, or an
        assignment that holds a declaration or a review.
    """
    # The call's lock first (as every change of an assignment takes it): the pairs read next
    # cannot change before the toggles below, and a closed phase is said once, not per row.
    check_assignable_phase(call)
    wanted = sorted(set(proposal_ids))
    proposals = {
        p.id: p
        for p in db.session.scalars(
            select(Proposal).where(Proposal.call_id == call.id, Proposal.id.in_(wanted))
        )
    }
    if len(proposals) != len(wanted):
        raise ExpertError(_("Some of the chosen proposals are not in this call."))
    assigned = set(
        db.session.scalars(
            select(Assignment.proposal_id).where(
                Assignment.expert_id == expert.id, Assignment.proposal_id.in_(wanted)
            )
        )
    )
    refusals: list[str] = []
    changed = 0
    for proposal_id in wanted:
        if (proposal_id in assigned) == assign:
            continue
        try:
            toggle_assignment(call, proposals[proposal_id], expert, actor=actor)
        except ExpertError as exc:
            refusals.append(str(exc.message))
        else:
            changed += 1
    if refusals:
        shown = " ".join(refusals[:REASONS_SHOWN])
        if len(refusals) > REASONS_SHOWN:
            shown += " " + _("And %(num)s more.", num=len(refusals) - REASONS_SHOWN)
        raise ExpertError(_("Nothing was changed: %(reasons)s", reasons=shown))
    return changed
