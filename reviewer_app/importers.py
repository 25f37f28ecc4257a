"""Bulk imports: proposals, users, assignments, offline reviews and consensus scores.

Shared by the command line and the web upload. Each import is all-or-nothing: it reads the
whole table, checks every row against the database, and raises :class:`ImportRejected` listing
every bad row (row number, column, reason) before it writes anything. Only a table without a
single problem is written; the functions add and flush, the caller commits once.

Row numbers are what a spreadsheet shows: in a CSV file the header is row 1, so the first
proposal is row 2; in a JSON list the first object is row 1.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from . import limits
from .audit.events import (
    AssignmentAdded,
    ConsensusImported,
    ProposalsImported,
    ReviewImported,
    UserCreated,
)
from .consensus.services import expert_mentions
from .coordinator.decisions import (
    DecisionEntry,
    DecisionError,
    check_decisions_open,
    decision_problems,
    record_decisions,
)
from .extensions import db
from .locks import lock_call
from .models import (
    Assignment,
    Call,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Decision,
    DecisionOutcome,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    SavedThrough,
    Score,
    User,
    utcnow,
)
from .models.audit import record
from .models.versions import keep_version
from .planning.assignment import BlockReason, ExpertSlot, ProposalSlot, pair_block_reason
from .ranking import evaluation_input, rank_call
from .scoring.columns import COMMENT_SUFFIX, CONSENSUS_JUSTIFICATION
from .scoring.consensus import ConsensusEffect, consensus_effect
from .scoring.engine import ReviewIn
from .scoring.scheme import Scheme

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


# --- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        # Translated when shown: the web upload says it in the user's language.
        where = [] if self.row is None else [gettext("row %(num)s", num=self.row)]
        if self.column:
            where.append(gettext("column '%(name)s'", name=limits.excerpt(self.column)))
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportRejected(ValueError):
    """The table has problems; nothing was written. ``errors`` lists every one, in row order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row or 0, e.column or ""))
        super().__init__("\n".join(str(e) for e in self.errors))


# --- reading tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int | None  # as the user sees it, see the module docstring; None for a single record
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def read_table(data: bytes, *, filename: str = "", fmt: str | None = None) -> Table:
    """A CSV (UTF-8, with or without BOM) or JSON (a list of objects) file as rows.

    The format is ``fmt`` ("csv" or "json"), else the file name's extension, else JSON when the
    content starts with ``[``.

    :raises ImportRejected: larger than ``limits.IMPORT_BYTES``, not UTF-8, not CSV/JSON of the
        expected shape, nested too deeply, duplicate columns.
    """
    if len(data) > limits.IMPORT_BYTES:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "the file is larger than %(max)s MB; split it into smaller files",
                        max=limits.IMPORT_BYTES // (1024 * 1024),
                    ),
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext("the file is not UTF-8 text (byte %(num)s)", num=exc.start + 1),
                )
            ]
        ) from None
    if "\x00" in text:
        # PostgreSQL cannot store it in text (SQLite can): refuse it here, with its line.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRejected(
            [
                RowError(
                    line,
                    None,
                    gettext("a NUL character (byte 0): is this really a text file?"),
                )
            ]
        )
    if fmt is None:
        lowered = filename.lower()
        if lowered.endswith(".json"):
            fmt = "json"
        elif lowered.endswith(".csv"):
            fmt = "csv"
        else:
            fmt = "json" if text.lstrip().startswith("[") else "csv"
    if fmt == "json":
        return _read_json(text)
    if fmt == "csv":
        return _read_csv(text)
    raise ImportRejected(
        [RowError(None, None, gettext("unknown format %(fmt)s: use csv or json", fmt=repr(fmt)))]
    )


