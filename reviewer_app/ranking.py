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

from sqlalchemy import Integer, and_, case, distinct, func, select, type_coerce

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
    CriterionSummary,
    EvaluationError,
    EvaluationIn,
    ProposalIn,
    ProposalResult,
    Ranking,
    ReviewIn,
    SummaryIn,
    evaluate,
)
from .scoring.numbers import format_money, format_score
from .scoring.scheme import Scheme


def evaluation_input(call: Call, *, references: Collection[str] | None = None) -> EvaluationIn:
    """The call's proposals, the reviews that count (submitted, by an expert without a
    conflict: the engine would skip the others), the final consensus scores and, when the call
    has a panel review, the panel's places in ex aequo groups. Experts are identified by
    ``str(user.id)``. With ``references``, only those proposals (for figures that belong to
    each proposal alone, such as the scores behind a row of the ranking page).

    Five queries whatever the size of the call, reading only the columns the engine needs (no
    comments, no ORM objects): every counted score, one row each. ``summary_input`` reads what
    they sum up to instead.
    """
    criterion_keys = _criterion_keys(call)
    # The proposals before their scores: a score is never read for a proposal not read.
    proposals = _proposals_with_ids(call, references)[1]
    a, p, s = table_of(Assignment), table_of(Proposal), table_of(Score)
    rows = (
        db.session.execute(
            select(
                a.c.id,
                p.c.reference,
                a.c.expert_id,
                s.c.criterion_id,
                type_coerce(s.c.value, Integer),  # the stored hundredths, made Decimal once each
            )
            .select_from(_counted_scores())
            .where(*_counted_where(call, references))
        )
        .tuples()
        .all()
    )  # fetchall: a row at a time costs a third more at 10,000 proposals
    # Grouped in the order the rows come; the engine's result does not depend on the order of
    # reviews or scores (tests/scoring/test_engine_properties.py), so nothing is sorted here.
    heads: dict[int, tuple[str, int]] = {}
    given: dict[int, list[tuple[str, Decimal]]] = {}
    for assignment_id, reference, expert_id, criterion_id, raw in rows:
        scores = given.get(assignment_id)
        if scores is None:
            heads[assignment_id] = (reference, expert_id)
            scores = given[assignment_id] = []
        scores.append((criterion_keys[criterion_id], _value_of(raw)))
    reviews = tuple(
        ReviewIn(proposal=reference, expert=str(expert_id), scores=tuple(given[assignment_id]))
        for assignment_id, (reference, expert_id) in heads.items()
    )
    return EvaluationIn(
        scheme=call.scheme,
        proposals=proposals,
        reviews=reviews,
        consensus=_consensus_in(call, criterion_keys, references),
        budget=call.budget_eur,
        panel_order=tuple(
            (reference, place)
            for reference, place in panel_order(call)
            if references is None or reference in references
        ),
    )


