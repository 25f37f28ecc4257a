"""A call's decision analytics (issue 14): ``reviewer_app.analytics`` run on the call as it
stands, with what the readers need around the figures (experts' e-mails, the official ranking
and its funding line), in the one JSON and CSV shape that the command, the page and the
decision report's embedded file all use.

The figures of one state of the call's data are computed once per process and kept, like the
ranking (``ranking.rank_call``): the audit chain's digest names the state.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .analytics import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    TOTAL,
    Analytics,
    Calibrated,
    ExpertOffset,
    ProposalRobustness,
    Reliability,
    analyse,
)
from .analytics.lottery import LotteryDraw, LotteryRule, draw
from .audit.chain import state_of
from .audit.events import LotteryDrawn, LotterySeedPublished
from .errors import DomainError
from .extensions import db
from .locks import lock_call
from .models import Call, Phase, Proposal, ReportJob, User, utcnow
from .models.audit import chain_of, record
from .ranking import evaluation_input, rank_call
from .scoring.engine import EvaluationIn, Ranking, Status

DECIMALS = 6  # "floats with at least 4 decimals" (issue 14): six, so sums still add up
# A reading of agreement needs enough proposals with two reviews or more; below this the
# page says there are too few reviews to say anything (docs/analytics.md).
MIN_UNITS = 5


@dataclass(frozen=True)
class ProposalFigures:
    """One proposal's row: the official result beside what the bootstrap and the leniency fit
    say about it."""

    reference: str
    official_rank: int | None
    status: Status
    funded_probability: float
    rank_low: int
    rank_high: int
    crosses_line: bool  # its rank interval reaches both sides of the funding line
    calibrated_total: float | None
    calibrated_main: bool
    side_changes: bool  # the calibrated ranking puts it on the other side of the line


@dataclass(frozen=True)
class CallAnalytics:
    analytics: Analytics
    ranking: Ranking  # the official one, the engine's
    emails: dict[str, str]  # expert id -> e-mail

    @property
    def main_count(self) -> int:
        """Proposals on the official main list: the funding line lies after this rank."""
        return len(self.ranking.with_status(Status.MAIN))

    @property
    def has_line(self) -> bool:
        return self.ranking.budget is not None

    @cached_property
    def proposals(self) -> tuple[ProposalFigures, ...]:
        """In the official order (ranked first, then the rest, as the ranking lists them)."""
        robust = {p.reference: p for p in self.analytics.proposals}
        calibrated = {c.reference: c for c in self.analytics.calibrated}
        line = self.main_count
        rows = []
        for row in self.ranking.rows:
            figures, fit = robust[row.reference], calibrated[row.reference]
            main = row.status is Status.MAIN
            rows.append(
                ProposalFigures(
                    reference=row.reference,
                    official_rank=row.rank,
                    status=row.status,
                    funded_probability=figures.funded_probability,
                    rank_low=figures.rank_low,
                    rank_high=figures.rank_high,
                    crosses_line=self.has_line and figures.rank_low <= line < figures.rank_high,
                    calibrated_total=fit.calibrated_total,
                    calibrated_main=fit.main,
                    side_changes=row.passes and fit.main != main,
                )
            )
        return tuple(rows)

    def too_few(self, key: str) -> bool:
        """Whether the agreement on ``key`` rests on too few proposals to read it."""
        return self.analytics.reliability[key].units < MIN_UNITS


_KEPT: OrderedDict[tuple[int, str, int, int], CallAnalytics] = OrderedDict()
_LOCK = threading.Lock()
KEPT = 4  # per process


def call_analytics(
    call: Call,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    loaded: tuple[EvaluationIn, Ranking] | None = None,
) -> CallAnalytics:
    """The analytics of ``call`` as its data stands now (same data and seed, same figures).

    :raises EvaluationError: the stored scores cannot be evaluated (as for the ranking).
    """
    state = state_of(db.session, chain_of(call.id))[1]  # read before the data, as rank_call
    key = (call.id, state, samples, seed)
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is not None:
            _KEPT.move_to_end(key)
            return kept
    # The decision report has read the call already (its records): not a second time.
    data, ranking = loaded if loaded is not None else (evaluation_input(call), rank_call(call))
    experts = sorted({int(r.expert) for r in data.reviews})
    emails = {
        str(user_id): email
        for user_id, email in db.session.execute(
            select(User.id, User.email).where(User.id.in_(experts))
        ).tuples()
    }
    made = CallAnalytics(
        analytics=analyse(data, samples=samples, seed=seed, progress=progress),
        ranking=ranking,
        emails=emails,
    )
    with _LOCK:
        _KEPT[key] = made
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return made


# A finished analytics job's figures, read back beside a ranking: ``analytics_of_job``.
_OF_JOBS: OrderedDict[tuple[int, str, int], CallAnalytics] = OrderedDict()
OF_JOBS_KEPT = 2  # each holds its ranking (about 11 MB at 10,000 proposals)


def analytics_of_job(job: ReportJob, ranking: Ranking) -> CallAnalytics:
    """The figures a finished analytics job wrote (``from_document``), beside ``ranking``, the
    official ranking of the job's state of the data. A job belongs to one state, so its figures
    never change: each process reads them once (0.2 s and 3 MB of JSON at 10,000 proposals),
    not on every request for the page.

    Kept by the job, the state of the data it describes (a restored database can reuse a job's
    number, never with the same state) and the very ranking object they were read beside: the
    entry holds that ranking, so no other object can have its ``id`` while it is kept, and a
    newer ranking (the data changed since) makes a new entry."""
    key = (job.id, job.data_state, id(ranking))
    with _LOCK:
        kept = _OF_JOBS.get(key)
        if kept is not None:
            _OF_JOBS.move_to_end(key)
            return kept
    made = from_document(json.loads(job.content or b"{}"), ranking)
    with _LOCK:
        _OF_JOBS[key] = made
        while len(_OF_JOBS) > OF_JOBS_KEPT:
            _OF_JOBS.popitem(last=False)
    return made


def computed_in_background(call: Call, inline_limit: int) -> bool:
    """Whether the call is large enough for its figures to be a background job."""
    count = db.session.scalar(select(func.count(Proposal.id)).where(Proposal.call_id == call.id))
    return (count or 0) > inline_limit


class LotteryRefused(DomainError):
    """The call's lottery cannot take this seed (none set up, one already published, or not
    the ranking phase)."""


def lottery_rule(call: Call) -> LotteryRule | None:
    """The call's lottery bounds as fractions; None when it has no lottery."""
    low, high = call.lottery_low_percent, call.lottery_high_percent
    return None if low is None or high is None else LotteryRule(low / 100, high / 100)


