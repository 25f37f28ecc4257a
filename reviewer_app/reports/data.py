"""Plain report data: from the database and the scoring engine to what the templates print.

Two steps. ``load_records(call)`` reads the call with a fixed number of queries (whatever its
size) and runs the scoring engine once; ``decision_report(records, lang)`` and
``feedback_report(records, reference, lang)`` turn that into frozen dataclasses of display
strings, formatted for the language. Templates never see an ORM object, and never compute a
number: every score comes from ``ranking.Ranking`` and is shown rounded half-up like the CSV.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.chain import state_of
from ..audit.events import PhaseMoved
from ..consensus.mentions import mention_patterns, naming
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
    DecisionOutcome,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Score,
    User,
)
from ..models.audit import chain_of
from ..pseudonyms import panel_letters
from ..ranking import evaluation_input, ranking_csv
from ..scoring.consensus import OVERALL, ConsensusEffect, Turn, consensus_effect
from ..scoring.engine import (
    FLAG_DISAGREEMENT,
    FLAG_EX_AEQUO,
    FLAG_NO_FUNDING_AMOUNT,
    SOURCE_CONSENSUS,
    EvaluationIn,
    ProposalResult,
    Ranking,
    ReviewIn,
    Status,
    evaluate,
)
from ..scoring.numbers import format_score
from ..scoring.scheme import Scheme
from . import charts
from .evaluation import (
    CallFacts,
    DecisionFacts,
    ProposalFacts,
    canonical_json,
    evaluation_document,
    expert_pseudonyms,
    fingerprint,
)

LANGUAGES = ("en", "de")
# The totals chart stays readable up to this many bars; larger calls chart the top of the list.
TOTALS_CHART_MAX_BARS = 40


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
    # Final consensus only: reference -> why it crosses a threshold the aggregate does not;
    # reference -> (expert id, text) of each minority view. For the decision report, never the
    # applicant's.
    consensus_justifications: dict[str, str]
    minority_views: dict[str, tuple[tuple[str, str], ...]]
    decisions: dict[str, DecisionFacts]
    stats: ProcessStats
    phase_moves: tuple[PhaseMove, ...]
    evaluation_json: bytes
    fingerprint: str
    ranking_csv: str
    audit_state: dict[str, Any]  # the audit chain's state the data was read at

    @property
    def is_decided(self) -> bool:
        return self.phase == Phase.DECIDED.value


class ProposalNotFound(LookupError):
    pass


class ConsensusNamesExpert(ValueError):
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
    found = {}
    for reference in references:
        comments = records.consensus_comments.get(reference, {})
        if not comments:
            continue
        patterns = mention_patterns(
            (records.expert_names.get(e, "") for e in records.assigned.get(reference, ())),
            records.expert_letters.get(reference, {}).values(),
        )
        named = naming(comments, patterns)
        if named:
            found[reference] = [titles.get(key, key) for key in named]
    return found


def load_records(call: Call) -> CallRecords:
    """Read ``call`` for its reports: a constant number of queries, then the engine once."""
    evaluation = evaluation_input(call)
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
        panels[row.reference].append((row.id, str(row.expert_id), bool(row.has_conflict)))
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
        )
        .join(Proposal, ConsensusReport.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id)
    ).all()
    consensus_justifications = {
        row.reference: row.justification
        for row in consensus_rows
        if row.status is ConsensusStatus.FINAL and row.justification
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
        decisions=list(decisions.values()),
        audit=audit_state,
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
        consensus_justifications=consensus_justifications,
        minority_views={ref: tuple(views) for ref, views in minority_views.items()},
        decisions=decisions,
        stats=stats,
        phase_moves=phase_moves,
        evaluation_json=evaluation_bytes,
        fingerprint=fingerprint(evaluation_bytes),
        audit_state=audit_state,
        ranking_csv=ranking_csv(ranking),
    )


# --------------------------------------------------------------------------------------------
# Formatting for a language


class Formatter:
    """Numbers, money, dates and fixed labels written the way ``lang`` writes them.

    A large call formats tens of thousands of numbers, nearly all of them repeats (scores are
    on a half-point scale), and Babel's formatting dominated the report's own time; so every
    formatted text is remembered per input.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._memo: dict[tuple[str, object], str] = {}

    def _remember(self, kind: str, key: object, make: Callable[[], str]) -> str:
        try:
            return self._memo[(kind, key)]
        except KeyError:
            text = self._memo[(kind, key)] = make()
            return text

    def label(self, kind: str, value: object, make: Callable[[], str]) -> str:
        """A translated label (status, outcome, flag ...), looked up once per value."""
        return self._remember(kind, value, make)

    def score(self, value: Fraction | Decimal | None) -> str:
        if value is None:
            return "–"
        return self._remember("score", value, lambda: self._score(value))

    def _score(self, value: Fraction | Decimal) -> str:
        # format_score rounds half-up exactly like the CSV; Babel only localises the digits.
        text = format_score(value)
        return babel_format_decimal(Decimal(text), format="0.00", locale=self.lang)

    def plain(self, value: Decimal | None) -> str:
        """A weight, threshold or scale value: as few decimals as it needs."""
        if value is None:
            return "–"
        return self._remember(
            "plain", value, lambda: babel_format_decimal(value, format="0.##", locale=self.lang)
        )

    def count(self, value: int) -> str:
        return babel_format_decimal(value, format="#,##0", locale=self.lang)

    def money(self, value: Decimal | None) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" if value == value.to_integral_value() else "#,##0.00"
        return self._remember(
            "money", value, lambda: babel_format_decimal(value, format=pattern, locale=self.lang)
        )

    def money_eur(self, value: Decimal | None) -> str:
        if value is None:
            return "–"
        return _("%(amount)s EUR", amount=self.money(value))

    def long_date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        day = value.date() if isinstance(value, datetime) else value
        return babel_format_date(day, format="long", locale=self.lang)

    def short_date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        day = value.date() if isinstance(value, datetime) else value
        return babel_format_date(day, format="medium", locale=self.lang)