def _delimiter(text: str) -> str:
    """``,`` unless the header line has more ``;`` or tabs: Excel in a German, French or Italian
    locale saves "CSV" separated by semicolons, and coordinators should not have to care."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_csv(text: str) -> Table:
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise ImportRejected(
            [RowError(None, None, gettext("not valid CSV: %(error)s", error=str(exc)))]
        ) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportRejected([RowError(None, None, "the file is empty: no header row")])
    header = tuple(cell.strip() for cell in records[0])
    errors = _header_errors(header, row=1)
    rows: list[Row] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, typically at the end of a hand-edited file
        if len(cells) > len(header):
            errors.append(
                RowError(
                    number,
                    None,
                    gettext(
                        "%(cells)s cells but the header has %(header)s",
                        cells=len(cells),
                        header=len(header),
                    ),
                )
            )
            continue
        values = {
            column: cells[i].strip() if i < len(cells) else ""
            for i, column in enumerate(header)
            if column
        }
        rows.append(Row(number, values))
    if errors:
        raise ImportRejected(errors)
    return _limited(Table(tuple(c for c in header if c), tuple(rows)))


def _json_int(text: str) -> int | Decimal:
    """An integer of a JSON file; one too long for ``int()`` (4,300 digits) as a Decimal, which
    the checks of its column then refuse as too large or too long."""
    digits = sys.get_int_max_str_digits()
    return int(text) if not digits or len(text.lstrip("-")) <= digits else Decimal(text)


# Strings are skipped, so that brackets inside them do not count.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}\n]')


def _too_deep(text: str) -> RowError:
    """The error for a file whose lists and objects nest deeper than ``limits.NESTING``, with the
    line where they first do (found by a scan that runs only for such a file)."""
    depth, line = 0, 1
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limits.NESTING:
                break
        elif token in ("]", "}"):
            depth -= 1
        else:
            line += token.count("\n")
    return RowError(
        None,
        None,
        gettext(
            "line %(num)s: lists and objects nest more than %(max)s levels deep",
            num=line,
            max=limits.NESTING,
        ),
    )


def _read_json(text: str) -> Table:
    try:
        items = json.loads(text, parse_float=Decimal, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "not valid JSON: %(error)s (line %(line)s)", error=exc.msg, line=exc.lineno
                    ),
                )
            ]
        ) from None
    except RecursionError:
        raise ImportRejected([_too_deep(text)]) from None
    if limits.nesting_depth(items) > limits.NESTING:
        raise ImportRejected([_too_deep(text)])
    if not isinstance(items, list):
        raise ImportRejected([RowError(None, None, "the JSON file must be a list of objects")])
    errors: list[RowError] = []
    columns: dict[str, None] = {}
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, None, "must be an object"))
            continue
        values = {str(k).strip(): v.strip() if isinstance(v, str) else v for k, v in item.items()}
        columns.update(dict.fromkeys(values))
        rows.append(Row(number, values))
    if errors:
        raise ImportRejected(errors)
    return _limited(Table(tuple(columns), tuple(rows)))


def _header_errors(header: Sequence[str], *, row: int) -> list[RowError]:
    errors = []
    seen: set[str] = set()
    for column in header:
        if column in seen and column:
            errors.append(RowError(row, column, "the column appears twice"))
        seen.add(column)
    return errors


def _limited(table: Table) -> Table:
    if len(table.rows) > limits.IMPORT_ROWS:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    gettext(
                        "%(rows)s rows; at most %(max)s per file",
                        rows=len(table.rows),
                        max=limits.IMPORT_ROWS,
                    ),
                )
            ]
        )
    return table


# --- checking values ----------------------------------------------------------------------------


class _Check:
    """Collects the problems of a table while values are read out of its rows."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, row: Row | None, column: str | None, message: str) -> None:
        self.errors.append(RowError(row.number if row else None, column, message))

    def require_columns(self, table: Table, required: Iterable[str]) -> None:
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

    def refuse_unknown_columns(self, table: Table, allowed: Iterable[str]) -> None:
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


def _country_message(country: object) -> str:
    return str(
        gettext(
            "a two-letter country code such as DE, got %(value)s",
            value=limits.excerpt(repr(country)),
        )
    )


def _check_phase(call: Call, allowed: tuple[Phase, ...], what: str) -> None:
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


