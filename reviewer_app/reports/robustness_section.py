"""The decision report's "Robustness of the ranking" (issue 14): agreement, leniency and each
proposal's funded probability and rank interval, beside the official ranking, as the analytics
page shows them (``analytics_display``), in the report's language. Experts appear by their
pseudonyms (E01 ...), as in ``evaluation.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.numbers import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from ..analytics.lottery import LotteryDraw
from ..analytics_display import agreement_reading, robustness_view
from ..call_analytics import CallAnalytics, ProposalFigures
from ..labels import status_label
from ..scoring.scheme import Scheme


@dataclass(frozen=True)
class AgreementRow:
    title: str
    alpha: str
    icc1: str
    units: str
    reading: str


@dataclass(frozen=True)
class ProposalLine:
    rank: str
    label: str
    status: str
    probability: str
    interval: str
    calibrated: str


@dataclass(frozen=True)
class RobustnessSection:
    agreement: tuple[AgreementRow, ...]
    offsets: Markup
    intervals: Markup
    has_line: bool
    uncertain: tuple[ProposalLine, ...]
    uncertain_total: int
    moved: tuple[ProposalLine, ...]
    moved_total: int
    method: str
    # The call's partial lottery, drawn with its published seed (empty: none).
    lottery_rule: str = ""
    lottery: tuple[tuple[str, str, str, str], ...] = ()  # proposal, probability, draw, result
    lottery_empty: bool = False  # drawn, with nobody between the bounds


def robustness_section(
    made: CallAnalytics,
    scheme: Scheme,
    lang: str,
    *,
    names: Mapping[str, str],
    pseudonyms: Mapping[str, str],
    lottery: LotteryDraw | None = None,
) -> RobustnessSection:
    """Call inside ``force_locale(lang)``. ``names``: reference -> "AIF-01 ACRONYM"."""

    def number(value: float | None, pattern: str = "0.000") -> str:
        return "–" if value is None else format_decimal(value, format=pattern, locale=lang)

    view = robustness_view(
        made,
        lambda reference: names.get(reference, reference),
        lambda expert: pseudonyms.get(expert, expert),
    )
    titles = {c.key: c.title for c in scheme.in_language(lang).criteria}

    def line(p: ProposalFigures) -> ProposalLine:
        return ProposalLine(
            rank="–" if p.official_rank is None else str(p.official_rank),
            label=names.get(p.reference, p.reference),
            status=status_label(p.status.value),
            probability=format_decimal(p.funded_probability * 100, format="0", locale=lang) + " %",
            interval=f"{p.rank_low}–{p.rank_high}",
            calibrated=(status_label("main") if p.calibrated_main else _("not on the main list")),
        )

    probability = {p.reference: p.funded_probability for p in made.proposals}

    def percent(reference: str) -> str:
        return format_decimal(probability[reference] * 100, format="0", locale=lang) + " %"

    lottery_rows: list[tuple[str, str, str, str]] = []
    rule_text = ""
    if lottery is not None:
        low, high = round(lottery.rule.low * 100), round(lottery.rule.high * 100)
        rule_text = _(
            "Partial lottery (seed %(seed)s, published before the draw): proposals with a funded "
            "probability above %(high)s %% are funded first, in rank order; the budget left is "
            "drawn among those from %(low)s %% to %(high)s %%, each funded in the drawn order if "
            "it still fits. Repeat it with reviewer-app analytics KEY --draw %(seed)s.",
            seed=lottery.seed,
            low=low,
            high=high,
        )
        for reference in lottery.sure:
            lottery_rows.append(
                (
                    names.get(reference, reference),
                    percent(reference),
                    _("no: clearly fundable"),
                    _("funded") if reference in lottery.funded else _("does not fit the budget"),
                )
            )
        for drawn, reference in enumerate(lottery.order, start=1):
            lottery_rows.append(
                (
                    names.get(reference, reference),
                    percent(reference),
                    _("drawn %(n)s.", n=drawn),
                    _("funded") if reference in lottery.funded else _("not funded"),
                )
            )

    return RobustnessSection(
        lottery_rule=rule_text,
        lottery=tuple(lottery_rows),
        lottery_empty=lottery is not None and not lottery.pool,
        agreement=tuple(
            AgreementRow(
                title=titles.get(key, _("Total")),
                alpha=number(figures.krippendorff_alpha),
                icc1=number(figures.icc1),
                units=str(figures.units),
                reading=agreement_reading(figures.krippendorff_alpha, made.too_few(key)),
            )
            for key, figures in made.analytics.reliability.items()
        ),
        offsets=view.offsets,
        intervals=view.intervals,
        has_line=made.has_line,
        uncertain=tuple(line(p) for p in view.uncertain),
        uncertain_total=view.uncertain_total,
        moved=tuple(line(p) for p in view.moved),
        moved_total=view.moved_total,
        method=_(
            "In each of %(samples)s samples (seed %(seed)s) every proposal's reviews are drawn "
            "again with replacement and the whole ranking is recomputed with the call's rules; "
            "the funded probability is the share of samples with the proposal on the main list, "
            "the rank interval holds 90%% of its ranks. Only individual reviews are resampled: "
            "final consensus scores and the panel's order are not used, so the figures say how "
            "much the outcome depends on which experts happened to review. Reproduce them with "
            "reviewer-app analytics KEY --seed %(seed)s; they are embedded as analytics.json.",
            samples=format_decimal(made.analytics.samples, format="#,##0", locale=lang),
            seed=made.analytics.seed,
        ),
    )
