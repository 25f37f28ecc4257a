"""From the database to the scoring engine: the ranking of a call, for every page and export.

Rows become the frozen inputs of ``scoring.engine``; nothing here decides a number. The loading
uses a fixed handful of queries whatever the size of the call.
"""

from __future__ import annotations

import gc
import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, select, type_coerce

from .audit.chain import state_of
from .extensions import db, table_of
from .models import (
    Assignment,
    Call,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Criterion,
    Proposal,
    Review,
    ReviewStatus,
    Score,
)
from .models.audit import chain_of
from .models.types import Hundredths
from .panel import panel_order
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


def evaluation_input(call: Call, *, references: Collection[str] | None = None) -> EvaluationIn:
    """The call's proposals, the reviews that count (submitted, by an expert without a
    conflict: the engine would skip the others), the final consensus scores and, when the call
    has a panel review, the panel's places in ex aequo groups. Experts are identified by
    ``str(user.id)``. With ``references``, only those proposals (for figures that belong to
    each proposal alone, such as a disagreement flag).

    Five queries whatever the size of the call, reading only the columns the engine needs (no
    comments, no ORM objects): at 10,000 proposals the loading costs about what one bare query
    over the scores does (benchmarks/ranking_bench.py).
    """
    scheme = call.scheme
    criterion_keys = dict(
        db.session.execute(select(Criterion.id, Criterion.key).where(Criterion.call_id == call.id))
        .tuples()
        .all()
    )
    only = () if references is None else (Proposal.reference.in_(list(references)),)
    proposals = db.session.execute(
        select(Proposal.reference, Proposal.title, Proposal.requested_funding_eur)
        .where(Proposal.call_id == call.id, *only)
        .order_by(Proposal.reference)
    ).all()
    a, p, r = table_of(Assignment), table_of(Proposal), table_of(Review)
    d, s = table_of(ConflictDeclaration), table_of(Score)
    rows = (
        db.session.execute(
            select(
                a.c.id,
                p.c.reference,
                a.c.expert_id,
                s.c.criterion_id,
                type_coerce(s.c.value, Integer),  # the stored hundredths, made Decimal once each
            )
            # From the scores, as the bare query does (a submitted review has every score):
            # PostgreSQL plans this three times faster than from the assignments outward.
            .select_from(
                s.join(r, r.c.id == s.c.review_id)
                .join(a, a.c.id == r.c.assignment_id)
                .join(p, p.c.id == a.c.proposal_id)
                .outerjoin(d, d.c.assignment_id == a.c.id)
            )
            .where(
                p.c.call_id == call.id,
                *(() if references is None else (p.c.reference.in_(list(references)),)),
                r.c.status == ReviewStatus.SUBMITTED,
                s.c.value.is_not(None),
                d.c.has_conflict.is_not(True),
            )
        )
        .tuples()
        .all()
    )  # fetchall: a row at a time costs a third more at 10,000 proposals
    values: dict[int, Decimal] = {}

    def value_of(hundredths: int) -> Decimal:
        value = values.get(hundredths)
        if value is None:
            converted = _SCORE.process_result_value(hundredths, _DIALECT)
            assert converted is not None  # NULL scores are left out by the query
            value = values[hundredths] = converted
        return value

    # Grouped in the order the rows come; the engine's result does not depend on the order of
    # reviews or scores (tests/scoring/test_engine_properties.py), so nothing is sorted here.
    heads: dict[int, tuple[str, int]] = {}
    given: dict[int, list[tuple[str, Decimal]]] = {}
    for assignment_id, reference, expert_id, criterion_id, raw in rows:
        scores = given.get(assignment_id)
        if scores is None:
            heads[assignment_id] = (reference, expert_id)
            scores = given[assignment_id] = []
        value = values.get(raw)
        if value is None:
            value = value_of(raw)
        scores.append((criterion_keys[criterion_id], value))
    reviews = tuple(
        ReviewIn(proposal=reference, expert=str(expert_id), scores=tuple(given[assignment_id]))
        for assignment_id, (reference, expert_id) in heads.items()
    )
    # A draft consensus is work in progress: only a final one overrides the individual scores.
    c, cs = table_of(ConsensusReport), table_of(ConsensusScore)
    agreed: dict[str, list[tuple[int, Decimal]]] = {}
    for reference, criterion_id, raw in (
        db.session.execute(
            select(p.c.reference, cs.c.criterion_id, type_coerce(cs.c.value, Integer))
            .select_from(cs.join(c, c.c.id == cs.c.report_id).join(p, p.c.id == c.c.proposal_id))
            .where(
                p.c.call_id == call.id,
                *(() if references is None else (p.c.reference.in_(list(references)),)),
                c.c.status == ConsensusStatus.FINAL,
                cs.c.value.is_not(None),
            )
        )
        .tuples()
        .all()
    ):
        agreed.setdefault(reference, []).append((criterion_id, value_of(raw)))
    consensus = tuple(
        ConsensusIn(
            proposal=reference,
            scores=tuple((criterion_keys[k], v) for k, v in sorted(agreed[reference])),
        )
        for reference in sorted(agreed)
    )
    return EvaluationIn(
        scheme=scheme,
        proposals=tuple(
            ProposalIn(reference=ref, title=title, requested_funding=funding)
            for ref, title, funding in proposals
        ),
        reviews=reviews,
        consensus=consensus,
        budget=call.budget_eur,
        panel_order=tuple(
            (reference, place)
            for reference, place in panel_order(call)
            if references is None or reference in references
        ),
    )


_SCORE = Hundredths()
_DIALECT: Any = None  # the score type's conversion does not depend on the database


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Loading and ranking a large call makes hundreds of thousands of small objects and no
    reference cycles; Python's cycle collector would walk them all again and again (40% of
    the time at 10,000 proposals). Paused for the duration, on again afterwards (if it was:
    another thread's pause ends by its own ``finally``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# The last rankings this process computed, by (call, audit state): see ``rank_call``.
_RANKINGS: OrderedDict[tuple[int, str], Ranking] = OrderedDict()
_RANKINGS_LOCK = threading.Lock()
RANKINGS_KEPT = 4  # per process; a 10,000-proposal ranking takes about 60 MB


def rank_call(call: Call) -> Ranking:
    """The ranking of ``call`` as it stands now.

    Every write to a call is audited in the same transaction, so the digest of the call's
    newest audit event that changed something names the state of its data: a ranking computed
    for that digest is the ranking for as long as the digest stays the newest. The pages of a
    large call (50 rows at a time) therefore rank once per change, not once per page. The digest
    is read before the data, so a ranking is never filed under a newer state than it describes;
    the cache is per process and needs no sharing (another process computes its own).
    """
    state = state_of(db.session, chain_of(call.id))[1]
    key = (call.id, state)
    with _RANKINGS_LOCK:
        kept = _RANKINGS.get(key)
        if kept is not None:
            _RANKINGS.move_to_end(key)
            return kept
    with _cycle_collection_paused():
        ranking = evaluate(evaluation_input(call))
    with _RANKINGS_LOCK:
        _RANKINGS[key] = ranking
        while len(_RANKINGS) > RANKINGS_KEPT:
            _RANKINGS.popitem(last=False)
    return ranking


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