def status_label(status: str) -> str:
    return {
        Status.MAIN.value: _("Main list"),
        Status.RESERVE.value: _("Reserve list"),
        Status.BELOW_THRESHOLD.value: _("Below threshold"),
        Status.INCOMPLETE.value: _("Incomplete"),
    }.get(status, status)


def outcome_label(outcome: str | None) -> str:
    return {
        "funded": _("Funded"),
        "reserve": _("Reserve"),
        "rejected": _("Rejected"),
        "ineligible": _("Ineligible"),
        None: _("Pending"),
    }.get(outcome, outcome or "")


def phase_label(phase: str | None) -> str:
    return {
        "setup": _("Set-up"),
        "evaluation": _("Evaluation"),
        "consensus": _("Consensus"),
        "ranking": _("Ranking"),
        "decided": _("Decided"),
        None: "–",
    }.get(phase, phase or "–")


def flag_label(flag: str, scheme: Scheme) -> str:
    if flag == FLAG_EX_AEQUO:
        return _("ex aequo")
    if flag == FLAG_NO_FUNDING_AMOUNT:
        return _("no funding amount")
    if flag.startswith(FLAG_DISAGREEMENT + ":"):
        key = flag.split(":", 1)[1]
        try:
            title = scheme.criterion(key).title
        except KeyError:
            title = key
        return _("disagreement on %(criterion)s", criterion=title)
    return flag


def _expert_name(mark: str) -> str:
    return _("Expert %(letter)s", letter=mark)


# --------------------------------------------------------------------------------------------
# Step 2a: the decision report


@dataclass(frozen=True)
class CriterionMethod:
    title: str
    question: str
    weight: str
    threshold: str


@dataclass(frozen=True)
class Method:
    paragraphs: tuple[str, ...]
    criteria: tuple[CriterionMethod, ...]
    scale: tuple[tuple[str, str], ...]  # (value, label)


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class RankingRow:
    rank: str
    reference: str
    acronym: str
    title: str
    applicant: str
    country: str
    scores: tuple[str, ...]
    below: tuple[bool, ...]  # per criterion: under its threshold
    total: str
    weighted_total: str
    requested: str
    cumulative: str
    status: str  # the Status value, for CSS
    status_label: str
    decision: str
    flags: tuple[str, ...]
    funding_line_before: bool


