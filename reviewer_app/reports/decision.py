"""The decision report's content: frozen dataclasses of display strings made from
``CallRecords``, formatted for the language.

Templates never see an ORM object and never compute a number: every score comes from
``ranking.Ranking`` and is shown rounded half-up like the CSV.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..labels import flag_label, outcome_label, phase_label, status_label
from ..models import (
    DecisionOutcome,
)
from ..scoring.consensus import OVERALL, ConsensusEffect, Turn, consensus_effect
from ..scoring.engine import (
    SOURCE_CONSENSUS,
    ProposalResult,
    ReviewIn,
    Status,
)
from ..scoring.scheme import Scheme
from . import charts
from .evaluation import (
    DecisionFacts,
)
from .formatting import Formatter, expert_name
from .method import Method, method_of, rules_in_short
from .panel_section import PanelSection, panel_section
from .records import CallRecords
from .robustness_section import RobustnessSection

# The totals chart stays readable up to this many bars; larger calls chart the top of the list.
TOTALS_CHART_MAX_BARS = 40
# --------------------------------------------------------------------------------------------
# Step 2a: the decision report


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
    overall_comment: str = ""
    minority_views: tuple[ExpertComment, ...] = ()
    panel_comment: str = ""


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
    panel: PanelSection | None = None
    robustness: RobustnessSection | None = None  # issue 14: made by services, not from records
    extra: dict[str, Any] = field(default_factory=dict)


def decision_report(records: CallRecords, lang: str) -> DecisionReport:
    """The decision report's data, in ``lang`` (en or de)."""
    with force_locale(lang):
        return _decision_report(records, Formatter(lang))


def _decision_report(records: CallRecords, fmt: Formatter) -> DecisionReport:
    scheme = records.scheme.in_language(fmt.lang)  # the criteria file's words in the language
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
        method=method_of(records, fmt),
        figures=figures,
        phase_moves=tuple(moves),
        criteria_titles=tuple(c.title for c in scheme.criteria),
        rows=tuple(rows),
        funding_line_at_end=funding_line_at_end,
        has_budget=has_budget,
        totals_chart=totals_chart,
        totals_chart_note=note,
        proposals=sections,
        rules=rules_in_short(),
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
        panel=panel_section(records, ranking, {s.value: _status(fmt, s.value) for s in Status}),
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
    return tuple(
        fmt.label("flag", f, partial(flag_label, f, {c.key: c.title for c in scheme.criteria}))
        for f in result.flags
    )


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
    scheme = records.scheme.in_language(fmt.lang)  # the criteria file's words in the language
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
            fmt.label("expert", letters.get(e, "?"), partial(expert_name, letters.get(e, "?")))
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
        return fmt.label("expert", mark, partial(expert_name, mark))

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
        overall_comment=records.consensus_overall.get(result.reference, ""),
        panel_comment=records.panel.comments.get(result.reference, "") if records.panel else "",
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
