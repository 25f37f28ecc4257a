"""The decision report's method chapter: the criteria, the scale and the rules in short, from
the call's scheme."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from ..scoring.scheme import Scheme
from .formatting import Formatter
from .records import CallRecords


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


def rules_text(
    scheme: Scheme, budget: Decimal | None, fmt: Formatter, *, panel: bool = False
) -> tuple[str, ...]:
    """The scheme's rules in sentences, in the current language. The scheme page and the
    decision report's method chapter print this same text, so a new rule is described once.
    ``panel``: the call has a panel review, whose order inside ties is a rule too."""
    rules = scheme.rules
    scale = scheme.scale
    paragraphs = [
        _(
            "Each proposal is assessed by independent experts against %(count)s criteria, "
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
    if panel:
        paragraphs.append(
            _(
                "A panel review orders the members of an ex aequo group: its recorded order, "
                "with a reason for each place, comes after the tie-break and before the funding "
                "line. Members the panel did not order stay ex aequo; the panel never moves a "
                "proposal past one with a different score."
            )
        )
    if budget is not None:
        paragraphs.append(
            _(
                "The budget is %(budget)s. Proposals are placed on the main list in rank order "
                "while their cumulative requested funding fits in the budget; a group of ex "
                "aequo proposals is placed whole or not at all. The other passing proposals "
                "form the reserve list.",
                budget=fmt.money_eur(budget),
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
    if rules.comment_min_chars:
        paragraphs.append(
            _(
                "Every comment has at least %(n)s characters.",
                n=rules.comment_min_chars,
            )
        )
    if scheme.conflicts.same_country:
        paragraphs.append(_("Experts from the proposal's country are not assigned to it."))
    if scheme.conflicts.same_organisation:
        paragraphs.append(
            _("Experts from the applicant organisation are not assigned to its proposal.")
        )
    return tuple(paragraphs)


def method_of(records: CallRecords, fmt: Formatter) -> Method:
    scheme = records.scheme.in_language(fmt.lang)  # the criteria file's words in the language
    scale = scheme.scale
    paragraphs = rules_text(scheme, records.budget, fmt, panel=records.panel is not None)
    return Method(
        paragraphs=paragraphs,
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


def rules_in_short() -> tuple[str, ...]:
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
