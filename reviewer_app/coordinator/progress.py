"""Progress of a call's evaluation, and reminders to experts with open work.

The dashboard is built in a fixed number of queries whatever the size of the call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.events import DueDateSet, ReminderSent
from ..display import criterion_titles, display_date
from ..errors import DomainError
from ..extensions import db
from ..mail import in_language_of, message_to, proposal_lines, public_url, send_messages
from ..models import Assignment, AuditEvent, Call, Phase, Proposal, User, utcnow
from ..models.audit import record
from ..ranking import rank_call
from ..scoring.engine import EvaluationError, ProposalResult
from ..scoring.flags import Flag, FlagKind


class ReminderError(DomainError):
    """No reminder can be sent; the message says why."""

    category = "warning"


@dataclass
class ProposalProgress:
    proposal: Proposal
    assigned: int = 0
    submitted: int = 0
    # (expert, reason); the reason is None where the reader may not see it (observers).
    conflicts: list[tuple[User, str | None]] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)  # criterion titles


@dataclass
class ExpertProgress:
    expert: User
    assigned: int = 0
    submitted: int = 0
    last_activity: datetime | None = None
    overdue: list[Proposal] = field(default_factory=list)
    open: list[Proposal] = field(default_factory=list)
    due: date | None = None  # the earliest due date of the open work


@dataclass
class Progress:
    proposals: list[ProposalProgress]
    experts: list[ExpertProgress]
    flags_available: bool


def _is_open(assignment: Assignment) -> bool:
    return not assignment.has_conflict and (
        assignment.review is None or not assignment.review.is_submitted
    )


def due_date(assignment: Assignment, call: Call) -> date | None:
    return assignment.due_date or call.deadline


def _assignments(call: Call) -> list[Assignment]:
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id)
            .options(
                selectinload(Assignment.expert),
                selectinload(Assignment.declaration),
                selectinload(Assignment.review),
            )
        )
    )


def _disagreements(call: Call) -> dict[str, list[str]] | None:
    """Criterion titles flagged for disagreement per proposal reference; None if unavailable."""
    try:
        ranking = rank_call(call)
    except EvaluationError:
        return None
    return disagreement_titles(call, ranking.rows)


def disagreement_titles(call: Call, rows: Iterable[ProposalResult]) -> dict[str, list[str]]:
    """The titles of the criteria flagged for disagreement, per proposal reference."""
    titles = criterion_titles(call.scheme)
    flagged: dict[str, list[str]] = {}
    for row in rows:
        for flag in row.flags:
            parsed = Flag.parse(flag)
            if parsed.kind is FlagKind.DISAGREEMENT and parsed.criterion:
                key = parsed.criterion
                flagged.setdefault(row.reference, []).append(titles.get(key, key))
    return flagged


def call_progress(
    call: Call, today: date | None = None, *, with_conflict_reasons: bool = False
) -> Progress:
    """Per proposal and per expert: what is done, what is open, what is late."""
    today = today or utcnow().date()
    proposals = list(
        db.session.scalars(
            select(Proposal).where(Proposal.call_id == call.id).order_by(Proposal.reference)
        )
    )
    by_proposal = {p.id: ProposalProgress(p) for p in proposals}
    by_expert: dict[int, ExpertProgress] = {}
    for assignment in _assignments(call):
        row = by_proposal[assignment.proposal_id]
        expert = by_expert.setdefault(assignment.expert_id, ExpertProgress(assignment.expert))
        if assignment.has_conflict:
            declaration = assignment.declaration
            reason = declaration.reason if with_conflict_reasons and declaration else None
            row.conflicts.append((assignment.expert, reason))
            continue
        row.assigned += 1
        expert.assigned += 1
        review = assignment.review
        if review is not None and (
            expert.last_activity is None or review.updated_at > expert.last_activity
        ):
            expert.last_activity = review.updated_at
        if review is not None and review.is_submitted:
            row.submitted += 1
            expert.submitted += 1
            continue
        expert.open.append(row.proposal)
        due = due_date(assignment, call)
        if due is not None and (expert.due is None or due < expert.due):
            expert.due = due
        if due is not None and due < today:
            expert.overdue.append(row.proposal)
    if by_expert:
        latest = db.session.execute(
            select(AuditEvent.actor_id, func.max(AuditEvent.at))
            .where(AuditEvent.actor_id.in_(list(by_expert)))
            .group_by(AuditEvent.actor_id)
        ).tuples()
        for actor_id, at in latest:
            if actor_id is None:
                continue
            expert = by_expert[actor_id]
            if expert.last_activity is None or at > expert.last_activity:
                expert.last_activity = at
    flags = _disagreements(call)
    for row in by_proposal.values():
        row.disagreements = (flags or {}).get(row.proposal.reference, [])
    experts = sorted(by_expert.values(), key=lambda e: e.expert.name.lower())
    return Progress(list(by_proposal.values()), experts, flags is not None)


def _reminder(call: Call, expert: User, proposals: list[Proposal]) -> EmailMessage:
    with in_language_of(expert):
        deadline = (
            _("The deadline is %(date)s.", date=display_date(call.deadline))
            if call.deadline
            else ""
        )
        body = _(
            "Dear %(name)s,\n\n"
            "a reminder for the call “%(call)s”: these proposals still wait for your review:\n"
            "%(list)s\n\n%(deadline)s\nSign in to continue: %(link)s\n",
            name=expert.name,
            call=call.title,
            list=proposal_lines(proposals),
            deadline=deadline,
            link=public_url(),
        )
        subject = _("Reminder: reviews open for %(call)s", call=call.title)
    return message_to(expert, subject, body)


def send_reminders(call: Call, expert: User | None = None, *, actor: User | None) -> int:
    """E-mail every expert with open work in ``call`` (or only ``expert``); returns how many.

    :raises ReminderError: the call is not in evaluation, or nobody has open work.
    :raises MailError: the mail server refused; the caller rolls back, nothing is recorded.
    """
    if call.phase is not Phase.EVALUATION:
        raise ReminderError(_("Reminders are sent only while the call is in evaluation."))
    progress = call_progress(call)
    targets = [
        e for e in progress.experts if e.open and (expert is None or e.expert.id == expert.id)
    ]
    if not targets:
        raise ReminderError(_("Nobody has open reviews: no reminder was sent."))
    messages = []
    for item in targets:
        messages.append(_reminder(call, item.expert, item.open))
        record(
            ReminderSent(proposals=[p.reference for p in item.open]),
            item.expert,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    db.session.flush()
    send_messages(messages)
    return len(messages)


def set_due_date(call: Call, expert: User, due: date | None, *, actor: User | None) -> int:
    """Give ``expert`` until ``due`` for their open work in ``call`` (None: the call deadline).

    Returns how many assignments changed.

    :raises ReminderError: the call is not in set-up or evaluation, or the expert has no open work.
    """
    if call.phase not in (Phase.SETUP, Phase.EVALUATION):
        raise ReminderError(_("Due dates can be changed only during set-up and evaluation."))
    open_work = [a for a in _assignments(call) if a.expert_id == expert.id and _is_open(a)]
    if not open_work:
        raise ReminderError(_("%(name)s has no open reviews in this call.", name=expert.name))
    for assignment in open_work:
        assignment.due_date = due
    record(
        DueDateSet(
            due_date=due.isoformat() if due else None,
            proposals=sorted(a.proposal.reference for a in open_work),
        ),
        expert,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    db.session.flush()
    return len(open_work)