def published_draw(call: Call) -> LotteryDraw | None:
    """The call's lottery as it was drawn (kept since); None before the draw or without one."""
    if call.lottery_result is None:
        return None
    return lottery_from_json(call.lottery_result)


def lottery_draw(made: CallAnalytics, rule: LotteryRule, seed: int) -> LotteryDraw:
    """The draw with ``seed`` over the funded probabilities of ``made``."""
    probabilities = {p.reference: p.funded_probability for p in made.analytics.proposals}
    return draw(made.ranking, probabilities, rule, seed)


def lottery_json(result: LotteryDraw) -> dict[str, Any]:
    """The draw as ``reviewer-app analytics KEY --draw SEED`` prints it and the report embeds it."""
    return {
        "rule": {"low": result.rule.low, "high": result.rule.high},
        "seed": result.seed,
        "sure": list(result.sure),
        "pool": list(result.pool),
        "order": list(result.order),
        "funded": list(result.funded),
        "budget_eur": None if result.budget is None else str(result.budget),
        "spent_eur": str(result.spent),
    }


def _lottery_locked(call: Call) -> tuple[Phase, LotteryRule]:
    """Lock the call and read its lottery as committed (two coordinators at once must not
    both publish, or both draw)."""
    phase = lock_call(call)
    db.session.refresh(
        call,
        ["lottery_low_percent", "lottery_high_percent", "lottery_seed", "lottery_result"],
    )
    rule = lottery_rule(call)
    if rule is None:
        raise LotteryRefused(_l("This call has no partial lottery: set its bounds first."))
    return phase, rule


