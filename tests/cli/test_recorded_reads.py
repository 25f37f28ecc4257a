"""Files the command line takes out of a call are recorded in its audit log, as web downloads
are; no person is named (the command line has none), and the chain stays intact."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from reviewer_app.audit.chain import verify
from reviewer_app.audit.events import ExportDownloaded, ReportDownloaded
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent
from reviewer_app.models.audit import chain_of


def _reads(call_id: int) -> list[tuple[str, dict, int | None]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.call_id == call_id,
            AuditEvent.action.in_([ExportDownloaded.action, ReportDownloaded.action]),
        )
        .order_by(AuditEvent.id)
    )
    return [(e.action, e.data, e.actor_id) for e in rows]


def test_exports_and_reports_from_the_command_line_are_recorded(
    runner, evaluated_call, tmp_path: Path
) -> None:
    key, call_id = evaluated_call.key, evaluated_call.id
    steps = [
        ["export", key, "--what", "ranking", "--format", "json", "-o", str(tmp_path / "r.json")],
        ["audit", "export", key, "--format", "csv", "-o", str(tmp_path / "a.csv")],
        ["report", key, "-o", str(tmp_path / "d.pdf"), "--lang", "de"],
        ["esr", key, "-o", str(tmp_path / "f.zip")],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    reads = _reads(call_id)
    assert [(action, data.get("what") or data.get("kind")) for action, data, _ in reads] == [
        ("export.download", "ranking"),
        ("export.download", "audit"),
        ("report.download", "decision"),
        ("report.download", "feedback-zip"),
    ]
    assert all(actor is None for _, _, actor in reads)
    assert reads[2][1]["language"] == "de" and reads[2][1]["fingerprint"]
    assert verify(db.session, chain_of(call_id)).intact


def test_a_refused_command_records_nothing(runner, evaluated_call, tmp_path: Path) -> None:
    result = runner.invoke(args=["esr", evaluated_call.key, "--proposal", "NOPE", "-o", "x.pdf"])
    assert result.exit_code == 1 and "no proposal 'NOPE'" in result.output
    assert _reads(evaluated_call.id) == []