def _normalise_email(check: _Check, row: Row, column: str) -> str:
    raw = check.text(row, column, required=True, max_length=limits.USER_EMAIL)
    if not raw:
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        check.add(
            row,
            column,
            gettext(
                "'%(value)s' is not a valid e-mail address: %(error)s",
                value=limits.excerpt(raw),
                error=str(exc),
            ),
        )
        return ""


# --- proposals ----------------------------------------------------------------------------------


def import_proposals(call: Call, table: Table) -> list[Proposal]:
    """Add the table's proposals to ``call`` (in the ``setup`` phase).

    Columns ``reference`` and ``title`` are required; ``acronym``, ``applicant``, ``country``,
    ``requested_funding_eur`` and ``summary`` are optional; any other column is kept in the
    proposal's extra fields.

    :raises ImportRejected: a bad row, a reference twice in the file or already in the call.
    """
    _check_phase(call, (Phase.SETUP,), "proposals")
    check = _Check()
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
            check.add(row, "country", _country_message(country))
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
    )
    return proposals


# --- users --------------------------------------------------------------------------------------


def import_users(table: Table) -> list[User]:
    """Create the table's users (columns ``email``, ``name``, ``role``; optional
    ``organisation``, ``country``, ``language``), without passwords: each needs an invitation.

    :raises ImportRejected: a bad row, an e-mail twice in the file or already registered.
    """
    check = _Check()
    check.require_columns(table, ("email", "name", "role"))
    check.raise_if_any()
    rows = [(row, _normalise_email(check, row, "email")) for row in table.rows]
    emails = {email for _, email in rows if email}
    registered = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    seen: dict[str, int | None] = {}
    users: list[User] = []
    for row, email in rows:
        if email:
            check.unique(row, "email", email, seen)
            if email in registered:
                check.add(
                    row,
                    "email",
                    gettext("%(email)s already has an account", email=email),
                )
        name = check.text(row, "name", required=True, max_length=limits.USER_NAME)
        role_name = check.text(row, "role", required=True).lower()
        role = Role(role_name) if role_name in {r.value for r in IMPORTABLE_ROLES} else None
        if role is None and role_name:
            check.add(
                row,
                "role",
                gettext(
                    "must be expert, coordinator or observer, got %(value)s",
                    value=limits.excerpt(repr(role_name)),
                ),
            )
        country = check.text(row, "country").upper() or None
        if country is not None and not (len(country) == 2 and country.isalpha()):
            check.add(row, "country", _country_message(country))
        language = check.text(row, "language", max_length=5).lower() or None
        if role is not None:
            users.append(
                User(
                    email=email,
                    name=name,
                    role=role,
                    organisation=check.text(
                        row, "organisation", max_length=limits.USER_ORGANISATION
                    ),
                    country=country,
                    language=language,
                )
            )
    if not table.rows:
        check.add(None, None, gettext("the file has no users"))
    check.raise_if_any()
    db.session.add_all(users)
    db.session.flush()
    for user in users:
        record(UserCreated(email=user.email, role=user.role.value), user)
    return users


# --- assignments --------------------------------------------------------------------------------