def publish_lottery_seed(call: Call, seed: int, *, actor: User) -> None:
    """Fix and publish the seed of the call's lottery, once, audited. Only while the experts
    may still change their reviews (set-up or evaluation): then nobody can know which
    proposals the draw will be among, so nobody can pick a seed that favours one.

    :raises LotteryRefused: no lottery set up, a seed already published, or too late.
    """
    phase, _rule = _lottery_locked(call)
    if call.lottery_seed is not None:
        raise LotteryRefused(
            _l("The lottery's seed is published already: it cannot change any more.")
        )
    if phase not in (Phase.SETUP, Phase.EVALUATION):
        raise LotteryRefused(
            _l(
                "The seed must be published before the evaluation closes, while nobody can "
                "know which proposals the draw will be among."
            )
        )
    if not 0 <= seed < 2**63:
        raise LotteryRefused(_l("Choose a whole number from 0 to 9,223,372,036,854,775,807."))
    call.lottery_seed, call.lottery_seed_published_at = seed, utcnow()
    assert call.lottery_low_percent is not None and call.lottery_high_percent is not None
    record(
        LotterySeedPublished(
            seed=seed,
            low_percent=call.lottery_low_percent,
            high_percent=call.lottery_high_percent,
        ),
        call,
        call_id=call.id,
        actor_id=actor.id,
    )
    db.session.flush()


def draw_lottery(call: Call, *, actor: User) -> LotteryDraw:
    """Draw the call's lottery with its published seed over the figures as they stand, once,
    in the ranking phase; the result is kept (and audited) as drawn, whatever changes later.

    :raises LotteryRefused: no lottery, no seed, drawn already, or not the ranking phase.
    """
    phase, rule = _lottery_locked(call)
    if call.lottery_seed is None:
        raise LotteryRefused(_l("The lottery has no published seed: it cannot be drawn."))
    if call.lottery_result is not None:
        raise LotteryRefused(_l("The lottery is drawn already: its result stands."))
    if phase is not Phase.RANKING:
        raise LotteryRefused(_l("The lottery is drawn in the ranking phase."))
    result = lottery_draw(call_analytics(call), rule, call.lottery_seed)
    call.lottery_result = lottery_json(result)
    record(LotteryDrawn(result=call.lottery_result), call, call_id=call.id, actor_id=actor.id)
    db.session.flush()
    return result


def lottery_from_json(document: Mapping[str, Any]) -> LotteryDraw:
    """A draw as ``lottery_json`` wrote it."""
    return LotteryDraw(
        rule=LotteryRule(document["rule"]["low"], document["rule"]["high"]),
        seed=document["seed"],
        sure=tuple(document["sure"]),
        pool=tuple(document["pool"]),
        order=tuple(document["order"]),
        funded=tuple(document["funded"]),
        budget=None if document["budget_eur"] is None else Decimal(document["budget_eur"]),
        spent=Decimal(document["spent_eur"]),
    )