def summary_input(call: Call) -> EvaluationIn | None:
    """``evaluation_input`` with the counted scores summed up by the database: per proposal,
    how many reviews count and, per criterion, the count, sum, lowest and highest of their
    scores and how many are off a step of the scale. The same ranking from one row per proposal,
    without the scores themselves. None when the call's scheme needs the scores (a median) or
    has a step the stored hundredths cannot name.

    Five queries whatever the size of the call; at 10,000 proposals the summing query costs
    less than one bare query reading the scores (benchmarks/ranking_bench.py).
    """
    scheme = call.scheme
    if not summable(scheme):
        return None
    lowest, step = int(scheme.scale.min * 100), int(scheme.scale.step * 100)
    criterion_keys = _criterion_keys(call)
    ids, proposals = _proposals_with_ids(call)  # before their scores, as evaluation_input
    a, r, s = table_of(Assignment), table_of(Review), table_of(Score)
    value = type_coerce(s.c.value, Integer)
    # One column group per criterion (a call has a handful), so one pass over the scores
    # grouped by proposal gives both the per-criterion figures and the count of reviews.
    columns: list[Any] = []
    for criterion_id in criterion_keys:
        mine = s.c.criterion_id == criterion_id
        given = case((mine, value))
        off_step = case((and_(mine, (value - lowest) % step != 0), 1), else_=0)
        group = [func.count(given), func.sum(given), func.min(given), func.max(given)]
        columns += [*group, func.sum(off_step)]  # read back below in this order
    width = len(columns) // len(criterion_keys) if criterion_keys else 0
    rows = (
        db.session.execute(
            select(a.c.proposal_id, func.count(distinct(r.c.id)), *columns)
            .select_from(_counted_scores())
            .where(*_counted_where(call, None))
            .group_by(a.c.proposal_id)
        )
        .tuples()
        .all()
    )
    summaries = []
    for proposal_id, reviews, *figures in rows:
        criteria = []
        for index, key in enumerate(criterion_keys.values()):
            count, total, low, high, off = figures[index * width : (index + 1) * width]
            if count:
                criteria.append(
                    CriterionSummary(
                        key,
                        count,
                        Decimal(total).scaleb(-2),
                        _value_of(low),
                        _value_of(high),
                        off,
                    )
                )
        summaries.append(SummaryIn(ids[proposal_id], reviews, tuple(criteria)))
    return EvaluationIn(
        scheme=scheme,
        proposals=proposals,
        summaries=tuple(summaries),
        consensus=_consensus_in(call, criterion_keys, None),
        budget=call.budget_eur,
        panel_order=panel_order(call),
    )


def summable(scheme: Scheme) -> bool:
    """Whether a call of ``scheme`` can be ranked on its scores' sums (``summary_input``): a
    mean, on a scale whose minimum and step are whole hundredths (as the scores are stored)."""
    lowest, step = scheme.scale.min * 100, scheme.scale.step * 100
    return scheme.rules.aggregate == "mean" and not lowest % 1 and not step % 1


def _criterion_keys(call: Call) -> dict[int, str]:
    return dict(
        db.session.execute(select(Criterion.id, Criterion.key).where(Criterion.call_id == call.id))
        .tuples()
        .all()
    )


def _proposals_with_ids(
    call: Call, references: Collection[str] | None = None
) -> tuple[dict[int, str], tuple[ProposalIn, ...]]:
    """The call's proposals (or only ``references``) in reference order, and each one's
    reference by id."""
    only = () if references is None else (Proposal.reference.in_(list(references)),)
    rows = db.session.execute(
        select(Proposal.id, Proposal.reference, Proposal.title, Proposal.requested_funding_eur)
        .where(Proposal.call_id == call.id, *only)
        .order_by(Proposal.reference)
    ).tuples()
    ids: dict[int, str] = {}
    proposals = []
    for proposal_id, reference, title, funding in rows:
        ids[proposal_id] = reference
        proposals.append(ProposalIn(reference=reference, title=title, requested_funding=funding))
    return ids, tuple(proposals)


def _counted_scores() -> Any:
    """Scores with their review, assignment, proposal and conflict declaration: from the scores,
    as the bare query does (a submitted review has every score), which PostgreSQL plans three
    times faster than from the assignments outward."""
    a, p, r, d = (
        table_of(Assignment),
        table_of(Proposal),
        table_of(Review),
        table_of(ConflictDeclaration),
    )
    s = table_of(Score)
    return (
        s.join(r, r.c.id == s.c.review_id)
        .join(a, a.c.id == r.c.assignment_id)
        .join(p, p.c.id == a.c.proposal_id)
        .outerjoin(d, d.c.assignment_id == a.c.id)
    )


def _counted_where(call: Call, references: Collection[str] | None) -> tuple[Any, ...]:
    """What counts: submitted reviews of the call's proposals (or only ``references``) by
    experts without a conflict, and their scores that are given."""
    p, r, d, s = (
        table_of(Proposal),
        table_of(Review),
        table_of(ConflictDeclaration),
        table_of(Score),
    )
    return (
        p.c.call_id == call.id,
        *(() if references is None else (p.c.reference.in_(list(references)),)),
        r.c.status == ReviewStatus.SUBMITTED,
        s.c.value.is_not(None),
        d.c.has_conflict.is_not(True),
    )