@dataclass(frozen=True)
class ExpertComment:
    author: str  # "Expert A" in the decision report; never set in the feedback report
    text: str


@dataclass(frozen=True)
class CriterionDetail:
    title: str
    weight: str
    threshold: str
    individual: tuple[str, ...]  # one cell per expert column of the proposal
    mean: str
    median: str
    spread: str
    stdev: str
    score: str
    source: str
    meets_threshold: bool | None
    disagreement: bool
    consensus_comment: str
    comments: tuple[ExpertComment, ...]


@dataclass(frozen=True)
class ProposalSection:
    anchor: str
    reference: str
    acronym: str
    title: str
    applicant: str
    country: str
    requested: str
    rank: str
    status: str
    status_label: str
    flags: tuple[str, ...]
    experts: tuple[str, ...]
    criteria: tuple[CriterionDetail, ...]
    total: str
    weighted_total: str
    meets_overall: bool | None
    decision: str
    rationale: str
    chart: Markup
    # The final consensus against the reviews' aggregate: which thresholds it crosses (empty:
    # none), why, and the panel's minority views.
    crossing: str = ""
    justification: str = ""
    minority_views: tuple[ExpertComment, ...] = ()


@dataclass(frozen=True)
class DecisionReport:
    lang: str
    call_key: str
    call_title: str
    scheme_title: str
    phase: str
    is_draft: bool
    as_of: str
    as_of_iso: str
    budget: str
    main_total: str
    funded: str  # what the funded decisions cost against the budget; "" before any decision
    reserve_total: str
    method: Method
    figures: tuple[Figure, ...]
    phase_moves: tuple[tuple[str, str, str, str], ...]  # (date, from, to, by)
    criteria_titles: tuple[str, ...]
    rows: tuple[RankingRow, ...]
    funding_line_at_end: bool
    has_budget: bool
    totals_chart: Markup
    totals_chart_note: str
    proposals: tuple[ProposalSection, ...]
    rules: tuple[str, ...]
    fingerprint: str
    fingerprint_short: str
    audit_head: str  # "call-3, event 41, digest 1f…"
    scale_caption: str
    names_experts: bool
    extra: dict[str, Any] = field(default_factory=dict)


def decision_report(records: CallRecords, lang: str) -> DecisionReport:
    """The decision report's data, in ``lang`` (en or de)."""
    with force_locale(lang):
        return _decision_report(records, Formatter(lang))


