"""``record_many``, the audit writer of bulk imports: the same rows as ``record``, on the same
chain, in the order of recording, without an ORM object per event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from reviewer_app.audit.chain import verify
from reviewer_app.audit.events import DemoSeeded
from reviewer_app.extensions import db, table_of
from reviewer_app.models import AuditEvent, Proposal
from reviewer_app.models.audit import PENDING_COLUMNS, ObjectRef, chain_of, record, record_many


def test_a_pending_event_has_every_column_of_the_table_but_the_id() -> None:
    columns = [c.key for c in table_of(AuditEvent).columns if c.key != "id"]
    assert sorted(PENDING_COLUMNS) == sorted(columns)


def test_both_writers_write_the_same_row_and_keep_the_order(evaluated_call) -> None:
    call = evaluated_call
    proposal = db.session.scalars(select(Proposal).where(Proposal.call_id == call.id)).first()
    assert proposal is not None
    at = datetime(2026, 12, 1, 12, 0, 0)
    # Recorded first and not yet flushed: record_many must seal them before its own event.
    record(DemoSeeded(), call, call_id=call.id, actor_id=None, at=at)
    record(DemoSeeded(), proposal, call_id=call.id, actor_id=None, at=at)
    written = record_many(
        [(DemoSeeded(), ObjectRef(Proposal, proposal.id))], call_id=call.id, actor_id=None, at=at
    )
    db.session.commit()
    assert written == 1
    db.session.expire_all()
    chain = list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.chain == chain_of(call.id)).order_by(AuditEvent.seq)
        )
    )
    first, by_record, by_many = chain[-3:]
    assert [e.seq for e in (first, by_record, by_many)] == [first.seq, first.seq + 1, first.seq + 2]
    assert (first.object_type, first.object_id) == ("call", call.id)

    def content(e: AuditEvent) -> tuple[object, ...]:
        return (e.at, e.actor_id, e.action, e.object_type, e.object_id, e.call_id, e.data, e.chain)

    assert content(by_record) == content(by_many)
    assert content(by_many) == (
        at,
        None,
        DemoSeeded.action,
        "proposal",
        proposal.id,
        call.id,
        {},
        f"call-{call.id}",
    )
    assert by_record.prev_digest == first.digest and by_many.prev_digest == by_record.digest
    report = verify(db.session, chain_of(call.id))
    assert report.intact and report.head == by_many.digest


def test_nothing_to_write_writes_nothing(evaluated_call) -> None:
    before = db.session.scalars(select(AuditEvent)).all()
    assert record_many([], call_id=evaluated_call.id, actor_id=None) == 0
    db.session.commit()
    assert len(db.session.scalars(select(AuditEvent)).all()) == len(before)