def import_assignments(call: Call, table: Table) -> list[Assignment]:
    """Assign experts to proposals of ``call`` (columns ``proposal``: reference, ``expert``:
    e-mail; optional ``rapporteur``: yes/no), in the ``setup`` or ``evaluation`` phase.

    The scheme's automatic conflict rules apply: an expert from the applicant's country
    (``same_country``) or organisation (``same_organisation``) is refused.

    :raises ImportRejected: unknown proposal or expert, a pair already assigned or twice in the file.
    """
    _check_phase(call, (Phase.SETUP, Phase.EVALUATION), "assignments")
    check = _Check()
    check.require_columns(table, ("proposal", "expert"))
    check.raise_if_any()
    proposals = _proposals_by_reference(call)
    rows = [(row, _normalise_email(check, row, "expert")) for row in table.rows]
    experts = _users_by_email({email for _, email in rows if email})
    assigned = set(
        db.session.execute(
            select(Assignment.proposal_id, Assignment.expert_id)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id)
        )
        .tuples()
        .all()
    )
    conflicts = call.scheme.conflicts
    seen: dict[str, int | None] = {}
    assignments: list[Assignment] = []
    for row, email in rows:
        proposal = _known_proposal(check, row, proposals)
        expert = _known_expert(check, row, experts, email)
        rapporteur = check.flag(row, "rapporteur")
        if proposal is None or expert is None:
            continue
        check.unique(row, "expert", f"{proposal.reference} / {email}", seen)
        if (proposal.id, expert.id) in assigned:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s is already assigned to %(ref)s", email=email, ref=proposal.reference
                ),
            )
        blocked = pair_block_reason(
            ProposalSlot(proposal.id, proposal.country, proposal.applicant),
            ExpertSlot(expert.id, expert.country, expert.organisation),
            same_country=conflicts.same_country,
            same_organisation=conflicts.same_organisation,
        )
        if blocked is BlockReason.SAME_COUNTRY:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s is from the applicant's country (%(country)s): the call's "
                    "conflict rules exclude it",
                    email=email,
                    country=proposal.country,
                ),
            )
        elif blocked is BlockReason.SAME_ORGANISATION:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s works for the applicant (%(applicant)s): the call's conflict "
                    "rules exclude it",
                    email=email,
                    applicant=proposal.applicant,
                ),
            )
        assignments.append(
            Assignment(proposal_id=proposal.id, expert_id=expert.id, is_rapporteur=rapporteur)
        )
    if not table.rows:
        check.add(None, None, gettext("the file has no assignments"))
    check.raise_if_any()
    db.session.add_all(assignments)
    db.session.flush()
    for assignment in assignments:
        record(  # the same event as an assignment made in the matrix
            AssignmentAdded(proposal=assignment.proposal.reference, expert_id=assignment.expert_id),
            assignment,
            call_id=call.id,
        )
    return assignments


def _proposals_by_reference(call: Call) -> dict[str, Proposal]:
    return {
        p.reference: p
        for p in db.session.scalars(select(Proposal).where(Proposal.call_id == call.id))
    }


def _users_by_email(emails: set[str]) -> dict[str, User]:
    if not emails:
        return {}
    return {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}


def _known_proposal(check: _Check, row: Row, proposals: Mapping[str, Proposal]) -> Proposal | None:
    reference = check.text(row, "proposal", required=True, max_length=limits.PROPOSAL_REFERENCE)
    if reference and reference not in proposals:
        check.add(
            row,
            "proposal",
            gettext("'%(ref)s' is not a proposal of this call", ref=reference),
        )
    return proposals.get(reference)


