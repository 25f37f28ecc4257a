"""From the database to the scoring engine: the ranking of a call, for every page and export.

Rows become the frozen inputs of ``scoring.engine``; nothing here decides a number. The loading
uses a fixed handful of queries whatever the size of the call.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import (
    Assignment,
    Call,
    ConsensusReport,
    ConsensusStatus,
    Criterion,
    Proposal,
    Review,
    ReviewStatus,
)
from .scoring.columns import RANKING_LEADING, RANKING_TRAILING
from .scoring.engine import (
    ConsensusIn,
    EvaluationIn,
    ProposalIn,
    ProposalResult,
    Ranking,
    ReviewIn,
    evaluate,
)
from .scoring.numbers import format_money, format_score


def evaluation_input(call: Call) -> EvaluationIn:
    """The call's proposals, every review (drafts and conflicted ones marked, the engine skips
    them) and the final consensus scores. Experts are identified by ``str(user.id)``."""
    scheme = call.scheme
    criterion_keys = dict(
        db.session.execute(select(Criterion.id, Criterion.key).where(Criterion.call_id == call.id))
        .tuples()
        .all()
    )
    proposals = db.session.execute(
        select(Proposal.reference, Proposal.title, Proposal.requested_funding_eur)
        .where(Proposal.call_id == call.id)
        .order_by(Proposal.reference)
    ).all()
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call.id)
        .options(
            joinedload(Assignment.proposal).load_only(Proposal.reference),
            joinedload(Assignment.declaration),
            joinedload(Assignment.review).selectinload(Review.scores),
        )
        .order_by(Assignment.id)
    ).unique()
    reviews = []
    for assignment in assignments:
        review = assignment.review
        if review is None:
            continue
        reviews.append(
            ReviewIn(
                proposal=assignment.proposal.reference,
                expert=str(assignment.expert_id),
                scores=tuple(
                    (criterion_keys[s.criterion_id], s.value)
                    for s in sorted(review.scores, key=lambda s: s.criterion_id)
                    if s.value is not None
                ),
                submitted=review.status is ReviewStatus.SUBMITTED,
                conflicted=assignment.has_conflict,
            )
        )
    # A draft consensus is work in progress: only a final one overrides the individual scores.
    reports = db.session.scalars(
        select(ConsensusReport)
        .join(ConsensusReport.proposal)
        .where(Proposal.call_id == call.id, ConsensusReport.status == ConsensusStatus.FINAL)
        .options(
            joinedload(ConsensusReport.proposal).load_only(Proposal.reference),
            selectinload(ConsensusReport.scores),
        )
        .order_by(ConsensusReport.id)
    ).unique()
    consensus = tuple(
        ConsensusIn(
            proposal=report.proposal.reference,
            scores=tuple(
                (criterion_keys[s.criterion_id], s.value)
                for s in sorted(report.scores, key=lambda s: s.criterion_id)
                if s.value is not None
            ),
        )
        for report in reports
    )
    return EvaluationIn(
        scheme=scheme,
        proposals=tuple(
            ProposalIn(reference=ref, title=title, requested_funding=funding)
            for ref, title, funding in proposals
        ),
        reviews=tuple(reviews),
        consensus=consensus,
        budget=call.budget_eur,
    )


def rank_call(call: Call) -> Ranking:
    """The ranking of ``call`` as it stands now."""
    return evaluate(evaluation_input(call))


def ranking_header(ranking: Ranking) -> list[str]:
    return [*RANKING_LEADING, *ranking.scheme.criterion_keys, *RANKING_TRAILING]


def ranking_cells(row: ProposalResult) -> list[str]:
    """One proposal as the text cells of ``ranking_header`` (scores half-up to two decimals)."""
    return [
        "" if row.rank is None else str(row.rank),
        row.reference,
        row.title,
        str(row.reviews),
        *(format_score(c.score) for c in row.criteria),
        format_score(row.total),
        format_score(row.weighted_total),
        row.status.value,
        ";".join(row.flags),
    ]


def ranking_csv(ranking: Ranking) -> str:
    """The ranking as CSV, exactly what ``reviewer-app ranking --format csv`` prints.

    Text cells starting with ``=``, ``+``, ``-`` or ``@`` are escaped so a spreadsheet never runs
    a proposal title as a formula.
    """
    from .exports import csv_text

    return csv_text(ranking_header(ranking), [ranking_cells(row) for row in ranking.rows])


def ranking_json(ranking: Ranking) -> dict[str, Any]:
    """The ranking as plain JSON data: scores as two-decimal strings (JSON has no decimals)."""
    return {
        "scheme": ranking.scheme.key,
        "budget_eur": format_money(ranking.budget) or None,
        "main_total_eur": format_money(ranking.main_total),
        "reserve_total_eur": format_money(ranking.reserve_total),
        "criteria": list(ranking.scheme.criterion_keys),
        "proposals": [
            {
                "rank": row.rank,
                "reference": row.reference,
                "title": row.title,
                "status": row.status.value,
                "ex_aequo": row.ex_aequo,
                "flags": list(row.flags),
                "reviews": row.reviews,
                "scores": {c.key: format_score(c.score) or None for c in row.criteria},
                "criteria": [
                    {
                        "key": c.key,
                        "score": format_score(c.score) or None,
                        "source": c.source,
                        "n": c.n,
                        "individual": [str(v) for v in c.individual],
                        "mean": format_score(c.mean) or None,
                        "median": format_score(c.median) or None,
                        "min": format_score(c.min) or None,
                        "max": format_score(c.max) or None,
                        "stdev": format_score(c.stdev) or None,
                        "meets_threshold": c.meets_threshold,
                        "disagreement": c.disagreement,
                    }
                    for c in row.criteria
                ],
                "total": format_score(row.total) or None,
                "weighted_total": format_score(row.weighted_total) or None,
                "passes": row.passes,
                "meets_overall_threshold": row.meets_overall_threshold,
                "has_full_consensus": row.has_full_consensus,
                "requested_funding_eur": format_money(row.requested_funding) or None,
                "cumulative_funding_eur": format_money(row.cumulative_funding) or None,
            }
            for row in ranking.rows
        ],
    }


def ranking_json_text(ranking: Ranking) -> str:
    return json.dumps(ranking_json(ranking), indent=2, ensure_ascii=False) + "\n"


def ranking_table(ranking: Ranking) -> str:
    """The ranking for a terminal: aligned columns, the funding line drawn under the main list."""
    header = [
        "rank",
        "reference",
        "title",
        "rev",
        *ranking.scheme.criterion_keys,
        "total",
        "weighted",
        "requested",
        "cumulative",
        "status",
        "flags",
    ]
    numeric = {0, 3, *range(4, 4 + len(ranking.scheme.criteria) + 4)}
    body: list[list[str]] = []
    line_after: int | None = None
    for index, row in enumerate(ranking.rows):
        title = row.title if len(row.title) <= 40 else row.title[:39] + "…"
        body.append(
            [
                "" if row.rank is None else f"{row.rank}{'=' if row.ex_aequo else ''}",
                row.reference,
                title,
                str(row.reviews),
                *(format_score(c.score) for c in row.criteria),
                format_score(row.total),
                format_score(row.weighted_total),
                format_money(row.requested_funding),
                format_money(row.cumulative_funding),
                row.status.value,
                " ".join(row.flags),
            ]
        )
        if row.status.value == "main":
            line_after = index
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    funding_line = (
        f"---- funding line: budget {format_money(ranking.budget)} EUR, "
        f"main list {format_money(ranking.main_total)} EUR ----"
    )
    out = [line(header), line(["-" * w for w in widths])]
    if ranking.budget is not None and line_after is None:
        out.append(funding_line)  # nothing fits: the line sits above every proposal
    for index, cells in enumerate(body):
        out.append(line(cells))
        if ranking.budget is not None and index == line_after:
            out.append(funding_line)
    if ranking.budget is None:
        out.append(
            "no budget: every passing proposal is on the main list "
            f"({format_money(ranking.main_total)} EUR)"
        )
    return "\n".join(out) + "\n"