def _decision_report(records: CallRecords, fmt: Formatter) -> DecisionReport:
    scheme = records.scheme
    ranking = records.ranking
    has_budget = records.budget is not None

    rows: list[RankingRow] = []
    seen_main = False
    line_drawn = False
    for result in ranking.rows:
        info = records.proposals.get(result.reference)
        # The funding line sits above the first passing proposal that is not on the main list.
        before = (
            has_budget
            and not line_drawn
            and result.status is not Status.MAIN
            and (seen_main or result.status is Status.RESERVE)
        )
        if result.status is Status.MAIN:
            seen_main = True
        if before:
            line_drawn = True
        decision = records.decisions.get(result.reference)
        rows.append(
            RankingRow(
                rank=_rank_text(result),
                reference=result.reference,
                acronym=info.acronym if info else "",
                title=result.title,
                applicant=info.applicant if info else "",
                country=(info.country or "") if info else "",
                scores=tuple(fmt.score(c.score) for c in result.criteria),
                below=tuple(c.meets_threshold is False for c in result.criteria),
                total=fmt.score(result.total),
                weighted_total=fmt.score(result.weighted_total),
                requested=fmt.money(result.requested_funding),
                cumulative=fmt.money(result.cumulative_funding) if result.rank else "",
                status=result.status.value,
                status_label=_status(fmt, result.status.value),
                decision=_outcome(fmt, decision),
                flags=_flags(result, scheme, fmt),
                funding_line_before=before,
            )
        )
    funding_line_at_end = has_budget and seen_main and not line_drawn

    bars = [
        charts.Bar(
            label=f"{r.reference} {records.proposals[r.reference].acronym}".strip()
            if r.reference in records.proposals
            else r.reference,
            value=r.weighted_total,
            text=fmt.score(r.weighted_total),
            status=r.status.value,
        )
        for r in ranking.rows
        if r.weighted_total is not None
    ]
    shown = bars[:TOTALS_CHART_MAX_BARS]
    max_weighted = sum(
        (c.weight * scheme.scale.max for c in scheme.criteria), Decimal(0)
    ) or Decimal(1)
    main_count = sum(1 for r in ranking.rows[: len(shown)] if r.status is Status.MAIN)
    totals_chart = charts.totals_bar_chart(
        shown,
        maximum=max_weighted,
        funding_line_after=main_count if has_budget else None,
        funding_line_label=_("Funding line"),
        axis_label=_("Weighted total"),
        tick_text=fmt.plain,
        legend=[
            (status, status_label(status))
            for status in ("main", "reserve", "below_threshold", "incomplete")
            if any(bar.status == status for bar in shown)
        ],
    )
    note = ""
    if len(bars) > len(shown):
        note = _(
            "The chart shows the first %(shown)s of %(total)s scored proposals.",
            shown=len(shown),
            total=len(bars),
        )

    effects = _consensus_effects(records)
    sections = tuple(
        _proposal_section(records, result, fmt, index, effects.get(result.reference))
        for index, result in enumerate(ranking.rows, start=1)
    )
    stats = records.stats
    figures = (
        Figure(_("Proposals"), fmt.count(len(records.proposals))),
        Figure(_("Experts"), fmt.count(stats.experts)),
        Figure(_("Assignments"), fmt.count(stats.assignments)),
        Figure(_("Reviews submitted"), fmt.count(stats.reviews_submitted)),
        Figure(_("Reviews still in draft"), fmt.count(stats.reviews_draft)),
        Figure(_("Conflicts of interest declared"), fmt.count(stats.conflicts)),
        Figure(_("Consensus reports (final)"), fmt.count(stats.consensus_final)),
        Figure(_("Decisions recorded"), fmt.count(stats.decisions)),
    )
    moves = [(fmt.short_date(records.created_at), "", phase_label("setup"), "")]
    moves += [
        (fmt.short_date(m.at), phase_label(m.from_phase), phase_label(m.to_phase), m.by)
        for m in records.phase_moves
    ]
    return DecisionReport(
        lang=fmt.lang,
        call_key=records.key,
        call_title=records.title,
        scheme_title=scheme.title,
        phase=phase_label(records.phase),
        is_draft=not records.is_decided,
        as_of=fmt.long_date(records.as_of),
        as_of_iso=records.as_of.replace(microsecond=0).isoformat() + "Z",
        budget=fmt.money_eur(records.budget) if has_budget else _("no budget set"),
        main_total=fmt.money_eur(ranking.main_total),
        reserve_total=fmt.money_eur(ranking.reserve_total),
        funded=_funded(records, fmt) if records.decisions else "",
        method=_method(records, fmt),
        figures=figures,
        phase_moves=tuple(moves),
        criteria_titles=tuple(c.title for c in scheme.criteria),
        rows=tuple(rows),
        funding_line_at_end=funding_line_at_end,
        has_budget=has_budget,
        totals_chart=totals_chart,
        totals_chart_note=note,
        proposals=sections,
        rules=_rules_in_short(),
        fingerprint=records.fingerprint,
        fingerprint_short=records.fingerprint[:12],
        audit_head=_(
            "%(chain)s, event %(seq)s: %(digest)s",
            chain=records.audit_state["chain"],
            seq=records.audit_state["seq"],
            digest=records.audit_state["digest"],
        ),
        scale_caption=_(
            "Dots: individual scores; bar: the criterion score; dashed line: the threshold."
        ),
        names_experts=not records.anonymise_experts,
    )


def _status(fmt: Formatter, status: str) -> str:
    return fmt.label("status", status, partial(status_label, status))


