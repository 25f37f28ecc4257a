"""A synthetic call of any size, for load tests, benchmarks and trying the product at scale.

Deterministic: the same arguments and seed give the same call, row for row. It is a call in the
ranking phase as the evaluation would leave it: every proposal with ``reviews_per_proposal``
submitted reviews (a comment of realistic length per criterion), some experts declaring a
conflict instead, experts who are lenient or strict (an additive offset per expert) and who
disagree (noise per review), a final consensus for a share of proposals, a version per review
and per consensus, and a budget that falls among the passing proposals (some go to the
reserve list).

The rows are written in bulk (one multi-row insert per table and batch, the way a database
restore writes them), not through the services one by one: 10,000 proposals take seconds, not
an hour. Everything is labelled synthetic, and the audit log says so (``DemoSeeded``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, select

from ..audit.events import DemoSeeded
from ..auth.passwords import hash_password
from ..coordinator.calls import create_call
from ..extensions import db, table_of
from ..models import (
    Assignment,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    Score,
    User,
)
from ..models.audit import record
from ..models.versions import (
    ConsensusVersion,
    ConsensusVersionScore,
    ReviewVersion,
    ReviewVersionScore,
    SavedThrough,
)
from ..scoring.scheme import Scheme
from . import DEMO_PASSWORD, demo_scheme

BATCH = 5_000
CONFLICT_SHARE = 0.03  # of the panels, one expert declares a conflict
CONSENSUS_SHARE = 0.2  # of the proposals have a final consensus
COUNTRIES = ("DE", "FR", "IT", "ES", "FI", "SE", "GR", "NL", "PL", "PT", "AT", "CZ", "BE", "IE")

_OPENINGS = (
    "The proposal addresses {topic} convincingly",
    "The plan for {topic} is credible overall",
    "The description of {topic} is adequate",
    "The treatment of {topic} is uneven",
    "The proposal's approach to {topic} is ambitious",
)
_STRENGTHS = (
    "the consortium brings long experience in operating national supercomputing services",
    "the user support model is described with concrete service levels and staffing",
    "the training programme reaches start-ups and SMEs across several member states",
    "the hardware roadmap is realistic and aligned with the procurement timeline",
    "the links to existing centres of excellence are well documented",
    "the governance structure gives clear responsibilities to each partner",
)
_WEAKNESSES = (
    "the risk register does not quantify the impact of delayed deliveries",
    "the budget for personnel is not broken down by work package",
    "the sustainability of the service after the funding period is only sketched",
    "the access policy for industrial users lacks detail on pricing",
    "the key performance indicators are few and mostly qualitative",
    "the energy efficiency targets are stated without a baseline",
)


@dataclass(frozen=True)
class SyntheticSeed:
    call_key: str
    coordinator_email: str
    password: str
    proposals: int
    experts: int
    reviews: int
    consensus: int
    conflicts: int


def _comment(rng: random.Random, topic: str) -> str:
    """About 400-700 characters, as an expert's justification of one score tends to be."""
    opening = rng.choice(_OPENINGS).format(topic=topic)
    strengths = rng.sample(_STRENGTHS, 2)
    weaknesses = rng.sample(_WEAKNESSES, 2)
    return (
        f"{opening}. Strengths: {strengths[0]}; {strengths[1]}. "
        f"Weaknesses: {weaknesses[0]}; {weaknesses[1]}. "
        "On balance the score reflects these points as weighed against the criterion's "
        "descriptors. (Simulated comment.)"
    )


