"""A small evaluated call for the report tests: five proposals, three experts, every outcome.

P-001 and P-002 fit in the budget (main list), P-003 passes but does not fit (reserve), P-004
fails the compute threshold, P-005 has one review only (incomplete). One comment carries an
HTML image pointing at /etc/passwd.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from flask import Flask

from reviewer_app.extensions import db
from reviewer_app.models import (
    Call,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    DecisionOutcome,
    Phase,
    Proposal,
    Role,
    User,
)

from ..factories import add_users, advance_call, write_review

INJECTION = '<img src="file:///etc/passwd"> Überzeugend & <b>solide</b>'
KEYS = ("compute", "expertise", "funding")

# proposal -> scores given by expert 1, 2, 3 (None: no review)
SCORES: dict[str, tuple[tuple[str, str, str] | None, ...]] = {
    "P-001": (("5", "5", "4.5"), ("4.5", "5", "4.5"), ("5", "4.5", "4.5")),
    "P-002": (("4", "4", "4"), ("4", "4.5", "4"), ("4.5", "4", "4")),
    "P-003": (("3.5", "3.5", "3.5"), ("3.5", "3.5", "3.5"), ("4", "3.5", "3.5")),
    "P-004": (("2", "4", "4"), ("2.5", "4", "4"), ("2", "4", "4")),
    "P-005": (("4", "4", "4"), None, None),
}
# Unranked proposals follow the ranked ones by weighted total: P-005 (12.00) before P-004.
EXPECTED_ORDER = ("P-001", "P-002", "P-003", "P-005", "P-004")

# Every step happens at a fixed time, so that the same scene gives the same PDF.
CREATED = datetime(2025, 1, 6, 9, 0, 0)
OPENED = datetime(2025, 1, 10, 9, 0, 0)
REVIEWED = datetime(2025, 2, 1, 12, 0, 0)
CONSENSUS = datetime(2025, 2, 10, 9, 0, 0)
RANKED = datetime(2025, 2, 20, 9, 0, 0)
DECIDED = datetime(2025, 3, 4, 10, 0, 0)


def at(moment: datetime) -> Any:
    """Freeze the clock the services read (``utcnow``) at ``moment``."""
    return time_machine.travel(moment.replace(tzinfo=UTC), tick=False)


@dataclass
class Scene:
    call: Call
    proposals: dict[str, Proposal]
    experts: list[User]
    coordinator: User

    def rank(self) -> None:
        """Move the call from its consensus phase to ranking, as the coordinator does."""
        with at(RANKED):
            advance_call(self.call, Phase.RANKING, actor=self.coordinator)

    def decide(self) -> None:
        """The coordinator's decisions (one departure from the ranking: P-005 is ineligible,
        with its rationale), then the call closed."""
        from reviewer_app.coordinator.decisions import DecisionEntry, record_decisions

        outcomes = {
            "P-001": DecisionOutcome.FUNDED,
            "P-002": DecisionOutcome.FUNDED,
            "P-003": DecisionOutcome.RESERVE,
            "P-004": DecisionOutcome.REJECTED,
            "P-005": DecisionOutcome.INELIGIBLE,
        }
        entries = [
            DecisionEntry(self.proposals[ref], outcome, f"Rationale for {ref}: as ranked.")
            for ref, outcome in outcomes.items()
        ]
        with at(DECIDED):
            record_decisions(self.call, entries, self.coordinator)
            db.session.commit()
            advance_call(self.call, Phase.DECIDED, actor=self.coordinator)


def build_scene(*, until: Phase = Phase.RANKING, key: str = "aif-test", extra: int = 0) -> Scene:
    """The call of this module's docstring, in the current app context (committed), built by
    the services the pages call, up to the phase ``until`` (consensus or ranking). ``extra``
    adds that many more proposals, each reviewed by three more experts."""
    from reviewer_app.coordinator.calls import create_call
    from reviewer_app.coordinator.experts import set_rapporteur, toggle_assignment
    from reviewer_app.coordinator.proposals import create_proposal
    from reviewer_app.scoring.scheme_parser import load_scheme_file

    from ..conftest import DEMO_SCHEME

    coordinator, *experts = add_users(
        {"email": f"chair-{key}@example.org", "name": "Chair", "role": Role.COORDINATOR},
        *(
            {"email": f"panel{i}-{key}@example.org", "name": f"Secret Name {i}", "role": "expert"}
            for i in range(1, 4)
        ),
    )
    more = add_users(
        *(
            {"email": f"more{i}-{key}@example.org", "name": f"More {i}", "role": "expert"}
            for i in range(1, 4 if extra else 1)
        )
    )
    scores = dict(SCORES)
    panels = dict.fromkeys(SCORES, experts)
    for n in range(extra):
        scores[f"Q-{n:03d}"] = (("3", "3.5", "4"),) * 3
        panels[f"Q-{n:03d}"] = more
    with at(CREATED):
        call = create_call(
            load_scheme_file(DEMO_SCHEME),
            DEMO_SCHEME.read_text(encoding="utf-8"),
            key=key,
            title="AI Factories – Prüfaufruf",
            budget_eur=Decimal("2500000.00"),
            actor=coordinator,
        )
        proposals: dict[str, Proposal] = {}
        for index, reference in enumerate(scores, start=1):
            proposals[reference] = create_proposal(
                call,
                actor=coordinator,
                reference=reference,
                acronym=f"ACR{index}",
                title=f"Proposal number {index}",
                applicant=f"Université {index}",
                country="DE",
                requested_funding_eur=Decimal("1000000.00"),
            )
            for expert in panels[reference]:
                toggle_assignment(call, proposals[reference], expert, actor=coordinator)
            set_rapporteur(call, proposals[reference], panels[reference][0], actor=coordinator)
        db.session.commit()
    with at(OPENED):
        advance_call(call, Phase.EVALUATION, actor=coordinator)
    with at(REVIEWED):
        for reference, rows in scores.items():
            proposal = proposals[reference]
            for number, (assignment, values) in enumerate(
                zip(sorted(proposal.assignments, key=lambda a: a.expert_id), rows, strict=True),
                start=1,
            ):
                if values is None:
                    continue
                comment = (
                    INJECTION
                    if (reference, number) == ("P-001", 1)
                    else f"Assessment of {reference}, note {number}"
                )
                write_review(assignment, dict(zip(KEYS, values, strict=True)), comment=comment)
    with at(CONSENSUS):
        advance_call(call, Phase.CONSENSUS, actor=coordinator)
    scene = Scene(call=call, proposals=proposals, experts=experts, coordinator=coordinator)
    if until is Phase.RANKING:
        scene.rank()
    return scene


@pytest.fixture
def scene(app_ctx: Flask) -> Scene:
    return build_scene()


@pytest.fixture
def consensus_scene(app_ctx: Flask) -> Scene:
    """The scene before ranking, for the tests that write a consensus report first (then call
    ``scene.rank()``)."""
    return build_scene(until=Phase.CONSENSUS)


@dataclass(frozen=True)
class Rendered:
    draft_en: bytes
    draft_de: bytes
    decided_en: bytes
    fingerprint: str
    csv: str


@pytest.fixture(scope="module")
def rendered(app: Flask) -> Rendered:
    """The scene's reports rendered once for the tests that only read PDFs (rendering is the
    slow part of this suite)."""
    from reviewer_app.ranking import rank_call, ranking_csv
    from reviewer_app.reports.services import decision_report_pdf

    with app.app_context():
        try:
            scene = build_scene()
            draft = decision_report_pdf(scene.call, "en")
            result = Rendered(
                draft_en=draft.content,
                draft_de=decision_report_pdf(scene.call, "de").content,
                decided_en=b"",
                fingerprint=draft.fingerprint,
                csv=ranking_csv(rank_call(scene.call)),
            )
            scene.decide()
            return replace(result, decided_en=decision_report_pdf(scene.call, "en").content)
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())


def consensus_comment(comment: str, key: str) -> str:
    """The consensus comment ``add_consensus`` writes for criterion ``key`` (long enough for the
    scheme's minimum)."""
    return f"{comment} ({key}); the panel's agreed wording for the applicant."


def add_consensus(
    scene: Scene,
    reference: str,
    values: dict[str, str],
    comment: str,
    *,
    final: bool = True,
    justification: str = "",
    minority: dict[User, str] | None = None,
    overall_comment: str = "",
) -> None:
    """The consensus report as the pages write it (the call in its consensus phase): the
    rapporteur's draft, the minority views the rapporteur records, then the coordinator's
    finalising when ``final``."""
    from reviewer_app.consensus.finalising import finalise
    from reviewer_app.consensus.services import record_minority_view, save_draft

    proposal = scene.proposals[reference]
    rapporteur = next(a.expert for a in proposal.assignments if a.is_rapporteur)
    with at(CONSENSUS):
        report = save_draft(
            proposal,
            rapporteur,
            {k: (Decimal(v), consensus_comment(comment, k)) for k, v in values.items()},
            version=None,
            justification=justification,
            overall_comment=overall_comment,
        )
        for expert, text in (minority or {}).items():
            record_minority_view(proposal, rapporteur, expert.id, text)
        if final:
            finalise(proposal, scene.coordinator, version=report.version)
        db.session.commit()


def plant_final_consensus(proposal: Proposal, values: dict[str, str], comment: str) -> None:
    """A final consensus row written straight into the database: one made before the form
    refused such text, as it is stored (no service writes it today, which is the point)."""
    criteria = {c.key: c for c in proposal.call.criteria}
    report = ConsensusReport(proposal=proposal, status=ConsensusStatus.FINAL)
    report.scores = [
        ConsensusScore(criterion=criteria[k], value=Decimal(v), comment=f"{comment} ({k})")
        for k, v in values.items()
    ]
    db.session.add(report)
    db.session.commit()


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text, as a reader copying it out would get it."""
    import io

    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def pdftotext(pdf: bytes, tmp_path: Any) -> str:
    import subprocess

    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