def _known_expert(
    check: _Check, row: Row, experts: Mapping[str, User], email: str, column: str = "expert"
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


# --- offline reviews ----------------------------------------------------------------------------


def score_columns(scheme: Scheme) -> tuple[str, ...]:
    """``<key>``, ``<key>_comment`` for each criterion, in scheme order."""
    return tuple(col for key in scheme.criterion_keys for col in (key, f"{key}_comment"))


def import_reviews(call: Call, table: Table, *, replace: bool = False) -> list[Review]:
    """Record offline reviews (call in ``evaluation``): per row a no-conflict declaration and a
    submitted review with a score and a comment for every criterion.

    Columns: ``proposal`` (reference), ``expert`` (e-mail), then ``<key>`` and ``<key>_comment``
    for each criterion. The pair must be assigned; a pair with a submitted review is refused
    unless ``replace``; a draft is overwritten.

    :raises ImportRejected: a bad row (every one is listed); nothing is written.
    """
    _check_phase(call, (Phase.EVALUATION,), "reviews")
    scheme = call.scheme
    check = _Check()
    columns = ("proposal", "expert", *score_columns(scheme))
    check.require_columns(table, columns)
    check.refuse_unknown_columns(table, columns)
    check.raise_if_any()
    criteria = {c.key: c for c in call.criteria}
    assignments = {
        (a.proposal.reference, a.expert.email): a
        for a in db.session.scalars(
            select(Assignment)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id)
            .options(
                joinedload(Assignment.proposal),
                joinedload(Assignment.expert),
                joinedload(Assignment.declaration),
                joinedload(Assignment.review).selectinload(Review.scores),
            )
        ).unique()
    }
    proposals = {reference for reference, _ in assignments} | set(
        db.session.scalars(select(Proposal.reference).where(Proposal.call_id == call.id))
    )
    rows = [(row, _normalise_email(check, row, "expert")) for row in table.rows]
    experts = _users_by_email({email for _, email in rows if email})
    seen: dict[str, int | None] = {}
    planned: list[tuple[Assignment, dict[str, tuple[Decimal, str]]]] = []
    for row, email in rows:
        reference = check.text(row, "proposal", required=True, max_length=limits.PROPOSAL_REFERENCE)
        if reference and reference not in proposals:
            check.add(
                row,
                "proposal",
                gettext("'%(ref)s' is not a proposal of this call", ref=reference),
            )
            reference = ""
        expert = _known_expert(check, row, experts, email)
        values = _scores_of(check, row, scheme)
        if not reference or expert is None:
            continue
        check.unique(row, "expert", f"{reference} / {email}", seen)
        assignment = assignments.get((reference, email))
        if assignment is None:
            check.add(
                row,
                "expert",
                gettext("%(email)s is not assigned to %(ref)s", email=email, ref=reference),
            )
            continue
        if assignment.has_conflict:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s declared a conflict of interest on %(ref)s",
                    email=email,
                    ref=reference,
                ),
            )
            continue
        review = assignment.review
        if review is not None and review.is_submitted and not replace:
            check.add(
                row,
                "expert",
                gettext(
                    "%(email)s already submitted a review of %(ref)s (use --replace to overwrite)",
                    email=email,
                    ref=reference,
                ),
            )
        if values is not None:
            planned.append((assignment, values))
    if not table.rows:
        check.add(None, None, gettext("the file has no reviews"))
    check.raise_if_any()

    now = utcnow()
    reviews: list[tuple[Review, Assignment, bool, dict[str, tuple[Decimal, str]]]] = []
    for assignment, values in planned:
        if assignment.declaration is None:
            assignment.declaration = ConflictDeclaration(
                has_conflict=False, confidentiality_accepted=True, declared_at=now
            )
        else:
            assignment.declaration.confidentiality_accepted = True
        review = assignment.review
        replaced = review is not None and review.is_submitted
        if review is None:
            review = Review(assignment=assignment)
            db.session.add(review)
        by_criterion = {s.criterion_id: s for s in review.scores}
        for key, (value, comment) in values.items():
            criterion = criteria[key]
            score = by_criterion.get(criterion.id)
            if score is None:
                score = Score(criterion=criterion)
                review.scores.append(score)
            score.value = value
            score.comment = comment
        review.status = ReviewStatus.SUBMITTED
        review.updated_at = now
        review.submitted_at = now
        reviews.append((review, assignment, replaced, values))
    db.session.flush()
    for review, assignment, replaced, values in reviews:
        # The command line acts as "system": no author (the audit event says the same).
        kept = keep_version(review, SavedThrough.IMPORT, saved_by_id=None)
        record(
            ReviewImported(
                proposal=assignment.proposal.reference,
                expert_id=assignment.expert_id,
                replaced=replaced,
                scores={k: str(v) for k, (v, _) in values.items()},
                version=kept.number,
            ),
            review,
            call_id=call.id,
        )
    return [review for review, *_ in reviews]


def _scores_of(check: _Check, row: Row, scheme: Scheme) -> dict[str, tuple[Decimal, str]] | None:
    """Each criterion's (score, comment) of the row; None when any is missing or bad."""
    before = len(check.errors)
    values: dict[str, tuple[Decimal, str]] = {}
    for key in scheme.criterion_keys:
        value = check.score(row, key, scheme)
        comment = check.comment(row, f"{key}_comment", scheme.rules.comment_min_chars)
        if value is not None:
            values[key] = (value, comment)
    return values if len(check.errors) == before else None


