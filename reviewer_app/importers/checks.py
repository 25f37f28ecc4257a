"""Checking the values of imported rows: one collector of every problem, and the lookups that
several imports share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext
from sqlalchemy import select

from .. import limits
from ..extensions import db
from ..locks import lock_call
from ..models import (
    Call,
    Phase,
    Proposal,
    Role,
    User,
)
from ..scoring.scheme import Scheme
from .tables import ImportRejected, Row, RowError, RowStream, Table

DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}")
CENT = Decimal("0.01")

# Proposal columns that map to model fields, with their length limits (the forms' too).
PROPOSAL_TEXT_COLUMNS = {
    "reference": limits.PROPOSAL_REFERENCE,
    "title": limits.PROPOSAL_TITLE,
    "acronym": limits.PROPOSAL_ACRONYM,
    "applicant": limits.PROPOSAL_APPLICANT,
    "summary": limits.PROPOSAL_SUMMARY,
}
PROPOSAL_COLUMNS = (*PROPOSAL_TEXT_COLUMNS, "country", "requested_funding_eur")
USER_COLUMNS = ("email", "name", "role", "organisation", "country", "language")
IMPORTABLE_ROLES = (Role.EXPERT, Role.COORDINATOR, Role.OBSERVER)
TRUE_WORDS = {"1", "true", "yes", "y", "x"}
FALSE_WORDS = {"", "0", "false", "no", "n"}


# --- checking values ----------------------------------------------------------------------------


class Check:
    """Collects the problems of a table while values are read out of its rows."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, row: Row | None, column: str | None, message: str) -> None:
        self.errors.append(RowError(row.number if row else None, column, message))

    def require_columns(self, table: Table | RowStream, required: Iterable[str]) -> None:
        missing = [c for c in required if c not in table.columns]
        if missing:
            listed = ", ".join(f"'{c}'" for c in missing)
            self.add(
                None,
                None,
                gettext("missing column: %(names)s", names=listed)
                if len(missing) == 1
                else gettext("missing columns: %(names)s", names=listed),
            )

    def refuse_unknown_columns(self, table: Table | RowStream, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for column in table.columns:
            if column not in allowed:
                self.add(None, column, "unknown column")

    def raise_if_any(self) -> None:
        if self.errors:
            raise ImportRejected(self.errors)

    def text(
        self, row: Row, column: str, *, required: bool = False, max_length: int | None = None
    ) -> str:
        """The cell as text; "" when it is refused, so that no later check repeats a bad value.

        Free text passes its limit from ``limits`` as ``max_length``; a code (a country, a role)
        passes none, its own check follows.
        """
        value = row.values.get(column)
        if value is None:
            value = ""
        elif isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.add(row, column, gettext("must be text"))
            return ""
        value = str(value).strip()
        if required and not value:
            self.add(row, column, gettext("must not be empty"))
        elif max_length is not None and len(value) > max_length:
            self.add(
                row,
                column,
                gettext("at most %(max)s characters, got %(num)s", max=max_length, num=len(value)),
            )
            return ""
        return value

    def number(self, row: Row, column: str, *, required: bool = False) -> Decimal | None:
        """A decimal number with at most two decimals (a score or an amount in euros)."""
        raw = row.values.get(column)
        if raw is None or raw == "":
            if required:
                self.add(row, column, gettext("must not be empty"))
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
            shown = limits.excerpt(repr(raw))
            self.add(row, column, gettext("must be a number, got %(value)s", value=shown))
            return None
        text = str(raw).strip()
        try:
            # A decimal comma ("4,5", as a German spreadsheet writes it) is unambiguous with one
            # or two digits after it; "1,500" could be a thousands separator and is refused.
            value = Decimal(text.replace(",", ".") if DECIMAL_COMMA.fullmatch(text) else text)
        except InvalidOperation:
            self.add(
                row,
                column,
                gettext(
                    "must be a number such as 1234.50, got %(value)s",
                    value=limits.excerpt(repr(raw)),
                ),
            )
            return None
        if not value.is_finite():
            shown = limits.excerpt(repr(raw))
            self.add(row, column, gettext("must be a number, got %(value)s", value=shown))
            return None
        # The size before the decimals: 1e26 cannot even be rounded to cents.
        if not -limits.MAX_EUR <= value <= limits.MAX_EUR:
            bound = format(limits.MAX_EUR + CENT, ",.0f")  # 1,000,000,000,000
            self.add(
                row,
                column,
                gettext(
                    "must be less than %(max)s, got %(value)s",
                    max=bound,
                    value=limits.excerpt(text),
                ),
            )
            return None
        if value != value.quantize(CENT):
            self.add(
                row,
                column,
                gettext("at most two decimals, got %(value)s", value=limits.excerpt(text)),
            )
            return None
        return value

    def score(self, row: Row, column: str, scheme: Scheme) -> Decimal | None:
        value = self.number(row, column, required=True)
        if value is not None and not scheme.scale.contains(value):
            scale = scheme.scale
            self.add(
                row,
                column,
                gettext(
                    "%(value)s is off the scale: %(min)s to %(max)s in steps of %(step)s",
                    value=value,
                    min=scale.min,
                    max=scale.max,
                    step=scale.step,
                ),
            )
            return None
        return value

    def comment(self, row: Row, column: str, minimum: int) -> str:
        before = len(self.errors)
        comment = self.text(row, column, max_length=limits.COMMENT)
        if len(self.errors) == before and len(comment) < max(minimum, 1):
            self.add(
                row,
                column,
                gettext("a comment is required")
                if not comment
                else gettext(
                    "at least %(min)s characters, got %(num)s", min=minimum, num=len(comment)
                ),
            )
        return comment

    def flag(self, row: Row, column: str) -> bool:
        raw = row.values.get(column)
        if isinstance(raw, bool):
            return raw
        word = "" if raw is None else str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word not in FALSE_WORDS:
            self.add(
                row,
                column,
                gettext("must be yes or no, got %(value)s", value=limits.excerpt(repr(raw))),
            )
        return False

    def unique(self, row: Row, column: str, value: str, seen: dict[str, int | None]) -> None:
        """Report ``value`` when an earlier row of the same file already had it."""
        if value in seen:
            first = seen[value]
            self.add(
                row,
                column,
                gettext("'%(value)s' already appears in row %(num)s", value=value, num=first),
            )
        else:
            seen[value] = row.number


def country_message(country: object) -> str:
    return str(
        gettext(
            "a two-letter country code such as DE, got %(value)s",
            value=limits.excerpt(repr(country)),
        )
    )


def check_phase(call: Call, allowed: tuple[Phase, ...], what: str) -> None:
    if lock_call(call) not in allowed:
        phases = " or ".join(f"'{p.value}'" for p in allowed)
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "%(what)s can be imported only while the call is in the %(phases)s "
                        "phase; call '%(key)s' is in '%(phase)s'",
                        what=what,
                        phases=phases,
                        key=call.key,
                        phase=call.phase.value,
                    ),
                )
            ]
        )


