"""Migrations: an empty database goes to head, matches the models exactly, and comes back down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect

from reviewer_app import create_app
from reviewer_app.extensions import db


def test_upgrade_check_downgrade(new_database_url: Callable[[str], str]) -> None:
    # A database (or PostgreSQL schema) of its own, so the session database is untouched.
    url = new_database_url("migrations")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "calls", "proposals", "reviews", "scores", "audit_events"} <= tables
        check()  # raises (exits) when the models and the migrations differ
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_migration_files_are_named_by_date_and_have_downgrades() -> None:
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    files = sorted(versions.glob("*.py"))
    assert files
    for path in files:
        stem = path.stem
        assert stem[:8].isdigit() and stem[8] == "_" and stem[9:13].isdigit(), path.name
        source = path.read_text()
        assert "def downgrade" in source
        assert "pass\n" not in source.split("def downgrade", 1)[1][:200], (
            f"{path.name}: empty downgrade"
        )


def test_reviews_and_reports_saved_before_are_kept_as_their_first_version(
    new_database_url: Callable[[str], str],
) -> None:
    """What a review or consensus report holds when versions begin to be kept is their first
    version (path "earlier"), so the next save does not overwrite it for good."""
    from decimal import Decimal

    from sqlalchemy import text

    from reviewer_app.coordinator.calls import create_call
    from reviewer_app.models import (
        Assignment,
        ConsensusReport,
        ConsensusScore,
        Proposal,
        Review,
        ReviewStatus,
        Role,
        Score,
        User,
    )
    from reviewer_app.scoring.scheme_parser import load_scheme_file

    from .conftest import DEMO_SCHEME

    url = new_database_url("versions")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        call = create_call(
            load_scheme_file(DEMO_SCHEME),
            DEMO_SCHEME.read_text(),
            key="k",
            title="Call",
            actor=None,
        )
        proposal = Proposal(call=call, reference="P-1", title="Proposal")
        expert = User(email="e@example.org", name="E", organisation="O", role=Role.EXPERT)
        review = Review(
            assignment=Assignment(proposal=proposal, expert=expert),
            status=ReviewStatus.SUBMITTED,
            scores=[
                Score(criterion=c, value=Decimal("3.5"), comment="Old.") for c in call.criteria
            ],
        )
        report = ConsensusReport(
            proposal=proposal,
            scores=[
                ConsensusScore(criterion=c, value=Decimal(4), comment="Agreed.")
                for c in call.criteria
            ],
        )
        db.session.add_all([review, report])
        db.session.commit()
        review.status = ReviewStatus.DRAFT  # a second save: the version column moves to 2
        db.session.commit()
        db.session.remove()
        downgrade(revision="33ba0e2a31f6")  # the schema before versions were kept
        upgrade()
        with db.engine.connect() as conn:
            kept = conn.execute(
                text("SELECT number, path, status, saved_by_id FROM review_versions")
            ).all()
            comments = conn.execute(text("SELECT value, comment FROM review_version_scores")).all()
            reports = conn.execute(
                text("SELECT number, path, status FROM consensus_versions")
            ).all()
            agreed = conn.execute(text("SELECT comment FROM consensus_version_scores")).all()
        assert kept == [(2, "earlier", "draft", None)]
        assert sorted(comments) == [(350, "Old.")] * 3  # integer hundredths, as in scores
        assert reports == [(1, "earlier", "draft")]
        assert agreed == [("Agreed.",)] * 3
        downgrade(revision="base")
        db.engine.dispose()