# --- consensus ----------------------------------------------------------------------------------


def import_consensus(call: Call, table: Table, *, replace: bool = False) -> list[ConsensusReport]:
    """Record final consensus scores (call in ``consensus``): per row a score and a comment for
    every criterion (columns ``proposal``, then ``<key>`` and ``<key>_comment``), and optionally
    a ``justification``. The rules of finalising on the consensus page apply: the comments go
    to the applicant and name no expert, and a consensus that crosses a threshold against the
    reviews' aggregate needs the justification.

    A draft consensus is overwritten and made final; a final one is refused unless ``replace``.

    :raises ImportRejected: a bad row (every one is listed); nothing is written.
    """
    _check_phase(call, (Phase.CONSENSUS,), "consensus scores")
    scheme = call.scheme
    check = _Check()
    columns = ("proposal", *score_columns(scheme))
    check.require_columns(table, columns)
    check.refuse_unknown_columns(table, (*columns, CONSENSUS_JUSTIFICATION))
    check.raise_if_any()
    reviews: dict[str, list[ReviewIn]] = {}
    for review in evaluation_input(call).reviews:
        reviews.setdefault(review.proposal, []).append(review)
    criteria = {c.key: c for c in call.criteria}
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(
                selectinload(Proposal.consensus).selectinload(ConsensusReport.scores),
                selectinload(Proposal.assignments).joinedload(Assignment.expert),
                selectinload(Proposal.assignments).joinedload(Assignment.declaration),
            )
        )
    }
    rapporteurs = dict(
        db.session.execute(
            select(Assignment.proposal_id, Assignment.expert_id)
            .join(Assignment.proposal)
            .where(Proposal.call_id == call.id, Assignment.is_rapporteur.is_(True))
        )
        .tuples()
        .all()
    )
    seen: dict[str, int | None] = {}
    planned: list[tuple[Proposal, dict[str, tuple[Decimal, str]], str, ConsensusEffect]] = []
    for row in table.rows:
        proposal = _known_proposal(check, row, proposals)
        values = _scores_of(check, row, scheme)
        justification = check.text(row, CONSENSUS_JUSTIFICATION, max_length=limits.APPROVAL_COMMENT)
        if proposal is None:
            continue
        check.unique(row, "proposal", proposal.reference, seen)
        report = proposal.consensus
        if report is not None and report.is_final and not replace:
            check.add(
                row,
                "proposal",
                gettext(
                    "%(ref)s already has a final consensus (use --replace to overwrite)",
                    ref=proposal.reference,
                ),
            )
        if values is None:
            continue
        mentions = expert_mentions(proposal)
        for key, (_value, comment) in values.items():
            if any(pattern.search(comment) for pattern in mentions):
                check.add(
                    row,
                    f"{key}{COMMENT_SUFFIX}",
                    gettext("names an expert: the consensus comments go to the applicant"),
                )
        effect = consensus_effect(
            scheme, reviews.get(proposal.reference, []), {k: v for k, (v, _c) in values.items()}
        )
        if effect.needs_justification and not justification:
            check.add(
                row,
                CONSENSUS_JUSTIFICATION,
                gettext(
                    "the consensus crosses a threshold that the reviews' aggregate does not "
                    "(or the other way round): say why"
                ),
            )
        planned.append((proposal, values, justification, effect))
    if not table.rows:
        check.add(None, None, gettext("the file has no consensus scores"))
    check.raise_if_any()

    now = utcnow()
    reports: list[
        tuple[ConsensusReport, Proposal, bool, dict[str, tuple[Decimal, str]], ConsensusEffect]
    ] = []
    for proposal, values, justification, effect in planned:
        report = proposal.consensus
        replaced = report is not None and report.is_final
        if report is None:
            report = ConsensusReport(proposal=proposal, rapporteur_id=rapporteurs.get(proposal.id))
            db.session.add(report)
        by_criterion = {s.criterion_id: s for s in report.scores}
        for key, (value, comment) in values.items():
            criterion = criteria[key]
            score = by_criterion.get(criterion.id)
            if score is None:
                score = ConsensusScore(criterion=criterion)
                report.scores.append(score)
            score.value = value
            score.comment = comment
        report.justification = justification
        report.status = ConsensusStatus.FINAL
        report.updated_at = now
        report.finalised_at = now
        report.finalised_by_id = None  # the command line acts as "system"
        reports.append((report, proposal, replaced, values, effect))
    db.session.flush()
    for report, proposal, replaced, values, effect in reports:
        kept = keep_version(report, SavedThrough.IMPORT, saved_by_id=None)
        record(
            ConsensusImported(
                proposal=proposal.reference,
                replaced=replaced,
                scores={k: str(v) for k, (v, _) in values.items()},
                version=kept.number,
                crossed=list(effect.crossings),
                justification=report.justification,
            ),
            report,
            call_id=call.id,
        )
    return [report for report, *_ in reports]


