"""The records of a call, read once: from the database and the scoring engine to one frozen
``CallRecords`` that every report of the call is made from.

``load_records(call)`` reads the call with a fixed number of queries (whatever its size) and runs
the scoring engine once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.chain import state_of
from ..audit.events import PhaseMoved
from ..consensus.mentions import OVERALL_COMMENT, mention_pattern, naming, pseudonym_forms
from ..errors import DomainError
from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    Call,
    ConflictDeclaration,
    ConsensusMinorityView,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Criterion,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Score,
    User,
)
from ..models.audit import chain_of
from ..panel import PanelRecord, panel_record
from ..pseudonyms import panel_letters
from ..ranking import evaluation_input, ranking_csv
from ..scoring.engine import (
    EvaluationIn,
    Ranking,
    evaluate,
)
from ..scoring.scheme import Scheme
from .evaluation import (
    CallFacts,
    DecisionFacts,
    ProposalFacts,
    canonical_json,
    evaluation_document,
    expert_pseudonyms,
    fingerprint,
)

# --------------------------------------------------------------------------------------------
# Step 1: the records of a call


@dataclass(frozen=True)
class ProposalInfo:
    reference: str
    acronym: str
    title: str
    applicant: str
    country: str | None
    requested_funding: Decimal | None


@dataclass(frozen=True)
class PhaseMove:
    at: datetime
    from_phase: str | None
    to_phase: str
    by: str  # who moved it ("" when no person did: the command line)


@dataclass(frozen=True)
class ProcessStats:
    experts: int
    assignments: int
    reviews_submitted: int
    reviews_draft: int
    conflicts: int
    consensus_final: int
    consensus_draft: int
    decisions: int


@dataclass(frozen=True)
class CallRecords:
    """Everything the reports of one call need, read once."""

    key: str
    title: str
    phase: str
    budget: Decimal | None
    deadline: date | None
    anonymise_experts: bool
    created_at: datetime
    decided_at: datetime | None
    as_of: datetime  # the latest moment in the data: the reports' date, never the clock
    scheme: Scheme
    evaluation_in: EvaluationIn
    ranking: Ranking
    proposals: dict[str, ProposalInfo]
    pseudonyms: dict[str, str]  # expert id -> E01 ...
    expert_letters: dict[str, dict[str, str]]  # reference -> expert id -> "A" (pseudonyms.py)
    expert_names: dict[str, str]
    assigned: dict[str, tuple[str, ...]]  # reference -> every assigned expert's id
    review_comments: dict[tuple[str, str], dict[str, str]]  # (reference, expert id) -> key -> text
    consensus_comments: dict[str, dict[str, str]]  # reference -> key -> text (final only)
    # Final consensus only: reference -> the panel's overall comment, for the applicant.
    consensus_overall: dict[str, str]
    # Final consensus only: reference -> why it crosses a threshold the aggregate does not;
    # reference -> (expert id, text) of each minority view. For the decision report, never the
    # applicant's.
    consensus_justifications: dict[str, str]
    minority_views: dict[str, tuple[tuple[str, str], ...]]
    decisions: dict[str, DecisionFacts]
    # The panel's places (with reasons), comments and report; None: the call has no panel.
    panel: PanelRecord | None
    stats: ProcessStats
    phase_moves: tuple[PhaseMove, ...]
    evaluation_json: bytes
    fingerprint: str
    ranking_csv: str
    audit_state: dict[str, Any]  # the audit chain's state the data was read at

    @property
    def is_decided(self) -> bool:
        return self.phase == Phase.DECIDED.value


class ProposalNotFound(DomainError, LookupError):
    pass


class ConsensusNamesExpert(DomainError, ValueError):
    """A final consensus text (finalised before the rule that refuses it) names an expert:
    it must not reach the applicant. ``found`` maps each reference to the criteria's titles."""

    def __init__(self, found: dict[str, list[str]]) -> None:
        self.found = found
        super().__init__(
            "; ".join(f"{ref}: {', '.join(titles)}" for ref, titles in sorted(found.items()))
        )


