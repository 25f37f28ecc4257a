"""Reading a call's audit log: one row definition for the audit page, its CSV download and
``reviewer-app audit export``.

Fields an event marks confidential (a conflict-of-interest reason) are left out for readers who
may not see them (observers); the command line, run by the site's administrator, shows them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from ..extensions import db
from ..models import AuditEvent, Call, Proposal, User
from ..models.audit import chain_of, object_type_of
from .events import AuditData

COLUMNS = (
    "id",
    "seq",
    "at",
    "actor",
    "action",
    "object",
    "proposal",
    "details",
    "digest",
)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    proposal: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditRow:
    id: int
    seq: int
    at: datetime
    actor: str  # e-mail; "" for the command line or the system
    action: str
    object: str  # "type:id"
    proposal: str
    details: dict[str, Any]
    digest: str

    def cells(self) -> tuple[str, ...]:
        return (
            str(self.id),
            str(self.seq),
            self.at.isoformat(timespec="seconds"),
            self.actor,
            self.action,
            self.object,
            self.proposal,
            json.dumps(self.details, sort_keys=True, ensure_ascii=False),
            self.digest,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "proposal": self.proposal,
            "details": self.details,
            "digest": self.digest,
        }


def _query(call: Call, flt: AuditFilter) -> Select[tuple[AuditEvent, str]]:
    # The e-mail is None for events without a person (outer join); _row() handles it.
    query = (
        select(AuditEvent, User.email)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.chain == chain_of(call.id))
    )
    if flt.actor_id is not None:
        query = query.where(AuditEvent.actor_id == flt.actor_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.proposal:
        # Events about the proposal itself (added, changed) name it by their object, not by a
        # "proposal" field.
        own = select(Proposal.id).where(
            Proposal.call_id == call.id, Proposal.reference == flt.proposal
        )
        query = query.where(
            or_(
                AuditEvent.data["proposal"].as_string() == flt.proposal,
                (AuditEvent.object_type == object_type_of(Proposal))
                & AuditEvent.object_id.in_(own),
            )
        )
    if flt.since is not None:
        query = query.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEvent.at < flt.until)
    return query


def _row(event: AuditEvent, email: str | None, *, confidential: bool) -> AuditRow:
    details = dict(event.data or {})
    kind = AuditData.registry.get(event.action)
    if kind is not None and not confidential:
        for name in kind.confidential_fields():
            details.pop(name, None)
    return AuditRow(
        id=event.id,
        seq=event.seq,
        at=event.at,
        actor=email or "",
        action=event.action,
        object=f"{event.object_type}:{event.object_id}" if event.object_type else "",
        proposal=str(details.get("proposal") or ""),
        details=details,
        digest=event.digest,
    )


def count(call: Call, flt: AuditFilter) -> int:
    subquery = _query(call, flt).subquery()
    return int(db.session.scalar(select(func.count()).select_from(subquery)) or 0)


def page(
    call: Call, flt: AuditFilter, *, number: int, size: int, confidential: bool
) -> list[AuditRow]:
    """Page ``number`` (from 1) of the call's events, newest first."""
    query = (
        _query(call, flt).order_by(AuditEvent.seq.desc()).offset((number - 1) * size).limit(size)
    )
    return [_row(e, email, confidential=confidential) for e, email in db.session.execute(query)]


def rows(
    call: Call, flt: AuditFilter, *, confidential: bool, until: int | None = None
) -> Iterator[AuditRow]:
    """Every event of the call in chain order (oldest first), for downloads and exports; with
    ``until``, none after that number (a streamed download is the log as it was asked for)."""
    query = _query(call, flt).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    if until is not None:
        query = query.where(AuditEvent.seq <= until)
    for event, email in db.session.execute(query):
        yield _row(event, email, confidential=confidential)


def last_number(call: Call) -> int:
    """The number of the call's newest event (0 for none)."""
    newest = db.session.scalar(
        select(func.max(AuditEvent.seq)).where(AuditEvent.chain == chain_of(call.id))
    )
    return int(newest or 0)


def actions(call: Call) -> list[str]:
    """The actions that occur in the call's log (for the filter's choices)."""
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.chain == chain_of(call.id))
            .distinct()
            .order_by(AuditEvent.action)
        )
    )


def actors(call: Call) -> list[tuple[int, str]]:
    """(id, e-mail) of everyone who appears in the call's log."""
    return [
        (int(user_id), str(email))
        for user_id, email in db.session.execute(
            select(User.id, User.email)
            .join(AuditEvent, AuditEvent.actor_id == User.id)
            .where(AuditEvent.chain == chain_of(call.id))
            .distinct()
            .order_by(User.email)
        )
    ]
