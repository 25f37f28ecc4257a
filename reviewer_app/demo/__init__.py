"""The demo: the EuroHPC AI Factories call of the first cut-off, mid-evaluation.

The seven proposals are based on public announcements (data/SOURCES.md); the proposals themselves
are not public. The experts, their scores and their comments are simulated, and say so.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select

from ..audit.events import DemoSeeded, PhaseMoved
from ..auth.passwords import hash_password
from ..coordinator.calls import create_call
from ..errors import DomainError
from ..extensions import db
from ..models import (
    Assignment,
    Call,
    ConflictDeclaration,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    User,
    utcnow,
)
from ..models.audit import record
from ..models.reviews import new_score, write_scores
from ..models.versions import SavedThrough, keep_version
from ..scoring.scheme import Scheme
from ..scoring.scheme_parser import parse_scheme

DEMO_PASSWORD = "demo-password"
CALL_KEY = "ai-factories-2024"
DATA_NOTE = "Based on public announcements; the submitted proposals are not public."
SIMULATED = "(Simulated)"
# A simulated budget: the calls' real evaluation budget was not published.
DEMO_BUDGET = Decimal("700000000.00")


class DemoRefused(DomainError, RuntimeError):
    """The database already holds data; the demo only seeds an empty one (or --reset)."""


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    name: str
    note: str


@dataclass(frozen=True)
class DemoSeed:
    call_key: str
    logins: tuple[DemoLogin, ...]
    password: str


# name, e-mail, organisation, country, expertise, language; all fictional.
EXPERTS = (
    (
        "Aoife Byrne",
        "expert1@example.org",
        "Institute for Scientific Computing (fictional)",
        "IE",
        ["HPC systems", "procurement"],
        None,
    ),
    (
        "Jan de Vries",
        "expert2@example.org",
        "Centre for Machine Learning (fictional)",
        "NL",
        ["machine learning", "AI services"],
        None,
    ),
    (
        "Marie Dubois",
        "expert3@example.org",
        "Research Funding Advisory (fictional)",
        "FR",
        ["research funding", "public budgets"],
        None,
    ),
    (
        "Tomasz Nowak",
        "expert4@example.org",
        "Supercomputing Lab (fictional)",
        "PL",
        ["HPC operations", "data centres"],
        None,
    ),
    (
        "Elena Ionescu",
        "expert5@example.org",
        "AI Innovation Hub (fictional)",
        "RO",
        ["AI start-ups", "user support"],
        None,
    ),
    (
        "Jonas Petersen",
        "expert6@example.org",
        "Energy-Efficient Computing Group (fictional)",
        "DK",
        ["energy efficiency", "AI accelerators"],
        "de",
    ),
)

# Proposal index -> expert indexes; the first is the rapporteur. Every expert has four.
ASSIGNMENTS = {
    0: (1, 0, 2, 3),
    1: (2, 1, 3, 4),
    2: (4, 2, 3, 5),
    3: (3, 4, 5),
    4: (4, 5, 0),
    5: (5, 0, 1),
    6: (1, 0, 2),
}
# Left open so that a new user signs in as expert1 and scores right away.
NOT_STARTED = {(6, 0)}
DRAFT = {(4, 0)}
# A declared conflict: the Polish expert's lab is a partner of the LUMI consortium (simulated).
CONFLICTS = {(2, 3): "My lab is a partner in the LUMI consortium (simulated declaration)."}

# Simulated quality per proposal and criterion (compute, expertise, funding).
QUALITY = {
    "AIF-2024-ES": (4.5, 4.5, 4.0),
    "AIF-2024-IT": (4.5, 4.0, 4.5),
    "AIF-2024-FI": (4.5, 4.5, 3.5),
    "AIF-2024-LU": (3.5, 3.5, 4.0),
    "AIF-2024-SE": (3.5, 4.0, 3.0),
    "AIF-2024-DE": (4.0, 4.0, 3.5),
    "AIF-2024-GR": (3.0, 3.5, 3.5),
}
EXPERT_BIAS = (-0.5, 0.0, 0.0, 0.5, 0.0, -0.5)
# A planted disagreement: funding of MIMER, whose amount was not published.
OVERRIDES = {("AIF-2024-SE", 5, "funding"): Decimal("1.5")}

COMMENTS = {
    "compute": (
        "{sim} The system described ({system}) is {tone} for European AI users; the capacity "
        "and the delivery timeline are {timeline}."
    ),
    "expertise": (
        "{sim} The host {host} brings {tone} AI and HPC expertise; user support, training and "
        "outreach to start-ups and SMEs are {timeline}."
    ),
    "funding": (
        "{sim} Funding as reported: {budget_note}. The co-funding commitment looks {tone}; the "
        "implementation plan is {timeline}."
    ),
}
TONES = {
    5: "excellent",
    4: "very convincing",
    3: "adequate",
    2: "only partly convincing",
    1: "weak",
    0: "not demonstrated",
}
TIMELINES = {
    5: "fully credible",
    4: "credible with minor risks",
    3: "plausible with gaps",
    2: "under-specified",
    1: "not credible",
    0: "missing",
}


def demo_proposals() -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data/proposals.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def demo_scheme() -> tuple[Scheme, str]:
    path = Path(__file__).resolve().parents[2] / "criteria" / "ai-factories-2024.toml"
    if path.exists():
        text = path.read_text("utf-8")
    else:  # an installed package without the checkout: the copy shipped beside the data
        text = (
            resources.files(__package__).joinpath("data/ai-factories-2024.toml").read_text("utf-8")
        )
    return parse_scheme(text, "ai-factories-2024.toml"), text


def database_is_empty() -> bool:
    return not (
        db.session.scalar(select(func.count(User.id)))
        or db.session.scalar(select(func.count(Call.id)))
    )


def clear_database() -> None:
    """Delete every row (Core deletes: the audit log's append-only guard is for the ORM)."""
    db.session.flush()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())