def consensus_naming_experts(records: CallRecords, references: list[str]) -> dict[str, list[str]]:
    """Reference -> titles of the criteria whose final consensus text names an expert of the
    proposal (by name or as "Expert A"), for the proposals in ``references`` that have any."""
    titles = {spec.key: spec.title for spec in records.scheme.criteria}
    titles[OVERALL_COMMENT] = _("Overall comment")
    found = {}
    forms = pseudonym_forms()  # translated once for the batch, not once per proposal
    for reference in references:
        comments = dict(records.consensus_comments.get(reference, {}))
        if records.consensus_overall.get(reference):
            comments[OVERALL_COMMENT] = records.consensus_overall[reference]
        if not comments:
            continue
        pattern = mention_pattern(
            (records.expert_names.get(e, "") for e in records.assigned.get(reference, ())),
            records.expert_letters.get(reference, {}).values(),
            forms,
        )
        named = naming(comments, pattern)
        if named:
            found[reference] = [titles.get(key, key) for key in named]
    return found


def load_records(call: Call) -> CallRecords:
    """Read ``call`` for its reports: a constant number of queries, then the engine once."""
    evaluation = evaluation_input(call)
    panel = panel_record(call)
    ranking = evaluate(evaluation)

    proposal_rows = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id)
        .options(joinedload(Proposal.decision))
        .order_by(Proposal.reference)
    ).all()
    proposals = {
        p.reference: ProposalInfo(
            reference=p.reference,
            acronym=p.acronym or "",
            title=p.title,
            applicant=p.applicant or "",
            country=p.country,
            requested_funding=p.requested_funding_eur,
        )
        for p in proposal_rows
    }
    decisions = {
        p.reference: DecisionFacts(
            proposal=p.reference,
            outcome=p.decision.outcome.value,
            rationale=p.decision.rationale or "",
            decided_at=p.decision.decided_at,
            amount_eur=p.decision.amount_eur,
        )
        for p in proposal_rows
        if p.decision is not None
    }

    assignment_rows = db.session.execute(
        select(
            Assignment.id,
            Proposal.reference,
            Assignment.expert_id,
            User.name,
            ConflictDeclaration.has_conflict,
            ConflictDeclaration.conflict_found_at,
            Review.status,
            Review.submitted_at,
        )
        .join(Proposal, Assignment.proposal_id == Proposal.id)
        .join(User, Assignment.expert_id == User.id)
        .outerjoin(ConflictDeclaration, ConflictDeclaration.assignment_id == Assignment.id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Proposal.call_id == call.id)
    ).all()
    expert_names = {str(row.expert_id): row.name for row in assignment_rows}
    panels: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
    for row in assignment_rows:
        before_opening = bool(row.has_conflict) and row.conflict_found_at is None
        panels[row.reference].append((row.id, str(row.expert_id), before_opening))
    # The same letters as the consensus page and every export: one definition (pseudonyms).
    expert_letters = {reference: panel_letters(rows) for reference, rows in panels.items()}
    pseudonyms = expert_pseudonyms(
        [*expert_names, *(r.expert for r in evaluation.reviews)]  # every reviewer has a name
    )

    review_comments: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for reference, expert_id, key, comment in db.session.execute(
        select(Proposal.reference, Assignment.expert_id, Criterion.key, Score.comment)
        .join(Review, Score.review_id == Review.id)
        .join(Assignment, Review.assignment_id == Assignment.id)
        .join(Proposal, Assignment.proposal_id == Proposal.id)
        .join(Criterion, Score.criterion_id == Criterion.id)
        .where(
            Proposal.call_id == call.id,
            Review.status == ReviewStatus.SUBMITTED,
            Score.comment != "",
        )
    ):
        review_comments[(reference, str(expert_id))][key] = comment

    consensus_rows = db.session.execute(
        select(
            Proposal.reference,
            ConsensusReport.status,
            ConsensusReport.updated_at,
            ConsensusReport.justification,
            ConsensusReport.overall_comment,
        )
        .join(Proposal, ConsensusReport.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id)
    ).all()
    consensus_justifications = {
        row.reference: row.justification
        for row in consensus_rows
        if row.status is ConsensusStatus.FINAL and row.justification
    }
    consensus_overall = {
        row.reference: row.overall_comment
        for row in consensus_rows
        if row.status is ConsensusStatus.FINAL and row.overall_comment
    }
    minority_views: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for reference, expert_id, text in db.session.execute(
        select(Proposal.reference, ConsensusMinorityView.expert_id, ConsensusMinorityView.text)
        .join(ConsensusReport, ConsensusMinorityView.report_id == ConsensusReport.id)
        .join(Proposal, ConsensusReport.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id, ConsensusReport.status == ConsensusStatus.FINAL)
        .order_by(ConsensusMinorityView.recorded_at, ConsensusMinorityView.id)
    ):
        minority_views[reference].append((str(expert_id), text))
    consensus_comments: dict[str, dict[str, str]] = defaultdict(dict)
    for reference, key, comment in db.session.execute(
        select(Proposal.reference, Criterion.key, ConsensusScore.comment)
        .join(ConsensusReport, ConsensusScore.report_id == ConsensusReport.id)
        .join(Proposal, ConsensusReport.proposal_id == Proposal.id)
        .join(Criterion, ConsensusScore.criterion_id == Criterion.id)
        .where(
            Proposal.call_id == call.id,
            ConsensusReport.status == ConsensusStatus.FINAL,
            ConsensusScore.comment != "",
        )
    ):
        consensus_comments[reference][key] = comment

    # Read through the typed event the phase service writes (one definition for both sides).
    phase_events = db.session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.call_id == call.id, AuditEvent.action == PhaseMoved.action)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    phase_moves = tuple(
        PhaseMove(
            at=event.at,
            from_phase=moved.from_phase.value if moved.from_phase else None,
            to_phase=moved.to_phase.value if moved.to_phase else "",
            by=name or "",
        )
        for event, name in phase_events
        if isinstance(moved := event.typed(), PhaseMoved)
    )

    stats = ProcessStats(
        experts=len(expert_names),
        assignments=len(assignment_rows),
        reviews_submitted=sum(r.status is ReviewStatus.SUBMITTED for r in assignment_rows),
        reviews_draft=sum(r.status is ReviewStatus.DRAFT for r in assignment_rows),
        conflicts=sum(bool(r.has_conflict) for r in assignment_rows),
        consensus_final=sum(r.status is ConsensusStatus.FINAL for r in consensus_rows),
        consensus_draft=sum(r.status is ConsensusStatus.DRAFT for r in consensus_rows),
        decisions=len(decisions),
    )
    moments = [
        call.created_at,
        *(m.at for m in phase_moves),
        *(r.submitted_at for r in assignment_rows if r.submitted_at is not None),
        *(r.updated_at for r in consensus_rows),
        *(d.decided_at for d in decisions.values()),
    ]
    as_of = call.decided_at or max(moments)

    facts = CallFacts(key=call.key, title=call.title, decided_at=call.decided_at)
    chain = chain_of(call.id)
    audit_seq, audit_digest = state_of(db.session, chain)
    audit_state = {"chain": chain, "seq": audit_seq, "digest": audit_digest}
    document = evaluation_document(
        facts,
        evaluation,
        pseudonyms=pseudonyms,
        proposals={
            ref: ProposalFacts(
                reference=ref, acronym=p.acronym, applicant=p.applicant, country=p.country
            )
            for ref, p in proposals.items()
        },
        review_comments=review_comments,
        consensus_comments=consensus_comments,
        consensus_justifications=consensus_justifications,
        minority_views=minority_views,
        consensus_overall=consensus_overall,
        decisions=list(decisions.values()),
        audit=audit_state,
        panel=panel,
    )
    evaluation_bytes = canonical_json(document)
    return CallRecords(
        key=call.key,
        title=call.title,
        phase=call.phase.value,
        budget=call.budget_eur,
        deadline=call.deadline,
        anonymise_experts=call.anonymise_experts,
        created_at=call.created_at,
        decided_at=call.decided_at,
        as_of=as_of,
        scheme=evaluation.scheme,
        evaluation_in=evaluation,
        ranking=ranking,
        proposals=proposals,
        pseudonyms=pseudonyms,
        expert_letters=expert_letters,
        expert_names=expert_names,
        assigned={ref: tuple(expert for _id, expert, _c in rows) for ref, rows in panels.items()},
        review_comments=dict(review_comments),
        consensus_comments=dict(consensus_comments),
        consensus_overall=consensus_overall,
        consensus_justifications=consensus_justifications,
        minority_views={ref: tuple(views) for ref, views in minority_views.items()},
        decisions=decisions,
        panel=panel,
        stats=stats,
        phase_moves=phase_moves,
        evaluation_json=evaluation_bytes,
        fingerprint=fingerprint(evaluation_bytes),
        audit_state=audit_state,
        ranking_csv=ranking_csv(ranking),
    )