def normalise_email(check: Check, row: Row, column: str) -> str:
    raw = check.text(row, column, required=True, max_length=limits.USER_EMAIL)
    if not raw:
        return ""
    normalised = _normalised_email(raw)
    if isinstance(normalised, EmailNotValidError):
        check.add(
            row,
            column,
            gettext(
                "'%(value)s' is not a valid e-mail address: %(error)s",
                value=limits.excerpt(raw),
                error=str(normalised),
            ),
        )
        return ""
    return normalised


@lru_cache(maxsize=4096)
def _normalised_email(raw: str) -> str | EmailNotValidError:
    # A file of 100,000 reviews names a few thousand experts: each address is checked once.
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return exc


def proposals_by_reference(call: Call) -> dict[str, Proposal]:
    return {
        p.reference: p
        for p in db.session.scalars(select(Proposal).where(Proposal.call_id == call.id))
    }


def users_by_email(emails: set[str]) -> dict[str, User]:
    return {
        u.email: u
        for chunk in in_chunks(emails)
        for u in db.session.scalars(select(User).where(User.email.in_(chunk)))
    }


IN_CHUNK = 5_000  # values per SQL "IN (...)": SQLite takes at most 32,766 parameters


K = TypeVar("K", str, int)


def in_chunks(values: Iterable[K]) -> Iterator[list[K]]:
    """``values`` sorted, in lists short enough for one ``IN (...)`` each (a file of 100,000
    rows may name more proposals or experts than one statement may carry)."""
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def known_proposal(check: Check, row: Row, proposals: Mapping[str, Proposal]) -> Proposal | None:
    reference = check.text(row, "proposal", required=True, max_length=limits.PROPOSAL_REFERENCE)
    if reference and reference not in proposals:
        check.add(
            row,
            "proposal",
            gettext("'%(ref)s' is not a proposal of this call", ref=reference),
        )
    return proposals.get(reference)


def known_expert(
    check: Check, row: Row, experts: Mapping[str, User], email: str, column: str = "expert"
) -> User | None:
    if not email:
        return None
    expert = experts.get(email)
    if expert is None:
        check.add(
            row,
            column,
            gettext("no user with e-mail %(email)s", email=email),
        )
    elif expert.role is not Role.EXPERT:
        check.add(
            row,
            column,
            gettext("%(email)s is a %(role)s, not an expert", email=email, role=expert.role.value),
        )
        return None
    elif not expert.active:
        check.add(
            row,
            column,
            gettext("%(email)s is deactivated", email=email),
        )
        return None
    return expert