def seed_demo(*, reset: bool = False, today: date | None = None) -> DemoSeed:
    """Seed the demo into the current database; the caller commits.

    :raises DemoRefused: the database holds data and ``reset`` is false.
    """
    if not database_is_empty():
        if not reset:
            raise DemoRefused(
                "The database already holds data; the demo seeds only an empty one. "
                "Use --reset to delete everything and start over."
            )
        clear_database()
    today = today or date.today()
    password_hash = hash_password(DEMO_PASSWORD)

    coordinator = User(
        email="coordinator@example.org",
        name="Clara Coordinator",
        organisation="Programme office (fictional)",
        role=Role.COORDINATOR,
        password_hash=password_hash,
    )
    observer = User(
        email="observer@example.org",
        name="Otto Observer",
        organisation="Governing board secretariat (fictional)",
        role=Role.OBSERVER,
        password_hash=password_hash,
        language="de",
    )
    experts = [
        User(
            name=name,
            email=email,
            organisation=org,
            country=country,
            expertise=expertise,
            language=language,
            role=Role.EXPERT,
            password_hash=password_hash,
        )
        for name, email, org, country, expertise, language in EXPERTS
    ]
    db.session.add_all([coordinator, observer, *experts])
    db.session.flush()

    scheme, scheme_text = demo_scheme()
    call = create_call(
        scheme,
        scheme_text,
        key=CALL_KEY,
        title="EuroHPC AI Factories, first cut-off (demo: based on public announcements)",
        budget_eur=DEMO_BUDGET,
        deadline=today + timedelta(days=14),
        actor=None,
    )
    criteria = {c.key: c for c in call.criteria}
    rows = demo_proposals()
    proposals = []
    for row in rows:
        budget = row["reported_budget_eur"].strip()
        proposal = Proposal(
            call=call,
            reference=row["reference"],
            acronym=row["acronym"],
            title=row["title"],
            applicant=row["host"],
            country=row["country"],
            requested_funding_eur=Decimal(budget) if budget else None,
            summary=row["summary"],
            extra={
                "system": row["system"],
                "partner_countries": row["partner_countries"].replace(";", ", "),
                "budget_note": row["budget_note"],
                "data_note": DATA_NOTE,
            },
        )
        proposals.append(proposal)
    db.session.add_all(proposals)
    call.phase = Phase.EVALUATION
    db.session.flush()
    record(
        PhaseMoved(from_phase=Phase.SETUP, to_phase=Phase.EVALUATION),
        call,
        call_id=call.id,
        actor_id=coordinator.id,
    )

    rng = random.Random(2024)  # the same demo every time
    reviews: list[Review] = []
    for p_index, expert_indexes in ASSIGNMENTS.items():
        proposal = proposals[p_index]
        for position, e_index in enumerate(expert_indexes):
            expert = experts[e_index]
            assignment = Assignment(
                proposal=proposal,
                expert=expert,
                is_rapporteur=position == 0,
                due_date=call.deadline,
            )
            db.session.add(assignment)
            key = (p_index, e_index)
            if key in NOT_STARTED:
                continue
            if key in CONFLICTS:
                assignment.declaration = ConflictDeclaration(
                    has_conflict=True, reason=CONFLICTS[key]
                )
                continue
            assignment.declaration = ConflictDeclaration(
                has_conflict=False, confidentiality_accepted=True
            )
            review = Review(assignment=assignment)
            values = _simulated_scores(rng, proposal, e_index)
            write_scores(
                review.scores,
                new_score,
                criteria.values(),
                {
                    c_key: (value, _comment(c_key, value, rows[p_index]))
                    for c_key, value in values.items()
                    # a draft with only the first criterion filled in
                    if key not in DRAFT or c_key == "compute"
                },
            )
            if key not in DRAFT:
                review.status = ReviewStatus.SUBMITTED
                review.submitted_at = utcnow()
            db.session.add(review)
            reviews.append(review)
    db.session.flush()
    for review in reviews:  # as if each expert had saved it on their page
        keep_version(review, SavedThrough.PAGE, saved_by_id=review.assignment.expert_id)
    record(DemoSeeded(), call, call_id=call.id, actor_id=coordinator.id)

    logins = [
        DemoLogin(coordinator.email, "coordinator", coordinator.name, "runs the call"),
        DemoLogin(
            experts[0].email,
            "expert",
            experts[0].name,
            "has one proposal to declare and score, and one draft to finish",
        ),
        *[DemoLogin(e.email, "expert", e.name, "reviews submitted") for e in experts[1:]],
        DemoLogin(observer.email, "observer", observer.name, "read-only, German interface"),
    ]
    return DemoSeed(call_key=call.key, logins=tuple(logins), password=DEMO_PASSWORD)


def _simulated_scores(rng: random.Random, proposal: Proposal, e_index: int) -> dict[str, Decimal]:
    quality = QUALITY[proposal.reference]
    scores = {}
    for c_index, key in enumerate(("compute", "expertise", "funding")):
        raw = quality[c_index] + EXPERT_BIAS[e_index] + rng.choice((-0.5, 0.0, 0.0, 0.5))
        value = Decimal(str(min(5.0, max(0.0, round(raw * 2) / 2))))
        scores[key] = OVERRIDES.get((proposal.reference, e_index, key), value)
    return scores


def _comment(key: str, value: Decimal, row: dict[str, str]) -> str:
    whole = int(value)
    return COMMENTS[key].format(
        sim=SIMULATED,
        system=row["system"],
        host=row["host"],
        budget_note=row["budget_note"],
        tone=TONES[whole],
        timeline=TIMELINES[whole],
    )
