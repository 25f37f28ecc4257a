"""The applicant's evaluation summary (feedback report): the final consensus text, the scores
against the thresholds and the outcome; never an individual review, its scores, or who wrote
what."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from ..labels import outcome_label
from ..models import DecisionOutcome
from ..scoring.engine import (
    SOURCE_CONSENSUS,
    ProposalResult,
    Status,
)
from .evaluation import DecisionFacts
from .formatting import Formatter
from .records import CallRecords, ConsensusNamesExpert, ProposalNotFound, consensus_naming_experts

# --------------------------------------------------------------------------------------------
# Step 2b: the applicant feedback report


@dataclass(frozen=True)
class FeedbackCriterion:
    title: str
    question: str
    score: str
    threshold: str
    meets_threshold: bool | None
    consensus_comment: str  # the final consensus text: the only text the applicant receives


@dataclass(frozen=True)
class FeedbackReport:
    lang: str
    call_key: str
    call_title: str
    is_draft: bool
    as_of: str
    as_of_iso: str
    reference: str
    acronym: str
    title: str
    applicant: str
    criteria: tuple[FeedbackCriterion, ...]
    has_consensus: bool  # a final consensus report gives the scores and the comments
    overall_comment: str  # the final consensus report's overall comment ("" if none)
    no_consensus: str  # what the summary says when it has none
    total: str
    weighted_total: str
    overall_threshold: str
    passes: bool
    result: str
    outcome: str
    outcome_note: str  # what the outcome means for the applicant
    rationale: str
    scale_max: str


def feedback_report(records: CallRecords, reference: str, lang: str) -> FeedbackReport:
    """The evaluation summary for the applicant of ``reference``, in ``lang``.

    :raises ProposalNotFound: no such proposal in the call.
    :raises ConsensusNamesExpert: its final consensus text names an expert.
    """
    try:
        result = records.ranking.row(reference)
    except KeyError:
        raise ProposalNotFound(reference) from None
    named = consensus_naming_experts(records, [reference])
    if named:
        raise ConsensusNamesExpert(named)
    with force_locale(lang):
        return _feedback_report(records, result, Formatter(lang))


def _feedback_report(
    records: CallRecords, result: ProposalResult, fmt: Formatter
) -> FeedbackReport:
    scheme = records.scheme.in_language(fmt.lang)  # the criteria file's words in the language
    info = records.proposals[result.reference]
    # Only the final consensus speaks to the applicant: its text is written for them. The
    # individual reviews, their comments and any expert's name or label never reach this page.
    consensus = records.consensus_comments.get(result.reference, {})
    criteria = [
        FeedbackCriterion(
            title=spec.title,
            question=spec.question,
            score=fmt.score(c.score),
            threshold=fmt.plain(spec.threshold),
            meets_threshold=c.meets_threshold,
            consensus_comment=consensus.get(c.key, ""),
        )
        for spec, c in zip(scheme.criteria, result.criteria, strict=True)
    ]
    has_consensus = any(c.source == SOURCE_CONSENSUS for c in result.criteria)
    no_consensus = (
        _(
            "No final consensus report has been written for this proposal. The scores are "
            "the mean of the experts' individual scores; their individual comments are not "
            "part of this summary."
        )
        if scheme.rules.aggregate == "mean"
        else _(
            "No final consensus report has been written for this proposal. The scores are "
            "the median of the experts' individual scores; their individual comments are not "
            "part of this summary."
        )
    )
    decision = records.decisions.get(result.reference)
    if result.status is Status.INCOMPLETE:
        verdict = _("The evaluation of the proposal is not complete.")
    elif result.passes:
        verdict = _("The proposal passed all thresholds.")
    else:
        verdict = _("The proposal did not pass all thresholds.")
    return FeedbackReport(
        lang=fmt.lang,
        call_key=records.key,
        call_title=records.title,
        is_draft=not records.is_decided,
        as_of=fmt.long_date(records.as_of),
        as_of_iso=records.as_of.replace(microsecond=0).isoformat() + "Z",
        reference=result.reference,
        acronym=info.acronym,
        title=result.title,
        applicant=info.applicant,
        criteria=tuple(criteria),
        has_consensus=has_consensus,
        overall_comment=records.consensus_overall.get(result.reference, "")
        if has_consensus
        else "",
        no_consensus=no_consensus,
        total=fmt.score(result.total),
        weighted_total=fmt.score(result.weighted_total),
        overall_threshold=fmt.plain(scheme.rules.overall_threshold),
        passes=result.passes,
        result=verdict,
        outcome=outcome_label(decision.outcome if decision else None),
        outcome_note=_outcome_note(decision, fmt),
        rationale=decision.rationale if decision else "",
        scale_max=fmt.plain(scheme.scale.max),
    )


def _outcome_note(decision: DecisionFacts | None, fmt: Formatter) -> str:
    """The outcome in a sentence the applicant understands: "Reserve" alone says too little."""
    if decision is None:
        return _("No decision has been recorded for this proposal yet.")
    if decision.outcome == DecisionOutcome.FUNDED:
        if decision.amount_eur is not None:
            return _(
                "The proposal is selected for funding, with a grant of %(amount)s.",
                amount=fmt.money_eur(decision.amount_eur),
            )
        return _("The proposal is selected for funding, at the amount requested.")
    if decision.outcome == DecisionOutcome.RESERVE:
        return _(
            "The proposal is on the reserve list: it may still be funded if a selected "
            "proposal withdraws or more budget becomes available."
        )
    if decision.outcome == DecisionOutcome.INELIGIBLE:
        return _("The proposal does not meet the call's eligibility conditions.")
    return _("The proposal is not selected for funding.")
