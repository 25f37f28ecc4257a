"""Experts of a call: invitations, the assignment matrix and automatic assignment.

Services add and flush; the view commits once. Mail goes out last, so that a mail server that
refuses the message rolls the whole request back instead of leaving an uninvited user behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.events import (
    AssignmentAdded,
    AssignmentRemoved,
    AutoAssigned,
    ExpertInvited,
    RapporteurChosen,
)
from ..auth.links import issue_link, link_url
from ..errors import DomainError
from ..extensions import db
from ..locks import lock_call
from ..mail import build_message, in_language_of, message_to, send_messages
from ..models import (
    Assignment,
    Call,
    ConflictDeclaration,
    LinkPurpose,
    Phase,
    Proposal,
    Review,
    Role,
    User,
)
from ..models.audit import record
from ..models.reviews import without_conflict
from ..paging import window
from ..planning.assignment import (
    AssignmentInput,
    AssignmentPlan,
    BlockReason,
    ExpertSlot,
    ProposalSlot,
    block_reason,
    pair_block_reason,
    plan_assignments,
)


class ExpertError(DomainError):
    """The change is refused; the message says why."""


def block_reason_label(reason: BlockReason) -> str:
    return {
        BlockReason.DECLARED_CONFLICT: _("declared a conflict"),
        BlockReason.SAME_COUNTRY: _("same country as the proposal"),
        BlockReason.SAME_ORGANISATION: _("works for the applicant"),
    }[reason]


def parse_keywords(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for word in text.replace(";", ",").split(","):
        word = " ".join(word.split())
        if word and word.lower() not in seen:
            seen[word.lower()] = word
    return list(seen.values())


def _invitation_message(user: User, token: str, call: Call | None) -> EmailMessage:
    days = current_app.config["INVITATION_VALID_DAYS"]
    with in_language_of(user):
        subject = (
            _("Invitation to evaluate proposals: %(call)s", call=call.title)
            if call
            else _("Invitation to evaluate proposals")
        )
        body = _(
            "Dear %(name)s,\n\n"
            "you are invited as an independent expert%(for_call)s.\n\n"
            "Open this link to set your password and see your assignments:\n%(link)s\n\n"
            "The link works once and expires in %(days)s days. If it has expired, ask the "
            "coordinator for a new one.\n",
            name=user.name,
            for_call=(" " + _("for the call “%(call)s”", call=call.title)) if call else "",
            link=link_url(token, LinkPurpose.INVITATION),
            days=days,
        )
    return build_message(user.email, subject, body, to_name=user.name)


def invite_expert(
    *,
    name: str,
    email: str,
    organisation: str,
    country: str | None,
    expertise: list[str],
    language: str,
    invited_by: User,
    call: Call | None = None,
) -> User:
    """Create an expert without a password and e-mail them a single-use invitation link.

    :raises ExpertError: the e-mail address is already in use.
    :raises MailError: the mail could not be sent (roll back: nothing is kept).
    """
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ExpertError(_("A user with this e-mail address already exists."), "email")
    user = User(
        email=email,
        name=name,
        organisation=organisation,
        country=country or None,
        expertise=expertise,
        role=Role.EXPERT,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    token = issue_link(user, LinkPurpose.INVITATION, invited_by)
    record(
        ExpertInvited(email=email), user, call_id=call.id if call else None, actor_id=invited_by.id
    )
    db.session.flush()
    send_messages([_invitation_message(user, token, call)])
    return user


def resend_invitation(user: User, invited_by: User, call: Call | None = None) -> None:
    """A fresh invitation link for an expert who has not set a password yet.

    :raises ExpertError: the expert already has a password.
    :raises MailError: the mail could not be sent.
    """
    if user.password_hash is not None:
        raise ExpertError(_("%(name)s has already set a password.", name=user.name))
    token = issue_link(user, LinkPurpose.INVITATION, invited_by)
    db.session.flush()
    send_messages([_invitation_message(user, token, call)])


@dataclass
class Cell:
    assignment: Assignment | None
    blocked: BlockReason | None


@dataclass
class Matrix:
    proposals: list[Proposal]
    experts: list[User]
    cells: dict[tuple[int, int], Cell]
    loads: dict[int, int]
    staffed: dict[int, int]
    min_reviews: int
    # The window shown: a page of rows (proposals) and a page of columns (experts), so the
    # page stays the same size for 7 proposals or 10,000 (its HTML grew with their product).
    row_page: int = 1
    row_pages: int = 1
    rows_matching: int = 0
    column_page: int = 1
    column_pages: int = 1
    columns_matching: int = 0

    @property
    def first_row(self) -> int:
        return (self.row_page - 1) * MATRIX_ROWS + 1

    @property
    def first_column(self) -> int:
        return (self.column_page - 1) * MATRIX_COLUMNS + 1


MATRIX_ROWS = 50
MATRIX_COLUMNS = 25


def _window(items: list[Any], page: int, per: int) -> tuple[list[Any], int, int]:
    shown = window(len(items), page, per)
    return items[shown.offset : shown.offset + per], shown.page, shown.pages


def _call_proposals(call: Call) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .order_by(Proposal.reference)
            .options(
                selectinload(Proposal.assignments).selectinload(Assignment.declaration),
                selectinload(Proposal.assignments).selectinload(Assignment.review),
            )
        )
    )


def active_experts() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.EXPERT, User.active.is_(True)).order_by(User.name)
        )
    )


def _planning_input(call: Call, proposals: list[Proposal], experts: list[User]) -> AssignmentInput:
    rules = call.scheme
    pairs = [(a.proposal_id, a.expert_id, a) for p in proposals for a in p.assignments]
    return AssignmentInput(
        proposals=tuple(ProposalSlot(p.id, p.country, p.applicant) for p in proposals),
        experts=tuple(ExpertSlot(e.id, e.country, e.organisation) for e in experts),
        min_reviews=rules.rules.min_reviews,
        existing=frozenset((pid, eid) for pid, eid, _a in pairs),
        conflicts=frozenset((pid, eid) for pid, eid, a in pairs if a.has_conflict),
        rapporteurs=frozenset((pid, eid) for pid, eid, a in pairs if a.is_rapporteur),
        same_country=rules.conflicts.same_country,
        same_organisation=rules.conflicts.same_organisation,
    )


def matches_query(query: str, *texts: str | None) -> bool:
    words = query.casefold().split()
    if not words:
        return True
    haystack = " ".join(t or "" for t in texts).casefold()
    return all(word in haystack for word in words)


def _matching_ids(
    query: str,
    id_column: Any,
    searched: tuple[Any, ...],
    where: tuple[Any, ...],
    order_by: tuple[Any, ...],
    texts: Callable[[Sequence[Any]], Sequence[str | None]] = lambda row: row,
) -> list[int]:
    """Ids (``id_column``, narrowed by ``where``, in ``order_by``) whose ``searched`` columns
    match ``query``, matched here on plain tuples (``texts`` makes a row's texts). Without a
    query, the ids alone: the searched columns are read only to be searched."""
    if not query.split():
        return list(db.session.scalars(select(id_column).where(*where).order_by(*order_by)))
    rows = db.session.execute(select(id_column, *searched).where(*where).order_by(*order_by)).all()
    return [row[0] for row in rows if matches_query(query, *texts(row[1:]))]


def matching_proposal_ids(call: Call, query: str, *where: Any) -> list[int]:
    """Ids of the call's proposals (narrowed by ``where``) that match ``query``, in reference
    order; the page then loads only its window as objects."""
    return _matching_ids(
        query,
        Proposal.id,
        (
            Proposal.reference,
            Proposal.acronym,
            Proposal.title,
            Proposal.applicant,
            Proposal.country,
        ),
        (Proposal.call_id == call.id, *where),
        (Proposal.reference,),
    )


def _matching_expert_ids(query: str) -> list[int]:
    """Ids of the active experts that match ``query`` (their expertise among the texts), by
    name, then id, so that equal names keep one order from page to page."""
    return _matching_ids(
        query,
        User.id,
        (User.name, User.email, User.organisation, User.country, User.expertise),
        (User.role == Role.EXPERT, User.active.is_(True)),
        (User.name, User.id),
        texts=lambda row: (*row[:4], *(row[4] or ())),
    )


def assignment_counts(call: Call, column: Any, ids: list[int]) -> dict[int, int]:
    """Assignments of the call without a declared conflict, counted in SQL per ``column`` (the
    expert or the proposal) for the ``ids`` shown: each count covers the whole call."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(column, func.count())
        .select_from(Assignment)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .outerjoin(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
        .where(
            Proposal.call_id == call.id,
            column.in_(ids),
            without_conflict(),
        )
        .group_by(column)
    )
    return {int(key): int(count) for key, count in rows}


def assignment_matrix(
    call: Call,
    *,
    proposal_query: str = "",
    expert_query: str = "",
    row_page: int = 1,
    column_page: int = 1,
) -> Matrix:
    """Proposals x active experts: who is assigned, who is blocked and why, loads and staffing.

    The queries narrow the rows and columns shown, and only one page of each is shown
    (``MATRIX_ROWS`` x ``MATRIX_COLUMNS``); loads and staffing always count everything. Only
    the window's proposals are loaded with their assignments: the page's work does not grow
    with the call (at 10,000 proposals, loading them all took 12 s).
    """
    matching_ids = matching_proposal_ids(call, proposal_query)
    matching_experts = _matching_expert_ids(expert_query)
    rows_matching, columns_matching = len(matching_ids), len(matching_experts)
    shown_ids, row_page, row_pages = _window(matching_ids, row_page, MATRIX_ROWS)
    expert_ids, column_page, column_pages = _window(matching_experts, column_page, MATRIX_COLUMNS)
    by_id = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(expert_ids)))}
    shown_experts = [by_id[i] for i in expert_ids]
    loaded = {
        p.id: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.id.in_(shown_ids))
            .options(selectinload(Proposal.assignments).selectinload(Assignment.declaration))
        )
    }
    shown_proposals = [loaded[i] for i in shown_ids]
    data = _planning_input(call, shown_proposals, shown_experts)
    loads = assignment_counts(call, Assignment.expert_id, [e.id for e in shown_experts])
    staffed = assignment_counts(call, Assignment.proposal_id, shown_ids)
    slots_p = {s.id: s for s in data.proposals}
    slots_e = {s.id: s for s in data.experts}
    cells: dict[tuple[int, int], Cell] = {}
    for proposal in shown_proposals:
        by_expert = {a.expert_id: a for a in proposal.assignments}
        for expert in shown_experts:
            cells[proposal.id, expert.id] = Cell(
                by_expert.get(expert.id),
                block_reason(data, slots_p[proposal.id], slots_e[expert.id]),
            )
    return Matrix(
        shown_proposals,
        shown_experts,
        cells,
        {e.id: loads.get(e.id, 0) for e in shown_experts},
        {p.id: staffed.get(p.id, 0) for p in shown_proposals},
        data.min_reviews,
        row_page=row_page,
        row_pages=row_pages,
        rows_matching=rows_matching,
        column_page=column_page,
        column_pages=column_pages,
        columns_matching=columns_matching,
    )


