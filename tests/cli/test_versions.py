"""Every version kept through the command line: ``reviews import`` and ``consensus import``, with
and without ``--replace``, keep the text they overwrite and name the version in the audit log."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from reviewer_app.consensus.services import save_draft
from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    ConsensusReport,
    ConsensusStatus,
    ConsensusVersion,
    Phase,
    Review,
    ReviewStatus,
    ReviewVersion,
    SavedThrough,
)

from ..expert.conftest import scores
from ..factories import plant_phase

KEYS = ("compute", "expertise", "funding")
ON_THE_PAGE = "Written on the page: the plan is credible, the budget needs a closer look."
OFFLINE = "Written offline and imported: the plan is credible, the budget is well justified."
CORRECTED = "Imported again with --replace: the budget is justified, the staffing plan is thin."


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def reviews_file(path: Path, reference: str, email: str, value: str, comment: str) -> Path:
    header = ["proposal", "expert", *(c for k in KEYS for c in (k, f"{k}_comment"))]
    return write_csv(path, header, [[reference, email, *([value, comment] * len(KEYS))]])


def consensus_file(path: Path, reference: str, value: str, comment: str) -> Path:
    header = ["proposal", *(c for k in KEYS for c in (k, f"{k}_comment"))]
    return write_csv(path, header, [[reference, *([value, comment] * len(KEYS))]])


def ok(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_reviews_import_keeps_the_page_draft_and_the_replaced_review(
    tmp_path: Path, runner, login_as, make_user, make_call, make_proposal, make_assignment
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    expert = make_user("expert")
    assignment = make_assignment(proposal, expert)
    plant_phase(call, Phase.EVALUATION)  # one expert: the import needs only the phase
    page = f"/expert/assignments/{assignment.id}"
    client = login_as(expert)
    client.post(f"{page}/declaration", data={"has_conflict": "no", "confidentiality": "y"})
    draft = {f"comment_{k}": ON_THE_PAGE for k in KEYS}
    assert client.post(page, data=scores(**draft, save="1")).status_code == 302

    # Offline review: overwrites the draft (no --replace needed), then a corrected one replaces it.
    first = reviews_file(tmp_path / "r1.csv", proposal.reference, expert.email, "4", OFFLINE)
    ok(runner, "reviews", "import", call.key, str(first))
    again = reviews_file(tmp_path / "r2.csv", proposal.reference, expert.email, "2.5", CORRECTED)
    ok(runner, "reviews", "import", call.key, str(again), "--replace")

    db.session.expire_all()
    review = db.session.scalar(select(Review).where(Review.assignment_id == assignment.id))
    versions = db.session.scalars(
        select(ReviewVersion)
        .where(ReviewVersion.review_id == review.id)
        .order_by(ReviewVersion.number)
    ).all()
    assert [(v.path, v.status, v.saved_by_id) for v in versions] == [
        (SavedThrough.PAGE, ReviewStatus.DRAFT, expert.id),
        (SavedThrough.IMPORT, ReviewStatus.SUBMITTED, None),  # the command line: no author
        (SavedThrough.IMPORT, ReviewStatus.SUBMITTED, None),
    ]
    # Every earlier comment is still there, though the review holds only the last one.
    assert [{s.comment for s in v.scores} for v in versions] == [
        {ON_THE_PAGE},
        {OFFLINE},
        {CORRECTED},
    ]
    assert [{s.value for s in v.scores} for v in versions][1:] == [
        {Decimal("4")},
        {Decimal("2.5")},
    ]
    assert {s.comment for s in review.scores} == {CORRECTED}
    assert versions[-1].number == review.version

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.import").order_by(AuditEvent.id)
    ).all()
    assert [(e.data["replaced"], e.data["version"]) for e in events] == [
        (False, versions[1].number),
        (True, versions[2].number),
    ]
    assert all(e.object_id == review.id for e in events)


def test_consensus_import_keeps_the_draft_and_the_replaced_report(
    tmp_path: Path, runner, make_user, make_call, make_proposal
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    plant_phase(call, Phase.CONSENSUS)  # no experts: the import needs only the phase
    coordinator = make_user("coordinator")
    save_draft(
        proposal,
        coordinator,
        {k: (Decimal("3"), ON_THE_PAGE) for k in KEYS},
        version=None,
    )
    db.session.commit()

    first = consensus_file(tmp_path / "c1.csv", proposal.reference, "4", OFFLINE)
    ok(runner, "consensus", "import", call.key, str(first))
    again = consensus_file(tmp_path / "c2.csv", proposal.reference, "4.5", CORRECTED)
    ok(runner, "consensus", "import", call.key, str(again), "--replace")

    db.session.expire_all()
    report = db.session.scalar(
        select(ConsensusReport).where(ConsensusReport.proposal_id == proposal.id)
    )
    versions = db.session.scalars(
        select(ConsensusVersion)
        .where(ConsensusVersion.report_id == report.id)
        .order_by(ConsensusVersion.number)
    ).all()
    assert [(v.path, v.status, v.saved_by_id) for v in versions] == [
        (SavedThrough.PAGE, ConsensusStatus.DRAFT, coordinator.id),
        (SavedThrough.IMPORT, ConsensusStatus.FINAL, None),
        (SavedThrough.IMPORT, ConsensusStatus.FINAL, None),
    ]
    assert [{s.comment for s in v.scores} for v in versions] == [
        {ON_THE_PAGE},
        {OFFLINE},
        {CORRECTED},
    ]
    assert versions[-1].number == report.version
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.import").order_by(AuditEvent.id)
    ).all()
    assert [(e.data["replaced"], e.data["version"]) for e in events] == [
        (False, versions[1].number),
        (True, versions[2].number),
    ]