def _outcome(fmt: Formatter, decision: DecisionFacts | None) -> str:
    outcome = decision.outcome if decision else None
    label = fmt.label("outcome", outcome, partial(outcome_label, outcome))
    if decision is not None and decision.amount_eur is not None:
        return _(
            "%(outcome)s, granted %(amount)s",
            outcome=label,
            amount=fmt.money_eur(decision.amount_eur),
        )
    return label


def _funded(records: CallRecords, fmt: Formatter) -> str:
    """What the funded decisions cost (granted amounts, else the requested funding) against
    the budget: the same sum the decisions page and the close refuse above the budget."""
    total = sum(
        (
            d.amount_eur
            if d.amount_eur is not None
            else (records.proposals[d.proposal].requested_funding or Decimal(0))
            for d in records.decisions.values()
            if d.outcome == DecisionOutcome.FUNDED.value and d.proposal in records.proposals
        ),
        Decimal(0),
    )
    if records.budget is None:
        return fmt.money_eur(total)
    return _(
        "%(total)s of a budget of %(budget)s",
        total=fmt.money_eur(total),
        budget=fmt.money_eur(records.budget),
    )


def _flags(result: ProposalResult, scheme: Scheme, fmt: Formatter) -> tuple[str, ...]:
    return tuple(fmt.label("flag", f, partial(flag_label, f, scheme)) for f in result.flags)


def _source_label(source: str | None, scheme: Scheme) -> str:
    if source is None:
        return "–"
    if source == SOURCE_CONSENSUS:
        return _("consensus")
    return _("mean") if scheme.rules.aggregate == "mean" else _("median")


def _rank_text(result: ProposalResult) -> str:
    if result.rank is None:
        return "–"
    return f"{result.rank}=" if result.ex_aequo else str(result.rank)


def _consensus_effects(records: CallRecords) -> dict[str, ConsensusEffect]:
    """Per proposal with a final consensus: its effect against the reviews' aggregate, by the
    same function the consensus page and finalising use."""
    evaluation = records.evaluation_in
    reviews: dict[str, list[ReviewIn]] = defaultdict(list)
    for review in evaluation.reviews:
        reviews[review.proposal].append(review)
    return {
        c.proposal: consensus_effect(evaluation.scheme, reviews[c.proposal], dict(c.scores))
        for c in evaluation.consensus
    }


def _crossing_text(effect: ConsensusEffect | None, scheme: Scheme, fmt: Formatter) -> str:
    if effect is None or not effect.crossings:
        return ""
    thresholds = [
        _("the overall threshold (%(value)s)", value=fmt.plain(effect.overall_threshold))
        if key == OVERALL
        else _(
            "the threshold of %(criterion)s (%(value)s)",
            criterion=scheme.criterion(key).title,
            value=fmt.plain(scheme.criterion(key).threshold),
        )
        for key in effect.crossings
    ]
    text = _(
        "Against the aggregate of the individual scores (total %(total)s), the consensus "
        "crosses %(thresholds)s.",
        total=fmt.score(effect.aggregate_total),
        thresholds=", ".join(thresholds),
    )
    if effect.turn is Turn.FAIL_TO_PASS:
        text += " " + _("It turns a fail into a pass.")
    elif effect.turn is Turn.PASS_TO_FAIL:
        text += " " + _("It turns a pass into a fail.")
    return text


