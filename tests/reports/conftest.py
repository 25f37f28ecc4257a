"""A small evaluated call for the report tests: five proposals, three experts, every outcome.

P-001 and P-002 fit in the budget (main list), P-003 passes but does not fit (reserve), P-004
fails the compute threshold, P-005 has one review only (incomplete). One comment carries an
HTML image pointing at /etc/passwd.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from reviewer_app.audit.events import PhaseMoved
from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    Call,
    ConflictDeclaration,
    ConsensusMinorityView,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Decision,
    DecisionOutcome,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    Score,
    User,
)
from reviewer_app.models.audit import record

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


@dataclass
class Scene:
    call: Call
    proposals: dict[str, Proposal]
    experts: list[User]

    def decide(self) -> None:
        outcomes = {
            "P-001": DecisionOutcome.FUNDED,
            "P-002": DecisionOutcome.FUNDED,
            "P-003": DecisionOutcome.RESERVE,
            "P-004": DecisionOutcome.REJECTED,
            "P-005": DecisionOutcome.INELIGIBLE,
        }
        when = datetime(2025, 3, 4, 10, 0, 0)
        for reference, outcome in outcomes.items():
            db.session.add(
                Decision(
                    proposal=self.proposals[reference],
                    outcome=outcome,
                    rationale=f"Rationale for {reference}: as ranked.",
                    decided_at=when,
                )
            )
        record(
            PhaseMoved(from_phase=Phase.RANKING, to_phase=Phase.DECIDED),
            self.call,
            call_id=self.call.id,
            actor_id=None,
            at=when,
        )
        self.call.phase = Phase.DECIDED
        self.call.decided_at = when
        db.session.commit()


def _add_review(assignment: Assignment, values: tuple[str, str, str], comment: str) -> None:
    criteria = {c.key: c for c in assignment.proposal.call.criteria}
    db.session.add(
        ConflictDeclaration(
            assignment=assignment, has_conflict=False, confidentiality_accepted=True
        )
    )
    review = Review(
        assignment=assignment,
        status=ReviewStatus.SUBMITTED,
        submitted_at=datetime(2025, 2, 1, 12, 0, 0),
    )
    review.scores = [
        Score(criterion=criteria[key], value=Decimal(v), comment=f"{comment} ({key})")
        for key, v in zip(KEYS, values, strict=True)
    ]
    db.session.add(review)


def build_scene() -> Scene:
    """The call of this module's docstring, in the current app context (committed)."""
    from reviewer_app.coordinator.calls import create_call
    from reviewer_app.scoring.scheme_parser import load_scheme_file

    from ..conftest import DEMO_SCHEME

    call = create_call(
        load_scheme_file(DEMO_SCHEME),
        DEMO_SCHEME.read_text(encoding="utf-8"),
        key="aif-test",
        title="AI Factories – Prüfaufruf",
        budget_eur=Decimal("2500000.00"),
        actor=None,
    )
    call.phase = Phase.RANKING
    experts = [
        User(email=f"panel{i}@example.org", name=f"Secret Name {i}", role=Role.EXPERT)
        for i in range(1, 4)
    ]
    db.session.add_all(experts)
    proposals: dict[str, Proposal] = {}
    for index, reference in enumerate(SCORES, start=1):
        proposals[reference] = Proposal(
            call=call,
            reference=reference,
            acronym=f"ACR{index}",
            title=f"Proposal number {index}",
            applicant=f"Université {index}",
            country="DE",
            requested_funding_eur=Decimal("1000000.00"),
        )
    db.session.add_all(proposals.values())
    db.session.flush()
    for reference, rows in SCORES.items():
        for number, (expert, values) in enumerate(zip(experts, rows, strict=True), start=1):
            assignment = Assignment(proposal=proposals[reference], expert=expert)
            db.session.add(assignment)
            if values is None:
                continue
            comment = (
                INJECTION
                if (reference, number) == ("P-001", 1)
                else f"Assessment of {reference}, note {number}"
            )
            _add_review(assignment, values, comment)
    # The typed event the phase service writes, at fixed dates so that the PDF is the same.
    for step, (before, after) in enumerate(
        [
            (Phase.SETUP, Phase.EVALUATION),
            (Phase.EVALUATION, Phase.CONSENSUS),
            (Phase.CONSENSUS, Phase.RANKING),
        ]
    ):
        record(
            PhaseMoved(from_phase=before, to_phase=after),
            call,
            call_id=call.id,
            actor_id=None,
            at=datetime(2025, 1, 10 + 10 * step, 9, 0, 0),
        )
    db.session.commit()
    return Scene(call=call, proposals=proposals, experts=experts)


@pytest.fixture
def scene(app_ctx: Flask) -> Scene:
    return build_scene()


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


def add_consensus(
    proposal: Proposal,
    values: dict[str, str],
    comment: str,
    *,
    status: ConsensusStatus = ConsensusStatus.FINAL,
    justification: str = "",
    minority: dict[User, str] | None = None,
) -> None:
    criteria = {c.key: c for c in proposal.call.criteria}
    report = ConsensusReport(proposal=proposal, status=status, justification=justification)
    report.scores = [
        ConsensusScore(criterion=criteria[k], value=Decimal(v), comment=f"{comment} ({k})")
        for k, v in values.items()
    ]
    db.session.add(report)
    report.minority_views = [
        ConsensusMinorityView(expert=expert, text=text, recorded_by_id=expert.id)
        for expert, text in (minority or {}).items()
    ]
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
