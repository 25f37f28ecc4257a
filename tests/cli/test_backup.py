"""`reviewer-app backup` and `restore` (issue 11, point 7): everything comes back, the audit
log still verifies, and a restore never lands on data unasked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from reviewer_app.coordinator.proposals import attach_document
from reviewer_app.demo import clear_database
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Document, Proposal, Review, Score
from reviewer_app.models.versions import ReviewVersion

from ..coordinator.test_proposals import pdf_bytes

COUNTED = (Review, Score, ReviewVersion, AuditEvent, Document)


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }


def _seeded(runner) -> bytes:  # type: ignore[no-untyped-def]
    """The demo call (reviews, versions, audit events) and an uploaded PDF."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    proposal = db.session.scalar(select(Proposal).order_by(Proposal.reference).limit(1))
    assert proposal is not None
    content = pdf_bytes(2)
    attach_document(proposal, "part-b.pdf", content, max_bytes=10_000_000, uploaded_by=None)
    db.session.commit()
    return content


def test_a_backup_restores_every_row_and_the_log_still_verifies(
    runner, app_ctx, tmp_path: Path
) -> None:
    content = _seeded(runner)
    # Statistics gathered already (SQLite copies them with the file): the copy must not carry
    # them, so that only the restore can have made them. pg_restore makes the tables anew.
    if db.engine.dialect.name == "sqlite" and planner_rows("scores"):
        db.session.execute(text("DELETE FROM sqlite_stat1"))
        db.session.commit()
    before = _counts()
    file = tmp_path / "site.backup"
    made = runner.invoke(args=["backup", str(file)])
    assert made.exit_code == 0, made.output
    assert "1 calls" in made.output and file.stat().st_size > 10_000

    # Everything gone, then back from the file.
    clear_database()
    db.session.commit()
    assert _counts()["Review"] == 0
    restored = runner.invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    after = _counts()
    # The copy holds every row; the log has one event more: the backup itself, recorded
    # after the copy was made, is not in it, and the restore is.
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {
        k: v for k, v in before.items() if k != "AuditEvent"
    }
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "site.restore" and "site.backup" not in actions
    document = db.session.scalar(select(Document).where(Document.filename == "part-b.pdf"))
    assert document is not None and document.content == content
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output and "BROKEN" not in verified.output
    # The planner knows the restored tables (pg_restore brings no statistics).
    assert planner_rows("scores") == after["Score"] > 0


def planner_rows(table: str) -> int:
    """How many rows the planner's statistics (from the last ``ANALYZE``) give ``table``; 0
    when it has none."""
    if db.engine.dialect.name == "postgresql":
        # The table the search path names: each test worker has a schema of its own.
        counted = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)")
        return max(0, int(db.session.scalar(counted, {"t": table}) or 0))
    has_stats = text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if not db.session.scalar(has_stats):
        return 0
    stats = db.session.scalars(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})
    return max((int(stat.split()[0]) for stat in stats), default=0)


def test_restore_refuses_data_unless_forced_and_refuses_what_is_not_a_backup(
    runner, app_ctx, tmp_path: Path
) -> None:
    _seeded(runner)
    file = tmp_path / "site.backup"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    # The database holds data: a restore over it must be asked for.
    call = db.session.scalar(select(Proposal.call_id).limit(1))
    reviews = _counts()["Review"]
    refused = runner.invoke(args=["restore", str(file)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert _counts()["Review"] == reviews  # nothing touched

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    wrong = runner.invoke(args=["restore", str(not_a_backup), "--force"])
    assert wrong.exit_code == 1 and "not a backup" in wrong.output
    missing = runner.invoke(args=["restore", str(tmp_path / "none.backup"), "--force"])
    assert missing.exit_code == 1 and "no such file" in missing.output

    forced = runner.invoke(args=["restore", str(file), "--force"])
    assert forced.exit_code == 0, forced.output
    assert call is not None and _counts()["Review"] == reviews
