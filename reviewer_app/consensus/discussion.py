"""A proposal's discussion: its experts, its rapporteur and the coordinators, in the consensus.

HotCRP and pretalx give reviewers a thread per submission once their own review is in; the EU's
consensus meetings do the same by talking. Here the thread belongs to the proposal's consensus:
the experts of the panel who submitted a review, the rapporteur and the coordinators write,
observers read, and the panel hears of each message by e-mail (without its text, which stays
in the application). It is audited and never reaches the applicant's evaluation summary.
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.events import DiscussionPosted
from ..extensions import db
from ..labels import expert_letter_label
from ..mail import in_language_of, message_to
from ..models import DiscussionMessage, Proposal, Role, User
from ..models.audit import record
from .services import ConsensusError, NotAllowed, Part, access_for, check_open, expert_labels
from .services import submitted_reviews as reviewed


def thread(proposal: Proposal) -> list[DiscussionMessage]:
    """The proposal's messages, oldest first."""
    return list(
        db.session.scalars(
            select(DiscussionMessage)
            .where(DiscussionMessage.proposal_id == proposal.id)
            .order_by(DiscussionMessage.id)
            .options(joinedload(DiscussionMessage.author))
        )
    )


def author_labels(proposal: Proposal, messages: list[DiscussionMessage]) -> dict[int, str]:
    """Author id -> how the thread shows them: an expert as the call shows experts to each
    other ("Expert B" or the name), a coordinator by name and role."""
    labels = expert_labels(proposal, expert_letter_label)
    shown: dict[int, str] = {}
    for message in messages:
        author = message.author
        if author is None or author.id in shown:
            continue
        # The panel's label first: an expert stays "Expert B" in an anonymised call even if
        # their account later becomes a coordinator's.
        if author.id in labels:
            shown[author.id] = labels[author.id]
        elif author.role is Role.COORDINATOR:
            shown[author.id] = _("%(name)s (coordinator)", name=author.name)
        else:
            shown[author.id] = _("Former expert")
    return shown


def post_message(proposal: Proposal, actor: User, text: str) -> DiscussionMessage:
    """Add ``actor``'s message to the proposal's discussion.

    :raises NotAllowed: an observer, or an expert not (yet) in the panel's consensus.
    :raises ConsensusClosed: the call is not in the consensus phase.
    :raises ConsensusError: an empty message.
    """
    access = access_for(proposal, actor)
    if access.part is Part.OBSERVER or access.part is None or not access.can_read:
        raise NotAllowed(
            _l("Only the experts of the proposal and the coordinators take part in its discussion.")
        )
    check_open(proposal)
    text = text.strip()
    if not text:
        raise ConsensusError(_l("Write a message first."))
    message = DiscussionMessage(proposal_id=proposal.id, author_id=actor.id, text=text)
    db.session.add(message)
    db.session.flush()
    record(
        DiscussionPosted(proposal=proposal.reference, text=text),
        message,
        call_id=proposal.call_id,
        actor_id=actor.id,
    )
    return message


def discussion_notices(proposal: Proposal, author: User) -> list[EmailMessage]:
    """A notice to each expert of the panel who may read the discussion, but its author."""
    link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
        "consensus.proposal", proposal_id=proposal.id, _anchor="discussion"
    )
    messages = []
    for assignment in reviewed(proposal):
        expert = assignment.expert
        if expert.id == author.id or not expert.active:
            continue
        with in_language_of(expert):
            subject = _("New message in the discussion of %(proposal)s", proposal=proposal.label)
            body = _(
                "Dear %(name)s,\n\n"
                "there is a new message in the discussion of %(proposal)s (call “%(call)s”).\n"
                "Read it and answer: %(link)s\n",
                name=expert.name,
                proposal=proposal.label,
                call=proposal.call.title,
                link=link,
            )
        messages.append(message_to(expert, subject, body))
    return messages
