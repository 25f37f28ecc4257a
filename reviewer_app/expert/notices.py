"""What the coordinators hear of an expert's step: a conflict found after opening."""

from __future__ import annotations

from email.message import EmailMessage

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.events import LateConflictDeclared
from ..extensions import db
from ..mail import in_language_of, message_to, public_url
from ..models import Assignment, Role, User


def late_conflict_notices(
    assignment: Assignment, event: LateConflictDeclared
) -> list[EmailMessage]:
    """One message to each active coordinator, in their language. The reason stays in the
    application (coordinators read it on the proposal's page), not in a mailbox."""
    proposal = assignment.proposal
    call = proposal.call
    link = public_url(url_for("coordinator.proposal_detail", key=call.key, proposal_id=proposal.id))
    # A final consensus may rest on what the expert said in the panel.
    agreed = proposal.consensus is not None and proposal.consensus.is_final
    coordinators = db.session.scalars(
        select(User).where(User.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.id)
    ).all()
    messages = []
    for coordinator in coordinators:
        with in_language_of(coordinator):
            subject = _("Conflict of interest declared for %(proposal)s", proposal=proposal.label)
            steps = [
                _(
                    "%(expert)s has declared a conflict of interest with %(proposal)s "
                    "in the call “%(call)s”, after the proposal had opened for them.",
                    expert=assignment.expert.name,
                    proposal=proposal.label,
                    call=call.title,
                )
            ]
            if event.review_withdrawn:
                steps.append(_("Their review is kept in the record but no longer counts."))
            if event.was_rapporteur:
                steps.append(_("They were the proposal's rapporteur: please name another."))
            if agreed and event.review_withdrawn:
                steps.append(
                    _(
                        "The proposal's consensus report is final and was agreed with them: "
                        "check whether it still stands, and reopen it if not."
                    )
                )
            body = _(
                "Dear %(name)s,\n\n%(what)s\n\n"
                "Read their reason and assign another expert if needed: %(link)s\n",
                name=coordinator.name,
                what="\n".join(steps),
                link=link,
            )
        messages.append(message_to(coordinator, subject, body))
    return messages