def _consensus_in(
    call: Call, criterion_keys: dict[int, str], references: Collection[str] | None
) -> tuple[ConsensusIn, ...]:
    """The final consensus scores: a draft is work in progress, and only a final one overrides
    the individual scores."""
    p, c, cs = table_of(Proposal), table_of(ConsensusReport), table_of(ConsensusScore)
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
        agreed.setdefault(reference, []).append((criterion_id, _value_of(raw)))
    return tuple(
        ConsensusIn(
            proposal=reference,
            scores=tuple((criterion_keys[k], v) for k, v in sorted(agreed[reference])),
        )
        for reference in sorted(agreed)
    )


_VALUES: dict[int, Decimal] = {}  # a call has a handful of distinct scores: each converted once


def _value_of(hundredths: int) -> Decimal:
    value = _VALUES.get(hundredths)
    if value is None:
        converted = _SCORE.process_result_value(hundredths, _DIALECT)
        assert converted is not None  # NULL scores are left out by the queries
        value = converted
        if len(_VALUES) < 10_000:  # an edited row cannot make it grow without end
            _VALUES[hundredths] = value
    return value


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
_RANKINGS: OrderedDict[tuple[int, str, bool], Ranking] = OrderedDict()
_RANKINGS_LOCK = threading.Lock()
RANKINGS_KEPT = 4  # per process; at 10,000 proposals a ranking holds about 11 MB (25 with scores)


def rank_call(call: Call, *, with_scores: bool = False) -> Ranking:
    """The ranking of ``call`` as it stands now: ranked on the scores' sums (``summary_input``)
    unless the scheme needs the scores or ``with_scores`` asks for them (exports that list
    every score; a page shows the scores of its own rows with ``rows_with_scores``).

    Every write to a call is audited in the same transaction, so the digest of the call's
    newest audit event that changed something names the state of its data: a ranking computed
    for that digest is the ranking for as long as the digest stays the newest. The pages of a
    large call (50 rows at a time) therefore rank once per change, not once per page. The digest
    is read before the data, so a ranking is never filed under a newer state than it describes;
    the cache is per process and needs no sharing (another process computes its own).

    :raises EvaluationError: listing every score the engine refuses, review by review.
    """
    # A scheme that cannot be summed up is ranked from its scores either way: one entry.
    with_scores = with_scores or not summable(call.scheme)
    state = state_of(db.session, chain_of(call.id))[1]
    key = (call.id, state, with_scores)
    with _RANKINGS_LOCK:
        kept = _RANKINGS.get(key)
        if kept is not None:
            _RANKINGS.move_to_end(key)
            return kept
    with _cycle_collection_paused():
        summed = None if with_scores else summary_input(call)
        try:
            ranking = evaluate(evaluation_input(call) if summed is None else summed)
        except EvaluationError:
            if summed is None:
                raise
            # A sum cannot say which review holds the refused score; the scores can.
            ranking = evaluate(evaluation_input(call))
    with _RANKINGS_LOCK:
        _RANKINGS[key] = ranking
        while len(_RANKINGS) > RANKINGS_KEPT:
            _RANKINGS.popitem(last=False)
    return ranking


def rows_with_scores(call: Call, references: Collection[str]) -> dict[str, ProposalResult]:
    """The rows of ``references`` ranked from their scores, for the numbers behind each score
    (who gave what, the median, the spread) on a page that shows those rows. A row's criterion
    results depend on that proposal alone, so they are the ranking's; its rank and status here
    are not (only these proposals were ranked)."""
    if not references:
        return {}
    ranking = evaluate(evaluation_input(call, references=references))
    return {row.reference: row for row in ranking.rows}


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