def _figure(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def analytics_json(
    made: CallAnalytics, pseudonyms: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The issue's JSON object: reliability per criterion and total, experts with their
    offsets, proposals with funded probability and rank interval (by reference), and how it was
    made (samples, seed, and that consensus scores are not resampled). With ``pseudonyms``
    (expert id -> E01, the decision report's embedded copy) experts are ``expert`` by
    pseudonym instead of ``email``, as everywhere in a report's data."""
    result = made.analytics

    def who(expert: str) -> dict[str, str]:
        if pseudonyms is not None:
            return {"expert": pseudonyms.get(expert, expert)}
        return {"email": made.emails.get(expert, expert)}

    return {
        "reliability": {
            key: {
                "krippendorff_alpha": _figure(figures.krippendorff_alpha),
                "icc1": _figure(figures.icc1),
                "units": figures.units,
                "values": figures.values,
            }
            for key, figures in result.reliability.items()
        },
        "experts": [
            {
                **who(e.expert),
                "reviews": e.reviews,
                "offset": _figure(e.offset),
                "stderr": _figure(e.stderr),
            }
            for e in result.experts
        ],
        "proposals": [
            {
                "reference": p.reference,
                "funded_probability": _figure(p.funded_probability),
                "rank_low": p.rank_low,
                "rank_high": p.rank_high,
                "official_rank": p.official_rank,
                "status": p.status.value,
                "crosses_funding_line": p.crosses_line,
                "calibrated_total": _figure(p.calibrated_total),
                "calibrated_main": p.calibrated_main,
            }
            for p in sorted(made.proposals, key=lambda p: p.reference)
        ],
        "samples": result.samples,
        "seed": result.seed,
        "resampled": "individual reviews only; final consensus scores and the panel's order "
        "are not used",
    }


def analytics_json_text(
    made: CallAnalytics,
    pseudonyms: Mapping[str, str] | None = None,
    lottery: LotteryDraw | None = None,
) -> str:
    """``analytics_json`` as text; with ``lottery``, the call's draw too (the report's copy)."""
    document = analytics_json(made, pseudonyms)
    if lottery is not None:
        document["lottery"] = lottery_json(lottery)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("section", "key", "measure", "value")


def analytics_csv(made: CallAnalytics, lottery: LotteryDraw | None = None) -> str:
    """The same figures as the JSON, one per row (section, key, measure, value): reliability
    rows keyed by criterion (and ``total``), expert rows by e-mail, proposal rows by reference;
    with ``lottery``, the call's draw as the JSON has it: its bounds, seed, budget and the
    amount it funds, and for each proposal in it whether it was clearly fundable or drawn (and
    when), and whether it is funded."""
    document = analytics_json(made)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for key, figures in document["reliability"].items():
        for measure, value in figures.items():
            writer.writerow(("reliability", key, measure, _cell(value)))
    for expert in document["experts"]:
        for measure in ("reviews", "offset", "stderr"):
            writer.writerow(("expert", expert["email"], measure, _cell(expert[measure])))
    for proposal in document["proposals"]:
        for measure, value in proposal.items():
            if measure != "reference":
                writer.writerow(("proposal", proposal["reference"], measure, _cell(value)))
    writer.writerow(("method", "", "samples", document["samples"]))
    writer.writerow(("method", "", "seed", document["seed"]))
    if lottery is not None:
        funded = set(lottery.funded)
        drawn = lottery_json(lottery)
        writer.writerow(("lottery", "", "low", drawn["rule"]["low"]))
        writer.writerow(("lottery", "", "high", drawn["rule"]["high"]))
        for measure in ("seed", "budget_eur", "spent_eur"):
            writer.writerow(("lottery", "", measure, _cell(drawn[measure])))
        for reference in lottery.sure:
            writer.writerow(("lottery", reference, "clearly_fundable", "true"))
            writer.writerow(("lottery", reference, "funded", _cell(reference in funded)))
        for place, reference in enumerate(lottery.order, start=1):
            writer.writerow(("lottery", reference, "drawn", place))
            writer.writerow(("lottery", reference, "funded", _cell(reference in funded)))
    return out.getvalue()


def from_document(document: Mapping[str, Any], ranking: Ranking) -> CallAnalytics:
    """The analytics read back from ``analytics_json`` (a background job's file), beside the
    official ranking of the same state of the data: what the page shows of a large call.
    Experts are then known by their e-mail."""
    return CallAnalytics(
        analytics=Analytics(
            reliability={
                key: Reliability(
                    krippendorff_alpha=figures["krippendorff_alpha"],
                    icc1=figures["icc1"],
                    units=figures["units"],
                    values=figures["values"],
                )
                for key, figures in document["reliability"].items()
            },
            experts=tuple(
                ExpertOffset(
                    expert=e["email"], reviews=e["reviews"], offset=e["offset"], stderr=e["stderr"]
                )
                for e in document["experts"]
            ),
            proposals=tuple(
                ProposalRobustness(
                    reference=p["reference"],
                    funded_probability=p["funded_probability"],
                    rank_low=p["rank_low"],
                    rank_high=p["rank_high"],
                )
                for p in document["proposals"]
            ),
            calibrated=tuple(
                Calibrated(
                    reference=p["reference"],
                    calibrated_total=p["calibrated_total"],
                    main=p["calibrated_main"],
                )
                for p in document["proposals"]
            ),
            samples=document["samples"],
            seed=document["seed"],
        ),
        ranking=ranking,
        emails={},
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["TOTAL", "CallAnalytics", "ProposalFigures", "analytics_csv", "analytics_json"]
