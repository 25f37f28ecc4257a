"""Making a consensus report final (one, or every draft the whole panel approved) and reopening
it: what a final report must hold, and the checks before it is made so."""

from __future__ import annotations

import re
from collections.abc import Collection

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.events import (
    ConsensusFinalised,
    ConsensusReopened,
)
from ..extensions import db
from ..locks import lock_call
from ..models import (
    Assignment,
    Call,
    ConsensusReport,
    ConsensusStatus,
    Phase,
    Proposal,
    Review,
    Role,
    SavedThrough,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.versions import keep_version
from ..pseudonyms import panel_letters
from .mentions import OVERALL_COMMENT, mention_pattern, naming
from .services import (
    ConsensusClosed,
    ConsensusError,
    NotAllowed,
    StaleReport,
    approval_is_current,
    check_open,
    effect_of,
    flush_report,
    scores_of,
    submitted_reviews,
)


def finalise(proposal: Proposal, actor: User, *, version: int) -> ConsensusReport:
    """Mark the consensus final: from now on its scores are the proposal's scores.

    :raises NotAllowed: the actor is not a coordinator.
    :raises ConsensusClosed: wrong phase, no draft, or already final.
    :raises StaleReport: the report changed since ``version``.
    :raises ConsensusError: what :func:`finalise_problems` finds (a criterion without a
        comment, a comment naming an expert, a threshold crossed without a justification).
    """
    if actor.role is not Role.COORDINATOR:
        raise NotAllowed(_l("Only a coordinator marks a consensus report final."))
    check_open(proposal)
    report = proposal.consensus
    if report is None:
        raise ConsensusClosed(_l("There is no consensus draft yet."))
    if report.is_final:
        raise ConsensusClosed(_l("The report is already final."))
    if version != report.version:
        raise StaleReport(_l("The report changed since you opened it: check it again."))
    problems = finalise_problems(report, proposal)
    if problems:
        raise ConsensusError(" ".join(problems))
    _mark_final(report, proposal, actor)
    return report


def finalise_problems(report: ConsensusReport, proposal: Proposal) -> list[str]:
    """Why the report cannot be made final yet, one sentence each (empty: it can).

    - Every criterion needs a score and a comment of at least ``rules.comment_min_chars``.
    - The comments go to the applicant: they name no expert (no "Expert A", no name).
    - A consensus that crosses a threshold against the reviews' aggregate needs a justification.
    """
    problems = []
    missing = _incomplete_criteria(report, proposal)
    if missing:
        minimum = proposal.call.scheme.rules.comment_min_chars
        problems.append(
            _(
                "Every criterion needs a score and a comment of at least %(min)s characters "
                "before the report is final: %(criteria)s.",
                min=max(minimum, 1),
                criteria=", ".join(missing),
            )
        )
    named = _naming_experts(report, proposal)
    if named:
        problems.append(
            _(
                "The consensus comments go to the applicant and must not name an expert: "
                "%(criteria)s.",
                criteria=", ".join(named),
            )
        )
    effect = effect_of(proposal, scores_of(report, proposal))
    if effect.needs_justification and not report.justification.strip():
        problems.append(
            _(
                "The consensus crosses a threshold that the reviews' aggregate does not "
                "(or the other way round): say why in the justification."
            )
        )
    return problems


def _incomplete_criteria(report: ConsensusReport, proposal: Proposal) -> list[str]:
    minimum = max(proposal.call.scheme.rules.comment_min_chars, 1)
    by_criterion = {s.criterion_id: s for s in report.scores}
    return [
        c.title
        for c in proposal.call.criteria
        if c.id not in by_criterion
        or by_criterion[c.id].value is None
        or len(by_criterion[c.id].comment.strip()) < minimum
    ]


def expert_mentions(proposal: Proposal) -> re.Pattern[str] | None:
    """How a text could name an expert of the proposal (``mentions.mention_pattern``)."""
    letters = panel_letters(
        (a.id, a.expert_id, a.conflict_before_opening) for a in proposal.assignments
    )
    return mention_pattern((a.expert.name for a in proposal.assignments), letters.values())


def _naming_experts(report: ConsensusReport, proposal: Proposal) -> list[str]:
    """The titles of the criteria (and "Overall comment") whose consensus text names an expert
    of the proposal."""
    pattern = expert_mentions(proposal)
    by_criterion = {s.criterion_id: s.comment for s in report.scores}
    titles: dict[int | str, str] = {c.id: c.title for c in proposal.call.criteria}
    titles[OVERALL_COMMENT] = _("Overall comment")
    comments: dict[int | str, str] = {
        c.id: by_criterion[c.id] for c in proposal.call.criteria if c.id in by_criterion
    }
    comments[OVERALL_COMMENT] = report.overall_comment
    return [titles[key] for key in naming(comments, pattern)]


def _mark_final(
    report: ConsensusReport, proposal: Proposal, actor: User, *, all_approved: bool = False
) -> None:
    report.status = ConsensusStatus.FINAL
    report.finalised_at = utcnow()
    report.finalised_by_id = actor.id
    flush_report()
    kept = keep_version(report, SavedThrough.FINALISE, saved_by_id=actor.id)
    effect = effect_of(proposal, scores_of(report, proposal))
    record(
        ConsensusFinalised(
            proposal=proposal.reference,
            all_approved=all_approved,
            version=kept.number,
            crossed=list(effect.crossings),
            justification=report.justification if effect.needs_justification else "",
        ),
        report,
        call_id=proposal.call_id,
        actor_id=actor.id,
    )


def approved_by_everyone(proposal: Proposal) -> bool:
    """Every other expert with a submitted review approves the current draft (and there is at
    least one), and nothing stops it being final (:func:`finalise_problems`): it can be made
    final without another look."""
    report = proposal.consensus
    if report is None or report.is_final:
        return False
    others = {a.expert_id for a in submitted_reviews(proposal) if not a.is_rapporteur}
    approving = {
        a.expert_id for a in report.approvals if a.approved and approval_is_current(a, report)
    }
    return bool(others) and others <= approving and not finalise_problems(report, proposal)


def finalise_approved(call: Call, actor: User) -> list[Proposal]:
    """Mark final every draft of the call that all its other experts approved as it stands.

    :raises NotAllowed: the actor is not a coordinator.
    :raises ConsensusClosed: the call is not in the consensus phase.
    """
    if actor.role is not Role.COORDINATOR:
        raise NotAllowed(_l("Only a coordinator marks a consensus report final."))
    if lock_call(call) is not Phase.CONSENSUS:
        raise ConsensusClosed(
            _l("The call is not in the consensus phase: the report is read-only.")
        )
    done = []
    for proposal in call_proposals(call):
        if approved_by_everyone(proposal):
            assert proposal.consensus is not None
            _mark_final(proposal.consensus, proposal, actor, all_approved=True)
            done.append(proposal)
    return done


def call_proposals(call: Call, ids: Collection[int] | None = None) -> list[Proposal]:
    """The call's proposals (or only ``ids``) with panels, reviews and consensus, in a fixed
    number of queries."""
    only = () if ids is None else (Proposal.id.in_(list(ids)),)
    proposals = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, *only)
        .order_by(Proposal.reference)
        .options(
            selectinload(Proposal.assignments).joinedload(Assignment.expert),
            selectinload(Proposal.assignments).joinedload(Assignment.declaration),
            selectinload(Proposal.assignments)
            .joinedload(Assignment.review)
            .selectinload(Review.scores),
            selectinload(Proposal.consensus).selectinload(ConsensusReport.approvals),
            selectinload(Proposal.consensus).selectinload(ConsensusReport.scores),
        )
    ).all()
    for proposal in proposals:
        proposal.call = call  # already loaded: spares one query per proposal
    return list(proposals)


def reopen(proposal: Proposal, actor: User, *, version: int) -> ConsensusReport:
    """Turn a final report back into a draft (during the consensus phase).

    :raises NotAllowed: the actor is not a coordinator.
    :raises ConsensusClosed: wrong phase, or the report is not final.
    :raises StaleReport: the report changed since ``version``.
    """
    if actor.role is not Role.COORDINATOR:
        raise NotAllowed(_l("Only a coordinator reopens a consensus report."))
    check_open(proposal)
    report = proposal.consensus
    if report is None or not report.is_final:
        raise ConsensusClosed(_l("The report is not final."))
    if version != report.version:
        raise StaleReport(_l("The report changed since you opened it: check it again."))
    report.status = ConsensusStatus.DRAFT
    report.finalised_at = None
    report.finalised_by_id = None
    report.updated_at = utcnow()
    flush_report()
    kept = keep_version(report, SavedThrough.REOPEN, saved_by_id=actor.id)
    record(
        ConsensusReopened(proposal=proposal.reference, version=kept.number),
        report,
        call_id=proposal.call_id,
        actor_id=actor.id,
    )
    return report
