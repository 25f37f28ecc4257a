"""One definition per audit action, used by the writers and the readers."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewer_app.audit.events import AuditData, ConflictDeclared, PhaseMoved, label_of, parse
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase

PACKAGE = Path(__file__).resolve().parents[2] / "reviewer_app"


def test_every_record_call_passes_a_typed_event() -> None:
    """No writer may invent its own keys: ``record("action", ..., key=value)`` is gone."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders


def test_actions_are_unique_and_every_event_reads_back_what_it_wrote() -> None:
    assert len(AuditData.registry) == len(set(AuditData.registry))
    moved = PhaseMoved(from_phase=Phase.CONSENSUS, to_phase=Phase.RANKING, unfinished_consensus=2)
    data = moved.to_data()
    assert data == {
        "from_phase": "consensus",
        "to_phase": "ranking",
        "open_reviews": None,
        "unfinished_consensus": 2,
    }
    assert parse("call.phase", data) == moved
    assert parse("no.such.action", {}) is None


def test_an_event_without_a_label_is_refused() -> None:
    with pytest.raises(TypeError, match="has no label"):

        @dataclass(frozen=True)
        class Unlabelled(AuditData):  # pragma: no cover - refused at definition
            action = "test.unlabelled"

    assert "test.unlabelled" not in AuditData.registry
    assert (
        label_of("call.phase") == "Phase moved" and label_of("no.such.action") == "no.such.action"
    )


def test_a_phase_moved_by_the_service_is_read_by_the_report(evaluated_call) -> None:
    """Through the real writer (the phase service) and the real reader (the decision report)."""
    from reviewer_app.reports.records import load_records

    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.phase"))
    assert event.typed() == PhaseMoved(from_phase=Phase.SETUP, to_phase=Phase.EVALUATION)
    records = load_records(evaluated_call)
    assert [(m.from_phase, m.to_phase) for m in records.phase_moves] == [("setup", "evaluation")]


def test_confidential_fields_are_marked() -> None:
    assert ConflictDeclared.confidential_fields() == {"reason"}
    assert PhaseMoved.confidential_fields() == frozenset()
