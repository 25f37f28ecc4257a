"""The demo call's whole life, moved through the web pages and the command line as people move
it, and its decision report read back section by section (issue 9, point 9): the report says
what happened, who moved the call and when, where the audit chain stood, the consensus
justifications and the minority views."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from reviewer_app.audit.chain import state_of
from reviewer_app.consensus.finalising import finalise
from reviewer_app.consensus.services import load_proposal, prefill, record_minority_view, save_draft
from reviewer_app.coordinator.decisions import (
    DecisionEntry,
    DecisionsInvalid,
    prefill_outcome,
    record_decisions,
)
from reviewer_app.extensions import db
from reviewer_app.models import Call, DecisionOutcome, Proposal, Role, User
from reviewer_app.models.audit import chain_of
from reviewer_app.ranking import rank_call

from .conftest import pdftotext

TEXT = "The panel agrees: a credible plan with a strong hosting site and clear national co-funding."
JUSTIFICATION = "The panel weighed the letters of support, which the reviews had not yet seen."
MINORITY = "I would have scored funding lower: the co-funding letters are not yet signed."


def test_the_demo_from_evaluation_to_decided_and_its_report(
    app_ctx, client, runner, tmp_path: Path
) -> None:
    from reviewer_app.demo import seed_demo

    seed = seed_demo()
    db.session.commit()
    key = db.session.scalar(select(Call)).key
    coordinator = db.session.scalar(select(User).where(User.role == Role.COORDINATOR))
    client.post("/login", data={"email": coordinator.email, "password": seed.password})

    # Web: the coordinator closes the evaluation (some reviews are still open).
    moved = client.post(
        f"/calls/{key}/phase", data={"target": "consensus", "confirm_open_reviews": "y"}
    )
    assert moved.status_code == 302, moved.get_data(as_text=True)

    # Consensus through the services the pages call: written text, one crossing justified,
    # one minority view.
    db.session.expire_all()
    call = db.session.scalar(select(Call))
    justified = None
    for proposal in db.session.scalars(select(Proposal).order_by(Proposal.reference)):
        proposal = load_proposal(proposal.id)
        rapporteur = next(a.expert for a in proposal.assignments if a.is_rapporteur)
        suggested = prefill(proposal)
        values = {c.key: (c.value or Decimal(3), TEXT) for c in suggested.criteria}
        report = save_draft(proposal, rapporteur, values, version=None, justification=JUSTIFICATION)
        db.session.commit()
        if justified is None:
            justified = proposal.reference
            dissenter = next(
                a.expert_id
                for a in proposal.assignments
                if not a.is_rapporteur and a.review is not None and a.review.is_submitted
            )
            record_minority_view(proposal, rapporteur, dissenter, MINORITY)
            db.session.commit()
        finalise(proposal, coordinator, version=report.version)
        db.session.commit()

    # Command line: on to ranking.
    result = runner.invoke(args=["call", "phase", key, "ranking"])
    assert result.exit_code == 0, result.output

    # Web: decisions as suggested (within the budget), then the confirmed close.
    db.session.expire_all()
    call = db.session.scalar(select(Call))
    ranking = rank_call(call)
    entries = []
    cut = None  # the first funded proposal gets a million less than it asked for
    for row in ranking.rows:
        proposal = db.session.scalar(select(Proposal).where(Proposal.reference == row.reference))
        outcome = prefill_outcome(row.status) or DecisionOutcome.REJECTED
        if outcome is DecisionOutcome.FUNDED and proposal.requested_funding_eur is None:
            outcome = DecisionOutcome.RESERVE  # no amount announced: kept until one is known
        amount = None
        if outcome is DecisionOutcome.FUNDED and cut is None:
            cut, amount = proposal.reference, proposal.requested_funding_eur - Decimal(1_000_000)
        entries.append(DecisionEntry(proposal, outcome, "As ranked by the panel.", amount))
    try:
        record_decisions(call, entries, coordinator, ranking)
    except DecisionsInvalid as exc:
        raise AssertionError(exc.errors) from exc
    db.session.commit()
    closed = client.post(f"/calls/{key}/decide", data={"confirm": "y"})
    assert closed.status_code == 302, closed.get_data(as_text=True)

    # The report, made by the command line, read back.
    path = tmp_path / "report.pdf"
    made = runner.invoke(args=["report", key, "-o", str(path)])
    assert made.exit_code == 0, made.output
    text = pdftotext(path.read_bytes(), tmp_path)
    flat = re.sub(r"\s+", " ", text)

    # Phases: who moved the call and when; the command line's move has no person.
    phases = flat[flat.index("Phases") :]
    assert re.search(r"Evaluation Consensus " + re.escape(coordinator.name), phases)
    assert re.search(r"Consensus Ranking –", phases)
    assert re.search(r"Ranking Decided " + re.escape(coordinator.name), phases)
    # The audit chain's state the report was made at, and the chain is intact up to it.
    db.session.expire_all()
    seq, digest = state_of(db.session, chain_of(call.id))
    assert f"event {seq}: " in flat and digest[:32] in flat.replace(" ", "")
    verified = runner.invoke(args=["report", "verify", str(path), "--against", key])
    assert verified.exit_code == 0, verified.output
    # The consensus justification and the minority view, in the proposal's section.
    section = flat[flat.rindex(justified) :]
    assert JUSTIFICATION in flat
    assert MINORITY in section
    # What the decisions fund, against the budget; the cut grant in its proposal's section.
    assert "Funded by the decisions" in flat and "of a budget of" in flat
    assert "Funded, granted " in flat[flat.rindex(cut) :]
    # Every section is there, in order, and the report is final (no draft marking).
    headings = (
        "Contents",
        "1 Method",
        "Criteria",
        "Scale",
        "2 The process in numbers",
        "Phases",
        "Weighted totals in ranking order",
        "3 Ranking",
        "4 The proposals",
        "5 Appendix: rules and verification",
        "The rules in short",
        "Fingerprint",
    )
    assert "Contents" in flat[: flat.index("Page 2 of")]
    body = flat[flat.index("Page 2 of") :]  # past the cover and the table of contents
    at = 0
    for heading in headings[1:]:  # each one after the one before
        found = body.find(heading, at)
        assert found != -1, f"{heading!r} missing after position {at}"
        at = found + len(heading)
    # Every proposal is ranked and has its own section after the ranking.
    proposals_part = body[body.index("4 The proposals") : body.index("5 Appendix")]
    for row in ranking.rows:
        assert row.reference in body[body.index("3 Ranking") : body.index("4 The proposals")]
        assert row.reference in proposals_part
    assert "DRAFT" not in flat
