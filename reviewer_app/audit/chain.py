"""Sealing and verifying the audit chains (see ``models/audit.py`` for the layout).

The digest of an event is HMAC-SHA256, keyed by ``AUDIT_KEY`` (derived from ``SECRET_KEY`` unless
set), over the canonical JSON of its chain, number, time, actor, action, object, call, data and
the previous event's digest. Someone who edits the table with plain SQL cannot recompute it
without the key; someone who has the key still cannot change the past without changing every
later digest, which the decision reports carry (the chain head).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import table_of
from ..models.audit import GENESIS, SITE_CHAIN, AuditEvent, AuditHead, PendingEvent


def audit_key() -> bytes:
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"reviewer_app audit chain v1", hashlib.sha256).digest()


def _timestamp(at: datetime) -> str:
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def event_digest(
    key: bytes,
    *,
    chain: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    call_id: int | None,
    data: Any,
    prev_digest: str,
) -> str:
    content = {
        "chain": chain,
        "seq": seq,
        "at": _timestamp(at),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "call_id": call_id,
        "data": data,
        "prev": prev_digest,
    }
    message = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def digest_of(key: bytes, event: AuditEvent | PendingEvent) -> str:
    return event_digest(
        key,
        chain=event.chain,
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        call_id=event.call_id,
        data=event.data,
        prev_digest=event.prev_digest,
    )


def _lock_head(connection: Connection, chain: str) -> tuple[int, str]:
    """The chain's head, locked until the transaction ends (a row lock on PostgreSQL; the
    no-op update takes SQLite's write lock), so that concurrent writers append in turn."""
    table = table_of(AuditHead)
    lock = update(table).where(table.c.chain == chain).values(seq=table.c.seq)
    if connection.execute(lock).rowcount == 0:
        # A new chain. Two writers may both find it missing (50 experts signing in at once on
        # PostgreSQL did): the one whose row goes in starts the chain, the other waits for it
        # and then appends after it, instead of failing on the duplicate key.
        dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        created = connection.execute(
            dialect_insert(table)
            .values(chain=chain, seq=0, digest=GENESIS)
            .on_conflict_do_nothing(index_elements=[table.c.chain])
        )
        if created.rowcount == 1:
            return 0, GENESIS
        connection.execute(lock)
    row = connection.execute(
        select(table.c.seq, table.c.digest).where(table.c.chain == chain)
    ).one()
    return int(row.seq), str(row.digest)


def seal(connection: Connection, events: Sequence[AuditEvent | PendingEvent]) -> None:
    """Number and digest ``events`` (new, in recording order) and move their chains' heads."""
    key = audit_key()
    table = table_of(AuditHead)
    by_chain: dict[str, list[AuditEvent | PendingEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    for chain in sorted(by_chain):  # one order for every writer: no deadlock between chains
        seq, digest = _lock_head(connection, chain)
        for event in by_chain[chain]:
            seq += 1
            event.seq = seq
            event.prev_digest = digest
            event.digest = digest = digest_of(key, event)
        connection.execute(
            update(table).where(table.c.chain == chain).values(seq=seq, digest=digest)
        )


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found in one chain."""

    chain: str
    count: int
    head: str  # the digest of the newest event (GENESIS for an empty chain)
    # Why the chain is broken, a lazy translation: the command line prints it in English,
    # the audit page in the reader's language.
    problem: Any = None
    event_id: int | None = None  # the first event that was changed, removed or reordered

    @property
    def intact(self) -> bool:
        return self.problem is None


def _events(session: Any, chain: str) -> Iterator[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq, AuditEvent.id)
        # What the database holds now, not what this session read before.
        .execution_options(yield_per=1000, populate_existing=True)
    )
    yield from session.scalars(query)


def verify(session: Any, chain: str, *, until: int | None = None) -> ChainReport:
    """Walk ``chain`` from its first event (up to number ``until``); report the first break, or
    the count and head."""
    key = audit_key()
    previous, expected, count = GENESIS, 1, 0
    for event in _events(session, chain):
        if until is not None and event.seq > until:
            return ChainReport(chain, count, previous)
        if event.seq != expected:
            what = _l(
                "event number %(expected)s of the chain is missing (removed), or the events "
                "were reordered: the next one is number %(seq)s",
                expected=expected,
                seq=event.seq,
            )
            return ChainReport(chain, count, previous, what, event.id)
        if event.prev_digest != previous:
            return ChainReport(
                chain,
                count,
                previous,
                _l("the event before this one was changed, removed or reordered"),
                event.id,
            )
        if not hmac.compare_digest(digest_of(key, event), event.digest):
            return ChainReport(chain, count, previous, _l("this event was changed"), event.id)
        previous, expected, count = event.digest, expected + 1, count + 1
    head = session.get(AuditHead, chain, populate_existing=True)
    if count and (head is None or head.seq != count or head.digest != previous):
        return ChainReport(
            chain,
            count,
            previous,
            _l("events after the last one found were removed (the chain's head is further on)"),
            None,
        )
    return ChainReport(chain, count, previous)


def chains(session: Any) -> list[str]:
    """Every chain that has a head: the site's first, then the calls' by number."""
    names: Iterable[str] = session.scalars(select(AuditHead.chain))
    return sorted(names, key=lambda n: (n != SITE_CHAIN, len(n), n))


def state_of(session: Any, chain: str) -> tuple[int, str]:
    """(number, digest) of the newest event of ``chain`` that changed something (reads
    skipped): what a report made now describes. (0, GENESIS) when there is none."""
    from .events import read_actions

    row = session.execute(
        select(AuditEvent.seq, AuditEvent.digest)
        .where(AuditEvent.chain == chain, AuditEvent.action.not_in(read_actions()))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return (int(row.seq), str(row.digest)) if row is not None else (0, GENESIS)


def event_at(session: Any, chain: str, seq: int) -> AuditEvent | None:
    event: AuditEvent | None = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.chain == chain, AuditEvent.seq == seq)
        .execution_options(populate_existing=True)
    )
    return event


def head_of(session: Any, chain: str) -> tuple[int, str]:
    """(number, digest) of the chain's newest event; (0, GENESIS) when it has none."""
    head = session.get(AuditHead, chain)
    return (head.seq, head.digest) if head is not None else (0, GENESIS)
