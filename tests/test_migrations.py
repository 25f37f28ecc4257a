"""Migrations: an empty database goes to head, matches the models exactly, and comes back down."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect

from reviewer_app import create_app
from reviewer_app.extensions import db

from .conftest import _database_url, drop_schema


def test_upgrade_check_downgrade(tmp_path: Path) -> None:
    # A database (or PostgreSQL schema) of its own, so the session database is untouched.
    url = _database_url(tmp_path, prefix="migrations")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "calls", "proposals", "reviews", "scores", "audit_events"} <= tables
        check()  # raises (exits) when the models and the migrations differ
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    drop_schema(url)


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