def check_assignable_phase(call: Call) -> None:
    if lock_call(call) not in (Phase.SETUP, Phase.EVALUATION):
        raise ExpertError(_("Assignments can be changed only during set-up and evaluation."))


def toggle_assignment(call: Call, proposal: Proposal, expert: User, *, actor: User | None) -> bool:
    """Assign ``expert`` to ``proposal``, or remove the assignment; returns True when assigned.

    :raises ExpertError: wrong phase; the expert is blocked by a conflict rule; or the expert
        has already started a review or declared a conflict, which removing would lose.
    """
    check_assignable_phase(call)
    if expert.role is not Role.EXPERT:
        raise ExpertError(_("Only experts can be assigned."))
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.proposal_id == proposal.id, Assignment.expert_id == expert.id
        )
    )
    if assignment is not None:
        if assignment.review is not None or assignment.declaration is not None:
            raise ExpertError(
                _(
                    "%(expert)s has already declared on or reviewed %(proposal)s; the assignment "
                    "is kept so that nothing is lost.",
                    expert=expert.name,
                    proposal=proposal.reference,
                )
            )
        record(
            AssignmentRemoved(proposal=proposal.reference, expert_id=expert.id),
            assignment,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
        db.session.delete(assignment)
        db.session.flush()
        return False
    rules = call.scheme.conflicts
    reason = pair_block_reason(
        ProposalSlot(proposal.id, proposal.country, proposal.applicant),
        ExpertSlot(expert.id, expert.country, expert.organisation),
        same_country=rules.same_country,
        same_organisation=rules.same_organisation,
    )
    if reason is not None:
        raise ExpertError(
            _(
                "%(expert)s cannot evaluate %(proposal)s: %(reason)s.",
                expert=expert.name,
                proposal=proposal.reference,
                reason=block_reason_label(reason),
            )
        )
    assignment = Assignment(proposal=proposal, expert=expert)
    db.session.add(assignment)
    db.session.flush()
    record(
        AssignmentAdded(proposal=proposal.reference, expert_id=expert.id),
        assignment,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    return True


def set_rapporteur(call: Call, proposal: Proposal, expert: User, *, actor: User | None) -> None:
    """Make ``expert`` the one rapporteur of ``proposal``.

    :raises ExpertError: wrong phase, or the expert is not assigned without a conflict.
    """
    if call.phase not in (Phase.SETUP, Phase.EVALUATION, Phase.CONSENSUS):
        raise ExpertError(_("The rapporteur can no longer change in this phase."))
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.proposal_id == proposal.id)
        .options(selectinload(Assignment.declaration))
    ).all()
    chosen = next((a for a in assignments if a.expert_id == expert.id), None)
    if chosen is None or chosen.has_conflict:
        raise ExpertError(
            _(
                "Only an expert assigned to %(proposal)s without a conflict can be its rapporteur.",
                proposal=proposal.reference,
            )
        )
    for assignment in assignments:
        assignment.is_rapporteur = assignment is chosen
    record(
        RapporteurChosen(proposal=proposal.reference, expert_id=expert.id),
        chosen,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    db.session.flush()


def auto_assign(call: Call, *, actor: User | None) -> AssignmentPlan:
    """Apply :func:`plan_assignments` to the call: new assignments and missing rapporteurs.

    :raises ExpertError: wrong phase.
    """
    check_assignable_phase(call)
    proposals = _call_proposals(call)
    experts = active_experts()
    plan = plan_assignments(_planning_input(call, proposals, experts))
    for proposal_id, expert_id in plan.new:
        db.session.add(Assignment(proposal_id=proposal_id, expert_id=expert_id))
    db.session.flush()
    if plan.rapporteurs:
        wanted = set(plan.rapporteurs)
        for assignment in db.session.scalars(
            select(Assignment).where(
                Assignment.proposal_id.in_([pid for pid, _e in plan.rapporteurs])
            )
        ):
            if (assignment.proposal_id, assignment.expert_id) in wanted:
                assignment.is_rapporteur = True
    record(
        AutoAssigned(
            new=[list(pair) for pair in plan.new],
            rapporteurs=[list(pair) for pair in plan.rapporteurs],
            shortfalls=[s.proposal_id for s in plan.shortfalls],
        ),
        call,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    db.session.flush()
    return plan


def notify_reopened(review: Review, reason: str) -> None:
    """Tell the expert their review is open again, and why.

    :raises MailError: the mail could not be sent (roll back: the review stays submitted).
    """
    assignment = review.assignment
    expert, proposal = assignment.expert, assignment.proposal
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with in_language_of(expert):
        subject = _("Your review of %(proposal)s is open again", proposal=proposal.label)
        body = _(
            "Dear %(name)s,\n\n"
            "the coordinator of the call “%(call)s” has reopened your review of %(proposal)s, "
            "for this reason:\n\n%(reason)s\n\n"
            "Please correct it and submit it again: %(link)s\n",
            name=expert.name,
            call=proposal.call.title,
            proposal=proposal.label,
            reason=reason.strip(),
            link=f"{base}/",
        )
    send_messages([message_to(expert, subject, body)])
