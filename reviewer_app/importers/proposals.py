"""Importing proposals into a call."""

from __future__ import annotations

import json
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select

from .. import limits
from ..audit.events import (
    ProposalsImported,
)
from ..extensions import db
from ..models import (
    Call,
    Phase,
    Proposal,
    User,
)
from ..models.audit import record
from .checks import PROPOSAL_COLUMNS, PROPOSAL_TEXT_COLUMNS, Check, check_phase, country_message
from .tables import Table

# --- proposals ----------------------------------------------------------------------------------


def import_proposals(call: Call, table: Table, *, actor: User | None) -> list[Proposal]:
    """Add the table's proposals to ``call`` (in the ``setup`` phase).

    Columns ``reference`` and ``title`` are required; ``acronym``, ``applicant``, ``country``,
    ``requested_funding_eur`` and ``summary`` are optional; any other column is kept in the
    proposal's extra fields.

    :raises ImportRejected: a bad row, a reference twice in the file or already in the call.
    """
    check_phase(call, (Phase.SETUP,), "proposals")
    check = Check()
    check.require_columns(table, ("reference", "title"))
    extra_columns = [c for c in table.columns if c not in PROPOSAL_COLUMNS]
    for column in extra_columns:
        if len(column) > limits.EXTRA_FIELD_NAME:
            check.add(
                None,
                column,
                gettext(
                    "the name of an extra column has at most %(max)s characters, got %(num)s",
                    max=limits.EXTRA_FIELD_NAME,
                    num=len(column),
                ),
            )
    check.raise_if_any()
    existing = set(
        db.session.scalars(select(Proposal.reference).where(Proposal.call_id == call.id))
    )
    seen: dict[str, int | None] = {}
    proposals: list[Proposal] = []
    for row in table.rows:
        fields = {
            name: check.text(row, name, required=name in ("reference", "title"), max_length=limit)
            for name, limit in PROPOSAL_TEXT_COLUMNS.items()
        }
        reference = fields["reference"]
        if reference:
            check.unique(row, "reference", reference, seen)
            if reference in existing:
                check.add(
                    row,
                    "reference",
                    gettext("'%(ref)s' is already a proposal of this call", ref=reference),
                )
        country = check.text(row, "country").upper() or None
        if country is not None and not (len(country) == 2 and country.isalpha()):
            check.add(row, "country", country_message(country))
        funding = check.number(row, "requested_funding_eur")
        if funding is not None and funding < 0:
            check.add(
                row,
                "requested_funding_eur",
                gettext("must not be negative, got %(value)s", value=funding),
            )
        extra = {}
        for column in extra_columns:
            value = row.values.get(column)
            if value in ("", None):
                continue
            value = str(value) if isinstance(value, Decimal) else value
            # Measured as stored (a list or an object of a JSON file as JSON text).
            length = len(value if isinstance(value, str) else json.dumps(value, default=str))
            if length > limits.EXTRA_FIELD_VALUE:
                check.add(
                    row,
                    column,
                    gettext(
                        "at most %(max)s characters, got %(num)s",
                        max=limits.EXTRA_FIELD_VALUE,
                        num=length,
                    ),
                )
            extra[column] = value
        proposals.append(
            Proposal(
                call_id=call.id,
                country=country,
                requested_funding_eur=funding,
                extra=extra,
                **fields,
            )
        )
    if not table.rows:
        check.add(None, None, gettext("the file has no proposals"))
    check.raise_if_any()
    db.session.add_all(proposals)
    db.session.flush()
    record(
        ProposalsImported(count=len(proposals), references=[p.reference for p in proposals]),
        call,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    return proposals
