"""The expert's individual evaluation report (IER): their own review of one proposal, as PDF.

What the EU calls the IER: each criterion's score, its threshold met or not, the comment, and
the total against the overall threshold. The numbers come from the scoring engine, run on this
one review alone (so the PDF agrees with the review page's running total, which the same
rules drive). Only the expert's own words and scores: no other review, no consensus.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from ..models import Assignment
from ..scoring import EvaluationIn, ProposalIn, ReviewIn, evaluate
from .formatting import Formatter


@dataclass(frozen=True)
class IndividualCriterion:
    title: str
    question: str
    score: str  # "4.5", or "–" when not scored yet
    descriptor: str  # the scale's words for the score
    threshold: str
    meets_threshold: bool | None  # None: no threshold, or no score
    comment: str


@dataclass(frozen=True)
class IndividualReport:
    lang: str
    call_key: str
    call_title: str
    reference: str
    acronym: str
    title: str
    applicant: str
    expert: str
    declared: str  # when the expert declared no conflict and accepted confidentiality
    status: str  # "Submitted on …" or "Draft, last saved …"
    is_draft: bool
    version: int
    criteria: tuple[IndividualCriterion, ...]
    total: str
    max_total: str
    overall_threshold: str
    meets_overall: bool | None
    weighted_total: str
    as_of: str
    as_of_iso: str


def individual_report(assignment: Assignment, lang: str) -> IndividualReport:
    """The IER of ``assignment`` (which has a review), in ``lang``."""
    with force_locale(lang):
        return _individual_report(assignment, Formatter(lang))


def _individual_report(assignment: Assignment, fmt: Formatter) -> IndividualReport:
    review = assignment.review
    assert review is not None  # the view offers the report once a review exists
    proposal = assignment.proposal
    call = proposal.call
    scheme = call.scheme.in_language(fmt.lang)
    keys = {c.id: c.key for c in call.criteria}
    given = {keys[s.criterion_id]: s for s in review.scores if s.criterion_id in keys}
    values = tuple((key, score.value) for key, score in given.items() if score.value is not None)
    # The engine on this review alone: the criterion scores are its own, and the thresholds,
    # total and weighted total are decided as for any proposal.
    result = evaluate(
        EvaluationIn(
            scheme=call.scheme,
            proposals=(ProposalIn(reference=proposal.reference, title=proposal.title),),
            reviews=(ReviewIn(proposal=proposal.reference, expert="self", scores=values),),
        )
    ).row(proposal.reference)
    criteria = []
    for spec, outcome in zip(scheme.criteria, result.criteria, strict=True):
        score = given.get(spec.key)
        value = score.value if score is not None else None
        criteria.append(
            IndividualCriterion(
                title=spec.title,
                question=spec.question or "",
                score=fmt.plain(value) if value is not None else "–",
                descriptor=(scheme.scale.label_for(value) or "") if value is not None else "",
                threshold=fmt.plain(spec.threshold),
                meets_threshold=outcome.meets_threshold,
                comment=score.comment if score is not None else "",
            )
        )
    declaration = assignment.declaration
    if review.is_submitted and review.submitted_at is not None:
        status = _("Submitted on %(date)s", date=fmt.long_date(review.submitted_at))
    else:
        status = _("Draft, last saved on %(date)s", date=fmt.long_date(review.updated_at))
    # The review's own time, never the clock's: the same review gives the same PDF.
    stamp = (review.submitted_at or review.updated_at).replace(microsecond=0)
    return IndividualReport(
        lang=fmt.lang,
        call_key=call.key,
        call_title=call.title,
        reference=proposal.reference,
        acronym=proposal.acronym or "",
        title=proposal.title,
        applicant=proposal.applicant or "",
        expert=assignment.expert.name,
        declared=fmt.long_date(declaration.declared_at) if declaration else "",
        status=status,
        is_draft=not review.is_submitted,
        version=review.version,
        criteria=tuple(criteria),
        total=fmt.score(result.total) if result.total is not None else "–",
        max_total=fmt.plain(scheme.scale.max * len(scheme.criteria)),
        overall_threshold=fmt.plain(scheme.rules.overall_threshold),
        meets_overall=result.meets_overall_threshold,
        weighted_total=fmt.score(result.weighted_total)
        if result.weighted_total is not None
        else "–",
        as_of=fmt.long_date(stamp),
        as_of_iso=stamp.isoformat() + "Z",
    )