def _on_scale(scheme: Scheme, value: float) -> Decimal:
    scale = scheme.scale
    steps = round((value - float(scale.min)) / float(scale.step))
    top = int((scale.max - scale.min) / scale.step)
    return scale.min + scale.step * max(0, min(top, steps))


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(table: Table, rows: Iterable[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        db.session.execute(insert(table), batch)


def _ids(statement: Any) -> dict[Any, int]:
    """key -> id for the rows just written (one query per table, not one per row)."""
    return dict(db.session.execute(statement).tuples().all())


def _ids_by(key: Any, keys: Iterable[int]) -> dict[int, int]:
    """``key`` -> id of the rows just written whose ``key`` (a unique, indexed column: one
    row each) is one of ``keys``: a range of that column's index, filtered here. A join back
    to the call over tables written a moment ago has no planner statistics yet, and
    PostgreSQL once planned one as nested loops that ran for a quarter of an hour."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = db.session.execute(
        select(key, key.table.c.id).where(key.between(min(wanted), max(wanted)))
    ).tuples()
    return {k: id_ for k, id_ in rows if k in wanted}


def seed_synthetic(
    *,
    key: str,
    proposals: int,
    experts: int,
    reviews_per_proposal: int,
    seed: int = 1,
    scheme: Scheme | None = None,
    scheme_text: str | None = None,
) -> SyntheticSeed:
    """Write the call ``key`` (see the module's text); the caller commits.

    :raises ValueError: fewer experts than a panel needs, or a count below one.
    """
    if min(proposals, experts, reviews_per_proposal) < 1:
        raise ValueError("proposals, experts and reviews per proposal must be at least 1")
    if experts < reviews_per_proposal + 1:
        raise ValueError(
            f"{reviews_per_proposal} reviews per proposal need at least "
            f"{reviews_per_proposal + 1} experts (one more for a conflict)"
        )
    if scheme is None or scheme_text is None:
        scheme, scheme_text = demo_scheme()
    rng = random.Random(seed)
    started = datetime(2025, 1, 15, 9, 0, 0)
    # E-mail addresses are stored in lower case (a named constraint); a key may have capitals.
    domain = f"{key.lower()}.example.org"

    coordinator = User(
        email=f"coordinator@{domain}",
        name="Synthetic Coordinator",
        organisation="Programme office (simulated)",
        role=Role.COORDINATOR,
        password_hash=hash_password(DEMO_PASSWORD),
    )
    db.session.add(coordinator)
    requested = [Decimal(rng.randrange(200, 2000)) * 1000 for _ in range(proposals)]
    # Each proposal's true quality per criterion; the budget funds about 60% of the money the
    # good ones ask for, so the funding line falls among passing proposals.
    quality = [[rng.uniform(1.0, 4.8) for _ in scheme.criteria] for _ in range(proposals)]
    good = sum((r for r, q in zip(requested, quality, strict=True) if min(q) >= 3.2), Decimal(0))
    call = create_call(
        scheme,
        scheme_text,
        key=key,
        title=f"Synthetic call: {proposals:,} proposals (simulated)",
        budget_eur=(max(good, requested[0]) * Decimal("0.6")).quantize(Decimal(1000)),
        actor=None,
    )
    db.session.flush()
    criteria = [(c.id, c.key, c.title.lower()) for c in call.criteria]

    # Experts: an offset each (lenient > 0, strict < 0), drawn once.
    _insert(
        table_of(User),
        (
            {
                "email": f"expert{i:05d}@{domain}",
                "name": f"Expert {i:05d} (simulated)",
                "organisation": f"Research organisation {i % 211}",
                "country": COUNTRIES[i % len(COUNTRIES)],
                "expertise": [],
                "role": Role.EXPERT,
                "active": True,
                "created_at": started,
            }
            for i in range(experts)
        ),
    )
    emails = {f"expert{i:05d}@{domain}" for i in range(experts)}
    # LIKE narrows the read; the exact set decides (a "_" in a key is a LIKE wildcard).
    found = _ids(select(User.email, User.id).where(User.email.like(f"expert%@{domain}")))
    expert_ids = sorted(id_ for email, id_ in found.items() if email in emails)
    leniency = {e: rng.gauss(0, 0.35) for e in expert_ids}

    _insert(
        table_of(Proposal),
        (
            {
                "call_id": call.id,
                "reference": f"SYN-{n + 1:05d}",
                "acronym": f"SYN{n + 1}",
                "title": f"Synthetic proposal {n + 1}: an AI factory for sector {n % 37}",
                "applicant": f"Applicant consortium {n % 499} (simulated)",
                "country": COUNTRIES[n % len(COUNTRIES)],
                "requested_funding_eur": requested[n],
                "summary": "Simulated proposal for load tests and benchmarks.",
                "extra": {},
                "created_at": started,
            }
            for n in range(proposals)
        ),
    )
    proposal_ids = _ids(
        select(Proposal.reference, Proposal.id)
        .where(Proposal.call_id == call.id)
        .order_by(Proposal.reference)
    )
    references = sorted(proposal_ids)

    # Panels: K reviewing experts per proposal, plus one who declares a conflict now and then.
    # Loads stay even: experts are taken in a shuffled round robin.
    pool: list[int] = []
    panels: list[tuple[int, list[int], int | None]] = []
    for reference in references:
        wanted = reviews_per_proposal + (1 if rng.random() < CONFLICT_SHARE else 0)
        panel: list[int] = []
        while len(panel) < wanted:
            if not pool:
                pool = expert_ids[:]
                rng.shuffle(pool)
            candidate = pool.pop()
            if candidate not in panel:
                panel.append(candidate)
        conflicted = panel.pop() if wanted > reviews_per_proposal else None
        panels.append((proposal_ids[reference], panel, conflicted))

    _insert(
        table_of(Assignment),
        (
            {
                "proposal_id": pid,
                "expert_id": e,
                "is_rapporteur": i == 0,
                "created_at": started,
            }
            for pid, panel, conflicted in panels
            for i, e in enumerate([*panel, *([conflicted] if conflicted else [])])
        ),
    )
    assignment_ids = {
        (pid, e): id_
        for pid, e, id_ in db.session.execute(
            select(Assignment.proposal_id, Assignment.expert_id, Assignment.id)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id)
        ).tuples()
    }

    def assignment(pid: int, e: int) -> int:
        return assignment_ids[(pid, e)]

    declared = started + timedelta(days=2)
    _insert(
        table_of(ConflictDeclaration),
        (
            {
                "assignment_id": assignment(pid, e),
                "has_conflict": e == conflicted,
                "reason": "Former colleague of the coordinator (simulated)"
                if e == conflicted
                else "",
                "confidentiality_accepted": e != conflicted,
                "declared_at": declared,
            }
            for pid, panel, conflicted in panels
            for e in [*panel, *([conflicted] if conflicted else [])]
        ),
    )

    submitted = started + timedelta(days=20)
    review_rows: list[dict[str, Any]] = [
        {
            "assignment_id": assignment(pid, e),
            "status": ReviewStatus.SUBMITTED,
            "version": 1,
            "created_at": declared,
            "updated_at": submitted,
            "submitted_at": submitted,
        }
        for pid, panel, _conflicted in panels
        for e in panel
    ]
    _insert(table_of(Review), review_rows)
    review_ids = _ids_by(
        table_of(Review).c.assignment_id, (r["assignment_id"] for r in review_rows)
    )
    _insert(
        table_of(ReviewVersion),
        (
            {
                "review_id": review_ids[row["assignment_id"]],
                "number": 1,
                "saved_at": submitted,
                "saved_by_id": None,
                "path": SavedThrough.PAGE,
                "status": ReviewStatus.SUBMITTED,
            }
            for row in review_rows
        ),
    )
    version_ids = _ids_by(table_of(ReviewVersion).c.review_id, review_ids.values())

    # Scores: the proposal's quality, plus the expert's leniency, plus this review's noise.
    scores: list[tuple[int, int, Decimal, str]] = []  # review, criterion, value, comment
    consensus: list[tuple[int, list[tuple[int, Decimal, str]]]] = []
    for index, (pid, panel, _conflicted) in enumerate(panels):
        true = dict(zip((cid for cid, _key, _title in criteria), quality[index], strict=True))
        given: dict[int, list[Decimal]] = {cid: [] for cid, _key, _title in criteria}
        for e in panel:
            review_id = review_ids[assignment(pid, e)]
            for cid, _key, title in criteria:
                value = _on_scale(scheme, true[cid] + leniency[e] + rng.gauss(0, 0.45))
                given[cid].append(value)
                scores.append((review_id, cid, value, _comment(rng, title)))
        if rng.random() < CONSENSUS_SHARE:
            agreed = [
                (
                    cid,
                    _on_scale(scheme, float(sum(given[cid]) / len(given[cid]))),
                    f"The panel agreed on the {title}. " + _comment(rng, title),
                )
                for cid, _key, title in criteria
            ]
            consensus.append((pid, agreed))

    _insert(
        table_of(Score),
        (
            {"review_id": r, "criterion_id": c, "value": v, "comment": text}
            for r, c, v, text in scores
        ),
    )
    _insert(
        table_of(ReviewVersionScore),
        (
            {"version_id": version_ids[r], "criterion_id": c, "value": v, "comment": text}
            for r, c, v, text in scores
        ),
    )

    finalised = started + timedelta(days=35)
    rapporteurs = {pid: panel[0] for pid, panel, _conflicted in panels}
    _insert(
        table_of(ConsensusReport),
        (
            {
                "proposal_id": pid,
                "rapporteur_id": rapporteurs[pid],
                "status": ConsensusStatus.FINAL,
                "version": 1,
                "created_at": finalised,
                "updated_at": finalised,
                "finalised_at": finalised,
                "finalised_by_id": coordinator.id,
                "justification": "",
            }
            for pid, _agreed in consensus
        ),
    )
    report_ids = _ids_by(table_of(ConsensusReport).c.proposal_id, (pid for pid, _ in consensus))
    _insert(
        table_of(ConsensusScore),
        (
            {"report_id": report_ids[pid], "criterion_id": c, "value": v, "comment": text}
            for pid, agreed in consensus
            for c, v, text in agreed
        ),
    )
    _insert(
        table_of(ConsensusVersion),
        (
            {
                "report_id": report_ids[pid],
                "number": 1,
                "saved_at": finalised,
                "saved_by_id": coordinator.id,
                "path": SavedThrough.FINALISE,
                "status": ConsensusStatus.FINAL,
                "justification": "",
            }
            for pid, _agreed in consensus
        ),
    )
    consensus_version_ids = _ids_by(table_of(ConsensusVersion).c.report_id, report_ids.values())
    _insert(
        table_of(ConsensusVersionScore),
        (
            {
                "version_id": consensus_version_ids[report_ids[pid]],
                "criterion_id": c,
                "value": v,
                "comment": text,
            }
            for pid, agreed in consensus
            for c, v, text in agreed
        ),
    )

    call.phase = Phase.RANKING
    record(DemoSeeded(), call, call_id=call.id, actor_id=None)
    db.session.flush()
    return SyntheticSeed(
        call_key=key,
        coordinator_email=coordinator.email,
        password=DEMO_PASSWORD,
        proposals=proposals,
        experts=experts,
        reviews=len(review_rows),
        consensus=len(consensus),
        conflicts=sum(1 for _p, _panel, c in panels if c is not None),
    )
