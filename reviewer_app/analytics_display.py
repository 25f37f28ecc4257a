"""What the analytics page and the decision report's robustness section show: the readings in
plain words and the charts' rows, made once from ``call_analytics.CallAnalytics`` so the page
and the PDF say the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from .analytics.lottery import LotteryDraw
from .call_analytics import CallAnalytics, ProposalFigures

CHART_ROWS = 40  # proposals in the intervals chart: those around the funding line
TABLE_ROWS = 100  # proposals listed as uncertain, moved by the calibration, or in the lottery


def agreement_reading(alpha: float | None, too_few: bool) -> str:
    """Krippendorff's alpha in words (Krippendorff 2004: rely on 0.800 and up, tentative
    conclusions from 0.667; docs/analytics.md)."""
    if too_few:
        return _("Too few proposals with two reviews or more to say anything.")
    if alpha is None:
        return _("Not computable: every score is the same.")
    alpha = round(alpha, 3)  # read as shown: three decimals, as Krippendorff's bounds are
    if alpha >= 0.8:
        return _("Good: the experts largely agree.")
    if alpha >= 0.667:
        return _("Moderate: enough for tentative conclusions only.")
    if alpha >= 0.2:
        return _("Low: one expert's score says little about what another would give.")
    return _("Very low: hardly better than chance.")


@dataclass(frozen=True)
class RobustnessView:
    uncertain: tuple[ProposalFigures, ...]  # interval across the funding line
    moved: tuple[ProposalFigures, ...]  # the calibrated ranking puts them on the other side
    uncertain_total: int
    moved_total: int
    intervals: Markup
    offsets: Markup


def robustness_view(
    made: CallAnalytics, names: Callable[[str], str], expert_label: Callable[[str], str]
) -> RobustnessView:
    """The lists and charts; ``names(reference)`` labels a proposal in the charts,
    ``expert_label(expert id)`` an expert."""
    # Imported here: the reports package imports this module (its robustness section).
    from .reports.robustness_charts import Interval, Offset, offsets_chart, rank_intervals_chart

    rows = made.proposals
    uncertain = [p for p in rows if p.crosses_line]
    moved = [p for p in rows if p.side_changes]
    ranked = [p for p in rows if p.official_rank is not None]
    # The chart shows the proposals around the funding line (all of a small call).
    line = made.main_count
    start = max(0, min(line - CHART_ROWS // 2, len(ranked) - CHART_ROWS))
    shown = ranked[start : start + CHART_ROWS]
    intervals = rank_intervals_chart(
        [
            Interval(
                label=names(p.reference),
                low=p.rank_low,
                high=p.rank_high,
                official=p.official_rank,
                crosses=p.crosses_line,
            )
            for p in shown
        ],
        ranks=max([p.rank_high for p in rows] + [len(ranked) + 1, 2]),
        line_after=line if made.has_line else None,
        title=_("Rank intervals against the funding line"),
        axis_label=_("Rank (dot: official rank; bar: 90% of the samples)"),
        line_label=_("Funding line"),
    )
    experts = sorted(made.analytics.experts, key=lambda e: (-e.offset, e.expert))
    if len(experts) > CHART_ROWS:  # a large call: the most lenient and the most severe
        experts = experts[: CHART_ROWS // 2] + experts[-CHART_ROWS // 2 :]
    offsets = offsets_chart(
        [Offset(label=expert_label(e.expert), value=e.offset, stderr=e.stderr) for e in experts],
        title=_("Leniency of each expert"),
        axis_label=_("Offset in points of total (right: more lenient; line: 95% interval)"),
        tick_text=lambda value: format_decimal(value, format="+0.00;-0.00") if value else "0",
    )
    return RobustnessView(
        uncertain=tuple(uncertain[:TABLE_ROWS]),
        moved=tuple(moved[:TABLE_ROWS]),
        uncertain_total=len(uncertain),
        moved_total=len(moved),
        intervals=intervals,
        offsets=offsets,
    )


@dataclass(frozen=True)
class LotteryRows:
    """The drawn lottery's table on the page: at most ``TABLE_ROWS`` clearly fundable proposals
    and ``TABLE_ROWS`` drawn ones (a call of thousands can have hundreds of each; the CSV and
    JSON downloads list them all)."""

    sure: tuple[str, ...]  # in rank order
    order: tuple[str, ...]  # in the drawn order
    sure_total: int
    order_total: int
    funded: frozenset[str]


def lottery_rows(drawn: LotteryDraw) -> LotteryRows:
    return LotteryRows(
        sure=drawn.sure[:TABLE_ROWS],
        order=drawn.order[:TABLE_ROWS],
        sure_total=len(drawn.sure),
        order_total=len(drawn.order),
        funded=frozenset(drawn.funded),
    )
