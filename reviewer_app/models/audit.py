"""The audit log: who did what, when, as a chain nobody can quietly change.

Every event belongs to a chain: one per call ("call-<id>") and one for the site ("site": accounts,
sign-ins). Each event carries its number in the chain, the digest of the event before it, and
its own digest: an HMAC (server secret) over its content and that previous digest. Changing,
removing or reordering a row breaks the chain at that row (``reviewer_app.audit.chain.verify``);
``audit_heads`` holds the last number and digest of each chain, so removing the newest rows shows
too. The digests are computed when the events are flushed, in the writer's transaction, with the
chain's head row locked, so that two writers never fork a chain.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import Model, db, table_of
from .types import utcnow

if TYPE_CHECKING:
    from ..audit.events import AuditData

SITE_CHAIN = "site"
GENESIS = "0" * 64  # the "previous digest" of a chain's first event


def chain_of(call_id: int | None) -> str:
    return f"call-{call_id}" if call_id is not None else SITE_CHAIN


class AuditEvent(Model):
    """One event of the audit log; append-only, chained by digest."""

    __tablename__ = "audit_events"
    # Not a column: the order in which this process recorded its new events, so that a flush
    # seals them in that order (see _seal_new_events).
    recorded_order = 0
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_events_call_id_at", "call_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))

    def typed(self) -> AuditData | None:
        """The event as its typed class (None for an action this version does not know)."""
        from ..audit.events import parse

        return parse(self.action, self.data)


class AuditHead(Model):
    """The newest event of each chain: its number and digest."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(*_args: Any) -> None:
    raise RuntimeError("audit events are append-only")


# Events are chained in the order they were recorded within a flush.
_recorded = itertools.count()


def object_type_of(kind: type) -> str:
    """The ``object_type`` an event about an object of this class carries."""
    return kind.__name__.lower()


@dataclass(frozen=True)
class ObjectRef:
    """An object named by its class and id: the event of a row written in bulk, which has no
    object in the session (``importers.reviews``)."""

    kind: type
    id: int


@dataclass(slots=True)
class PendingEvent:
    """An event's row before it is inserted: its fields are the columns of ``audit_events``
    but the id (tests/audit/test_record_many.py holds them equal). ``record`` makes an
    ``AuditEvent`` of one; ``record_many`` seals and inserts thousands as they are, without the
    ORM's bookkeeping for each (half of its time for 10,000 events, under a profiler)."""

    at: datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: int | None
    call_id: int | None
    data: dict[str, Any]
    chain: str
    seq: int = 0  # the last three: set by ``audit.chain.seal``
    prev_digest: str = ""
    digest: str = ""


PENDING_COLUMNS = tuple(field.name for field in fields(PendingEvent))
# What an event says, before ``seal`` numbers and digests it.
_CONTENT = PENDING_COLUMNS[: PENDING_COLUMNS.index("seq")]
_content_of = attrgetter(*_CONTENT)
_row_of = attrgetter(*PENDING_COLUMNS)


def _pending(
    data: AuditData,
    obj: Any,
    *,
    call_id: int | None,
    actor_id: int | None,
    at: datetime | None,
) -> PendingEvent:
    """The event's row, not yet sealed: ``record`` and ``record_many`` both make it here."""
    object_id: int | None
    if isinstance(obj, ObjectRef):
        kind, object_id = obj.kind, obj.id
    else:
        kind, object_id = type(obj), getattr(obj, "id", None)
    return PendingEvent(
        at=at or utcnow(),
        action=data.action,
        object_type=object_type_of(kind) if obj is not None else "",
        object_id=object_id,
        call_id=call_id,
        actor_id=actor_id,
        data=data.to_data(),
        chain=chain_of(call_id),
    )


def record_many(
    items: Iterable[tuple[AuditData, ObjectRef]],
    *,
    call_id: int | None,
    actor_id: int | None,
    at: datetime | None = None,
) -> int:
    """The events of rows written in bulk (``importers.reviews``): the same rows as ``record``
    writes, sealed on the chain here and inserted with one ``executemany`` instead of one
    statement per event. Events already in the session are flushed (and sealed) first, so the
    chain keeps the order of recording. Returns how many were written."""
    from ..audit.chain import seal

    db.session.flush()
    events = [_pending(data, obj, call_id=call_id, actor_id=actor_id, at=at) for data, obj in items]
    if not events:
        return 0
    seal(db.session.connection(), events)
    db.session.execute(
        insert(table_of(AuditEvent)),
        [dict(zip(PENDING_COLUMNS, _row_of(event), strict=True)) for event in events],
    )
    return len(events)


def record(
    data: AuditData,
    obj: Any = None,
    *,
    call_id: int | None = None,
    actor_id: int | None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit makes it durable with the change).

    ``actor_id`` is always given, by the service that acts for someone: the web passes the
    signed-in user down, the command line and background jobs pass who they act for, None for
    "system" (the record never guesses from the request, which a job does not have).
    """
    pending = _pending(data, obj, call_id=call_id, actor_id=actor_id, at=at)
    event_ = AuditEvent(**dict(zip(_CONTENT, _content_of(pending), strict=True)))
    event_.recorded_order = next(_recorded)
    db.session.add(event_)
    return event_


@event.listens_for(Session, "before_flush")
def _seal_new_events(session: Session, _context: Any, _instances: Any) -> None:
    pending = [o for o in session.new if isinstance(o, AuditEvent) and not o.digest]
    if pending:
        from ..audit.chain import seal

        pending.sort(key=lambda e: e.recorded_order)
        seal(session.connection(), pending)