def _proposal_section(
    records: CallRecords,
    result: ProposalResult,
    fmt: Formatter,
    index: int,
    effect: ConsensusEffect | None = None,
) -> ProposalSection:
    scheme = records.scheme
    info = records.proposals.get(result.reference)
    letters = records.expert_letters.get(result.reference, {})
    # In panel order, so that Expert A comes first, as on the consensus page.
    expert_ids = sorted(
        {expert for c in result.criteria for expert, _v in c.by_expert},
        key=lambda e: (
            len(letters.get(e, "")) or 99,
            letters.get(e, ""),
            records.pseudonyms.get(e, e),
        ),
    )
    if records.anonymise_experts:
        names = [
            fmt.label("expert", letters.get(e, "?"), partial(_expert_name, letters.get(e, "?")))
            for e in expert_ids
        ]
    else:
        names = [records.expert_names.get(e, e) for e in expert_ids]
    label = dict(zip(expert_ids, names, strict=True))

    def who(expert: str) -> str:
        if expert in label:
            return label[expert]
        if not records.anonymise_experts:
            return records.expert_names.get(expert, expert)
        mark = letters.get(expert, "?")
        return fmt.label("expert", mark, partial(_expert_name, mark))

    consensus = records.consensus_comments.get(result.reference, {})
    details = []
    dots = []
    for spec, c in zip(scheme.criteria, result.criteria, strict=True):
        by_expert = dict(c.by_expert)
        comments = tuple(
            ExpertComment(label[e], text)
            for e in expert_ids
            if (text := records.review_comments.get((result.reference, e), {}).get(c.key))
        )
        details.append(
            CriterionDetail(
                title=spec.title,
                weight=fmt.plain(spec.weight),
                threshold=fmt.plain(spec.threshold),
                individual=tuple(fmt.score(by_expert.get(e)) for e in expert_ids),
                mean=fmt.score(c.mean),
                median=fmt.score(c.median),
                spread=(
                    "–"
                    if c.min is None or c.max is None
                    else fmt.score(Decimal(c.max) - Decimal(c.min))
                ),
                stdev=fmt.score(c.stdev),
                score=fmt.score(c.score),
                source=fmt.label("source", c.source, partial(_source_label, c.source, scheme)),
                meets_threshold=c.meets_threshold,
                disagreement=c.disagreement,
                consensus_comment=consensus.get(c.key, ""),
                comments=comments,
            )
        )
        dots.append(
            charts.DotRow(
                label=spec.title,
                values=c.individual,
                score=c.score,
                threshold=spec.threshold,
                disagreement=c.disagreement,
            )
        )
    decision = records.decisions.get(result.reference)
    return ProposalSection(
        anchor=f"p{index}",
        reference=result.reference,
        acronym=info.acronym if info else "",
        title=result.title,
        applicant=info.applicant if info else "",
        country=(info.country or "") if info else "",
        requested=fmt.money_eur(result.requested_funding),
        rank=_rank_text(result),
        status=result.status.value,
        status_label=_status(fmt, result.status.value),
        flags=_flags(result, scheme, fmt),
        experts=tuple(names),
        criteria=tuple(details),
        total=fmt.score(result.total),
        weighted_total=fmt.score(result.weighted_total),
        meets_overall=result.meets_overall_threshold,
        decision=_outcome(fmt, decision),
        rationale=decision.rationale if decision else "",
        crossing=_crossing_text(effect, scheme, fmt),
        justification=records.consensus_justifications.get(result.reference, ""),
        minority_views=tuple(
            ExpertComment(who(expert), text)
            for expert, text in records.minority_views.get(result.reference, ())
        ),
        chart=charts.score_dots_chart(
            dots,
            scale_min=scheme.scale.min,
            scale_max=scheme.scale.max,
            step=scheme.scale.step,
            tick_text=fmt.plain,
            score_text=fmt.score,
        ),
    )