# --- decisions ----------------------------------------------------------------------------------

DECISION_COLUMNS = ("reference", "outcome", "amount_eur", "rationale")


def import_decisions(call: Call, table: Table, actor: User) -> list[Decision]:
    """Record decisions (call in ``ranking``) with the rules of the decisions page, which this
    import reaches through the same service (:func:`~.coordinator.decisions.record_decisions`).

    Columns ``reference`` and ``outcome`` (funded, reserve, rejected or ineligible) are required;
    ``amount_eur`` (the granted amount of a funded proposal; empty: the requested funding) and
    ``rationale`` (required where the outcome departs from the ranking) are optional. Proposals
    missing from the file keep their decision. ``actor`` is recorded as the decision maker.

    :raises ImportRejected: a bad row (every one is listed), the wrong phase, or funded decisions
        above the call's budget; nothing is written.
    """
    try:
        check_decisions_open(call)
    except DecisionError as exc:
        raise ImportRejected([RowError(None, None, str(exc))]) from None
    check = _Check()
    check.require_columns(table, ("reference", "outcome"))
    check.refuse_unknown_columns(table, DECISION_COLUMNS)
    check.raise_if_any()
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id)
            .options(selectinload(Proposal.decision))
        )
    }
    outcomes = {o.value: o for o in DecisionOutcome}
    seen: dict[str, int | None] = {}
    planned: list[tuple[Row, DecisionEntry]] = []
    for row in table.rows:
        reference = check.text(
            row, "reference", required=True, max_length=limits.PROPOSAL_REFERENCE
        )
        proposal = proposals.get(reference)
        if reference and proposal is None:
            check.add(
                row,
                "reference",
                gettext("'%(ref)s' is not a proposal of this call", ref=reference),
            )
        elif proposal is not None:
            check.unique(row, "reference", reference, seen)
        word = check.text(row, "outcome", required=True).lower()
        outcome = outcomes.get(word)
        if word and outcome is None:
            check.add(
                row,
                "outcome",
                gettext(
                    "must be one of %(choices)s, got %(value)s",
                    choices=", ".join(outcomes),
                    value=limits.excerpt(repr(word)),
                ),
            )
        amount = check.number(row, "amount_eur")
        rationale = check.text(row, "rationale", max_length=limits.DECISION_RATIONALE)
        if proposal is not None and outcome is not None:
            planned.append((row, DecisionEntry(proposal, outcome, rationale, amount)))
    if not table.rows:
        check.add(None, None, gettext("the file has no decisions"))
    # The rules of the decisions page, row by row, reported with the rows' own problems.
    ranking = rank_call(call)
    entries = [entry for _row, entry in planned]
    rows = {entry.proposal.id: row for row, entry in planned}
    for proposal_id, problems in decision_problems(call, entries, ranking).items():
        for column, message in problems.items():
            check.add(rows[proposal_id], column, message)
    check.raise_if_any()
    try:
        return record_decisions(call, entries, actor, ranking)
    except DecisionError as exc:  # the phase, or the funded total above the budget
        raise ImportRejected([RowError(None, None, str(exc))]) from None
