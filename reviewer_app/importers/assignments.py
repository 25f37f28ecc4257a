"""Importing the assignment of experts to a call's proposals."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select

from ..audit.events import (
    AssignmentAdded,
)
from ..extensions import db
from ..models import (
    Assignment,
    Call,
    Phase,
    Proposal,
    User,
)
from ..models.audit import record
from ..planning.assignment import BlockReason, ExpertSlot, ProposalSlot, pair_block_reason
from .checks import (
    Check,
    check_phase,
    known_expert,
    known_proposal,
    normalise_email,
    proposals_by_reference,
    users_by_email,
)
from .tables import Table

# --- assignments --------------------------------------------------------------------------------


def import_assignments(call: Call, table: Table, *, actor: User | None) -> list[Assignment]:
    """Assign experts to proposals of ``call`` (columns ``proposal``: reference, ``expert``:
    e-mail; optional ``rapporteur``: yes/no), in the ``setup`` or ``evaluation`` phase.

    The scheme's automatic conflict rules apply: an expert from the applicant's country
    (``same_country``) or organisation (``same_organisation``) is refused.

    :raises ImportRejected: unknown proposal or expert, a pair already assigned or twice in the file.
    """
    check_phase(call, (Phase.SETUP, Phase.EVALUATION), "assignments")
    check = Check()
    check.require_columns(table, ("proposal", "expert"))
    check.raise_if_any()
    proposals = proposals_by_reference(call)
    rows = [(row, normalise_email(check, row, "expert")) for row in table.rows]
    experts = users_by_email({email for _, email in rows if email})
    assigned = set(
        db.session.execute(
            select(Assignment.proposal_id, Assignment.expert_id)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id)
        )
        .tuples()
        .all()
    )
    conflicts = call.scheme.conflicts
    seen: dict[str, int | None] = {}
    assignments: list[Assignment] = []
    for row, email in rows:
        proposal = known_proposal(check, row, proposals)
        expert = known_expert(check, row, experts, email)
        rapporteur = check.flag(row, "rapporteur")
        if proposal is None or expert is None:
            continue
        check.unique(row, "expert", f"{proposal.reference} / {email}", seen)
        if (proposal.id, expert.id) in assigned:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s is already assigned to %(ref)s", email=email, ref=proposal.reference
                ),
            )
        blocked = pair_block_reason(
            ProposalSlot(proposal.id, proposal.country, proposal.applicant),
            ExpertSlot(expert.id, expert.country, expert.organisation),
            same_country=conflicts.same_country,
            same_organisation=conflicts.same_organisation,
        )
        if blocked is BlockReason.SAME_COUNTRY:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s is from the applicant's country (%(country)s): the call's "
                    "conflict rules exclude it",
                    email=email,
                    country=proposal.country,
                ),
            )
        elif blocked is BlockReason.SAME_ORGANISATION:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s works for the applicant (%(applicant)s): the call's conflict "
                    "rules exclude it",
                    email=email,
                    applicant=proposal.applicant,
                ),
            )
        assignments.append(
            Assignment(proposal_id=proposal.id, expert_id=expert.id, is_rapporteur=rapporteur)
        )
    if not table.rows:
        check.add(None, None, gettext("the file has no assignments"))
    check.raise_if_any()
    db.session.add_all(assignments)
    db.session.flush()
    for assignment in assignments:
        record(  # the same event as an assignment made in the matrix
            AssignmentAdded(proposal=assignment.proposal.reference, expert_id=assignment.expert_id),
            assignment,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    return assignments