def _method(records: CallRecords, fmt: Formatter) -> Method:
    scheme = records.scheme
    rules = scheme.rules
    scale = scheme.scale
    paragraphs = [
        _(
            "Each proposal was assessed by independent experts against %(count)s criteria, "
            "each scored from %(min)s to %(max)s in steps of %(step)s.",
            count=len(scheme.criteria),
            min=fmt.plain(scale.min),
            max=fmt.plain(scale.max),
            step=fmt.plain(scale.step),
        ),
        _(
            "Only submitted reviews count. A review by an expert who declared a conflict of "
            "interest for the proposal never counts."
        ),
        _(
            "The score of a criterion is the consensus score agreed by the experts where one "
            "is recorded; otherwise the mean of the individual scores."
        )
        if rules.aggregate == "mean"
        else _(
            "The score of a criterion is the consensus score agreed by the experts where one "
            "is recorded; otherwise the median of the individual scores."
        ),
        _(
            "A proposal needs at least %(count)s submitted reviews, or a consensus on every "
            "criterion, to be ranked; otherwise it is listed as incomplete.",
            count=rules.min_reviews,
        ),
    ]
    if rules.overall_threshold is not None:
        paragraphs.append(
            _(
                "A proposal passes when every criterion score reaches the criterion's threshold "
                "and the total of the criterion scores reaches %(threshold)s.",
                threshold=fmt.plain(rules.overall_threshold),
            )
        )
    else:
        paragraphs.append(
            _("A proposal passes when every criterion score reaches the criterion's threshold.")
        )
    paragraphs.append(
        _(
            "Passing proposals are ranked by the weighted total: the sum over the criteria of "
            "weight times criterion score."
        )
    )
    if rules.tie_break:
        titles = ", ".join(scheme.criterion(k).title for k in rules.tie_break)
        paragraphs.append(
            _(
                "Equal weighted totals are separated by the scores of %(criteria)s, in that "
                "order; proposals still equal share a rank (ex aequo).",
                criteria=titles,
            )
        )
    else:
        paragraphs.append(_("Proposals with equal weighted totals share a rank (ex aequo)."))
    if records.budget is not None:
        paragraphs.append(
            _(
                "The budget is %(budget)s. Proposals are placed on the main list in rank order "
                "while their cumulative requested funding fits in the budget; a group of ex "
                "aequo proposals is placed whole or not at all. The other passing proposals "
                "form the reserve list.",
                budget=fmt.money_eur(records.budget),
            )
        )
    else:
        paragraphs.append(_("The call has no budget: every passing proposal is on the main list."))
    if rules.disagreement_spread is not None:
        paragraphs.append(
            _(
                "A criterion is flagged for disagreement when the individual scores differ by "
                "%(spread)s points or more.",
                spread=fmt.plain(rules.disagreement_spread),
            )
        )
    paragraphs.append(
        _(
            "Thresholds, ties and the funding line are decided on exact values; scores are "
            "shown rounded half-up to two decimals."
        )
    )
    return Method(
        paragraphs=tuple(paragraphs),
        criteria=tuple(
            CriterionMethod(
                title=c.title,
                question=c.question,
                weight=fmt.plain(c.weight),
                threshold=fmt.plain(c.threshold),
            )
            for c in scheme.criteria
        ),
        scale=tuple((fmt.plain(Decimal(value)), label) for value, label in scale.labels),
    )


def _rules_in_short() -> tuple[str, ...]:
    return (
        _("Scores lie on the scheme's scale; anything else is refused when entered."),
        _("Drafts never count; reviews by experts with a conflict of interest never count."),
        _(
            "Criterion score: the final consensus score where recorded, otherwise the "
            "aggregate (mean or median) of the counted individual scores."
        ),
        _("Fewer counted reviews than the minimum and no consensus: incomplete, not ranked."),
        _(
            "Thresholds apply to unweighted criterion scores and to their unweighted total; "
            "a proposal below any threshold is not ranked."
        ),
        _("Ranking score: the weighted total, higher first."),
        _(
            "Equal weighted totals: the tie-break criteria decide in order; proposals still "
            "equal share a rank (1, 2, 2, 4) and are marked ex aequo."
        ),
        _(
            "Funding line: proposals are funded in rank order while the cumulative requested "
            "funding fits in the budget; the first one (or ex aequo group) that does not fit "
            "and all after it form the reserve list."
        ),
        _("Disagreement: the individual scores of a criterion differ by the set spread or more."),
    )


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
    no_consensus: str  # what the summary says when it has none
    total: str
    weighted_total: str
    overall_threshold: str
    passes: bool
    result: str
    outcome: str
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
    scheme = records.scheme
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
        no_consensus=no_consensus,
        total=fmt.score(result.total),
        weighted_total=fmt.score(result.weighted_total),
        overall_threshold=fmt.plain(scheme.rules.overall_threshold),
        passes=result.passes,
        result=verdict,
        outcome=outcome_label(decision.outcome if decision else None),
        rationale=decision.rationale if decision else "",
        scale_max=fmt.plain(scheme.scale.max),
    )
