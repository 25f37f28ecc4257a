"""Reminding rapporteurs of the consensus reports that are not final yet."""

from __future__ import annotations

from collections import defaultdict
from email.message import EmailMessage

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.events import RapporteurReminded
from ..display import display_date
from ..extensions import db
from ..mail import in_language_of, message_to, proposal_lines, public_url, send_messages
from ..models import Assignment, Call, ConsensusReport, Phase, Proposal, User
from ..models.audit import record
from .services import ConsensusError


def open_reports(call: Call) -> dict[User, list[Proposal]]:
    """Each rapporteur of ``call`` with the proposals whose consensus report is not final
    (none yet, or a draft), in reference order."""
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call.id, Assignment.is_rapporteur.is_(True))
        .order_by(Proposal.reference)
        .options(
            joinedload(Assignment.proposal).joinedload(Proposal.consensus),
            joinedload(Assignment.expert),
            joinedload(Assignment.declaration),
        )
    ).unique()
    found: dict[User, list[Proposal]] = defaultdict(list)
    for assignment in assignments:
        report: ConsensusReport | None = assignment.proposal.consensus
        if (
            assignment.has_conflict
            or not assignment.expert.active
            or (report is not None and report.is_final)
        ):
            continue
        found[assignment.expert].append(assignment.proposal)
    return dict(found)


def remind_rapporteurs(call: Call, *, actor: User | None) -> int:
    """E-mail every rapporteur with a consensus report of ``call`` not final yet; returns how
    many were told. One audit event per rapporteur.

    :raises ConsensusError: the call is not in consensus, or every report is final.
    :raises MailError: the mail server refused; the caller rolls back, nothing is recorded.
    """
    if call.phase is not Phase.CONSENSUS:
        raise ConsensusError(_l("Rapporteurs are reminded only while the call is in consensus."))
    found = open_reports(call)
    if not found:
        raise ConsensusError(_l("Every rapporteur's reports are final: no reminder was sent."))
    messages = []
    for rapporteur, proposals in sorted(found.items(), key=lambda item: item[0].id):
        messages.append(_reminder(call, rapporteur, proposals))
        record(
            RapporteurReminded(proposals=[p.reference for p in proposals]),
            rapporteur,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    db.session.flush()
    send_messages(messages)
    return len(messages)


def _reminder(call: Call, rapporteur: User, proposals: list[Proposal]) -> EmailMessage:
    with in_language_of(rapporteur):
        due = (
            _("They are due on %(date)s.", date=display_date(call.consensus_deadline))
            if call.consensus_deadline
            else ""
        )
        body = _(
            "Dear %(name)s,\n\n"
            "a reminder for the call “%(call)s”: as rapporteur, these consensus reports still "
            "wait to be drafted or agreed:\n%(list)s\n\n%(due)s\nSign in to continue: %(link)s\n",
            name=rapporteur.name,
            call=call.title,
            list=proposal_lines(proposals),
            due=due,
            link=public_url("/consensus/"),
        )
        subject = _("Reminder: consensus reports open for %(call)s", call=call.title)
    return message_to(rapporteur, subject, body)
