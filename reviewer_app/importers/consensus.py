"""Importing consensus reports agreed offline."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import limits
from ..audit.events import (
    ConsensusImported,
)
from ..consensus.finalising import expert_mentions
from ..extensions import db
from ..models import (
    Assignment,
    Call,
    ConsensusReport,
    ConsensusStatus,
    Phase,
    Proposal,
    SavedThrough,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.reviews import new_consensus_score, write_scores
from ..models.versions import keep_version
from ..ranking import evaluation_input
from ..scoring.columns import COMMENT_SUFFIX, CONSENSUS_JUSTIFICATION, CONSENSUS_OVERALL
from ..scoring.consensus import ConsensusEffect, consensus_effect
from ..scoring.engine import ReviewIn
from .checks import Check, check_phase, known_proposal
from .reviews import score_columns, scores_of
from .tables import Table

# --- consensus ----------------------------------------------------------------------------------


def import_consensus(
    call: Call, table: Table, *, actor: User | None, replace: bool = False
) -> list[ConsensusReport]:
    """Record final consensus scores (call in ``consensus``): per row a score and a comment for
    every criterion (columns ``proposal``, then ``<key>`` and ``<key>_comment``), and optionally
    a ``justification``. The rules of finalising on the consensus page apply: the comments go
    to the applicant and name no expert, and a consensus that crosses a threshold against the
    reviews' aggregate needs the justification.

    A draft consensus is overwritten and made final; a final one is refused unless ``replace``.

    :raises ImportRejected: a bad row (every one is listed); nothing is written.
    """
    check_phase(call, (Phase.CONSENSUS,), "consensus scores")
    scheme = call.scheme
    check = Check()
    columns = ("proposal", *score_columns(scheme))
    check.require_columns(table, columns)
    check.refuse_unknown_columns(table, (*columns, CONSENSUS_JUSTIFICATION, CONSENSUS_OVERALL))
    check.raise_if_any()
    reviews: dict[str, list[ReviewIn]] = {}
    for review in evaluation_input(call).reviews:
        reviews.setdefault(review.proposal, []).append(review)
    criteria = {c.key: c for c in call.criteria}
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(
                selectinload(Proposal.consensus).selectinload(ConsensusReport.scores),
                selectinload(Proposal.assignments).joinedload(Assignment.expert),
                selectinload(Proposal.assignments).joinedload(Assignment.declaration),
            )
        )
    }
    rapporteurs = dict(
        db.session.execute(
            select(Assignment.proposal_id, Assignment.expert_id)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id, Assignment.is_rapporteur.is_(True))
        )
        .tuples()
        .all()
    )
    seen: dict[str, int | None] = {}
    planned: list[tuple[Proposal, dict[str, tuple[Decimal, str]], str, str, ConsensusEffect]] = []
    for row in table.rows:
        proposal = known_proposal(check, row, proposals)
        values = scores_of(check, row, scheme)
        justification = check.text(row, CONSENSUS_JUSTIFICATION, max_length=limits.APPROVAL_COMMENT)
        overall = check.text(row, CONSENSUS_OVERALL, max_length=limits.APPROVAL_COMMENT)
        if proposal is None:
            continue
        check.unique(row, "proposal", proposal.reference, seen)
        report = proposal.consensus
        if report is not None and report.is_final and not replace:
            check.add(
                row,
                "proposal",
                gettext(
                    "%(ref)s already has a final consensus (use --replace to overwrite)",
                    ref=proposal.reference,
                ),
            )
        if values is None:
            continue
        mentions = expert_mentions(proposal)
        texts = {f"{key}{COMMENT_SUFFIX}": comment for key, (_value, comment) in values.items()}
        texts[CONSENSUS_OVERALL] = overall
        for column, text in texts.items():
            if mentions is not None and mentions.search(text):
                check.add(
                    row,
                    column,
                    gettext("names an expert: the consensus comments go to the applicant"),
                )
        effect = consensus_effect(
            scheme, reviews.get(proposal.reference, []), {k: v for k, (v, _c) in values.items()}
        )
        if effect.needs_justification and not justification:
            check.add(
                row,
                CONSENSUS_JUSTIFICATION,
                gettext(
                    "the consensus crosses a threshold that the reviews' aggregate does not "
                    "(or the other way round): say why"
                ),
            )
        planned.append((proposal, values, justification, overall, effect))
    if not table.rows:
        check.add(None, None, gettext("the file has no consensus scores"))
    check.raise_if_any()

    now = utcnow()
    reports: list[
        tuple[ConsensusReport, Proposal, bool, dict[str, tuple[Decimal, str]], ConsensusEffect]
    ] = []
    for proposal, values, justification, overall, effect in planned:
        report = proposal.consensus
        replaced = report is not None and report.is_final
        if report is None:
            report = ConsensusReport(proposal=proposal, rapporteur_id=rapporteurs.get(proposal.id))
            db.session.add(report)
        write_scores(report.scores, new_consensus_score, criteria.values(), values)
        report.justification = justification
        report.overall_comment = overall
        report.status = ConsensusStatus.FINAL
        report.updated_at = now
        report.finalised_at = now
        report.finalised_by_id = None  # the command line acts as "system"
        reports.append((report, proposal, replaced, values, effect))
    db.session.flush()
    for report, proposal, replaced, values, effect in reports:
        kept = keep_version(report, SavedThrough.IMPORT, saved_by_id=None)
        record(
            ConsensusImported(
                proposal=proposal.reference,
                replaced=replaced,
                scores={k: str(v) for k, (v, _) in values.items()},
                version=kept.number,
                crossed=list(effect.crossings),
                justification=report.justification,
            ),
            report,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
    return [report for report, *_ in reports]
