"""The coordinator's writes and queries: calls and their phases.

Services add and flush; the caller (a view or a CLI command) commits once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Call, Criterion
from ..models.audit import record
from ..scoring.scheme import Scheme, sha256_text


class CallKeyTaken(ValueError):
    """Another call already uses this key."""


def create_call(
    scheme: Scheme,
    scheme_text: str,
    *,
    key: str,
    title: str,
    budget_eur: Decimal | None = None,
    deadline: date | None = None,
    anonymise_experts: bool = True,
) -> Call:
    """A new call in ``setup`` with a frozen copy of ``scheme`` and one row per criterion.

    ``scheme_text`` is the criteria file as read; its SHA-256 identifies the exact file used.

    :raises CallKeyTaken: the key is in use.
    """
    if db.session.scalar(select(Call.id).where(Call.key == key)) is not None:
        raise CallKeyTaken(key)
    call = Call(
        key=key,
        title=title,
        scheme_json=scheme.to_json(),
        scheme_sha256=sha256_text(scheme_text),
        budget_eur=budget_eur,
        deadline=deadline,
        anonymise_experts=anonymise_experts,
    )
    call.criteria = [
        Criterion(
            key=c.key,
            title=c.title,
            question=c.question,
            weight=c.weight,
            threshold=c.threshold,
            position=position,
        )
        for position, c in enumerate(scheme.criteria)
    ]
    db.session.add(call)
    db.session.flush()
    record(
        "call.create",
        call,
        call_id=call.id,
        key=key,
        scheme=scheme.key,
        scheme_sha256=call.scheme_sha256,
    )
    return call
