"""The coordinator's writes and queries: calls and their phases.

Services add and flush; the caller (a view or a CLI command) commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, func, select
from werkzeug.datastructures import FileStorage

from .. import limits
from ..audit.events import CallCreated, CallUpdated
from ..errors import DomainError
from ..extensions import db
from ..models import (
    Assignment,
    Call,
    Criterion,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    User,
)
from ..models.audit import record
from ..models.reviews import without_conflict
from ..scoring.scheme import Problem, Scheme, SchemeError
from ..scoring.scheme_parser import load_scheme_file, parse_scheme, parse_scheme_bytes, sha256_text


class CallKeyTaken(DomainError, ValueError):
    """Another call already uses this key."""


def create_call(
    scheme: Scheme,
    scheme_text: str,
    *,
    actor: User | None,
    key: str,
    title: str,
    budget_eur: Decimal | None = None,
    deadline: date | None = None,
    anonymise_experts: bool = True,
    reviews_open_after_submit: bool = False,
    panel_review: bool = False,
    lottery_percent: tuple[int, int] | None = None,
    consensus_deadline: date | None = None,
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
        reviews_open_after_submit=reviews_open_after_submit,
        panel_review=panel_review,
        consensus_deadline=consensus_deadline,
        lottery_low_percent=lottery_percent[0] if lottery_percent else None,
        lottery_high_percent=lottery_percent[1] if lottery_percent else None,
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
        CallCreated(key=key, scheme=scheme.key, scheme_sha256=call.scheme_sha256),
        call,
        call_id=call.id,
        actor_id=actor.id if actor else None,
    )
    return call


class CallFrozen(DomainError):
    """The call is decided: nothing about it changes any more."""


@dataclass(frozen=True)
class SchemeFile:
    """A scheme file of the criteria folder, as offered in the list when creating a call."""

    name: str
    title: str
    problems: tuple[str, ...] = ()


def scheme_files(directory: str | Path) -> list[SchemeFile]:
    """Every ``*.toml`` of ``directory``, each with its title, or with its problems if invalid."""
    files = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            scheme = load_scheme_file(path)
        except SchemeError as exc:
            files.append(
                SchemeFile(path.name, path.stem, tuple(_relative(p, path) for p in exc.problems))
            )
        else:
            files.append(SchemeFile(path.name, scheme.title))
    return files


def _relative(problem: Problem, path: Path) -> str:
    # The server's folders are nobody's business: name the file only.
    return str(Problem(path.name, problem.key, problem.message))


def read_scheme_source(
    directory: str | Path, name: str | None, upload: FileStorage | None
) -> tuple[Scheme, str]:
    """The scheme and its text, from an uploaded TOML file or else a file of ``directory``.

    :raises SchemeError: the file is missing, too large, not UTF-8 or not a valid scheme; the
        problems read exactly as ``reviewer-app criteria check`` prints them.
    """
    if upload is not None and upload.filename:
        data = upload.read(limits.SCHEME_BYTES + 1)  # one byte more than allowed tells "too large"
        scheme = parse_scheme_bytes(data, Path(upload.filename).name)
        return scheme, data.decode("utf-8-sig")
    if not name:
        raise SchemeError([Problem("", "", "choose a scheme file or upload one")])
    path = Path(directory) / name
    if path.parent != Path(directory) or path.suffix != ".toml" or not path.is_file():
        raise SchemeError([Problem(Path(name).name, "", "file not found")])
    text = path.read_text(encoding="utf-8")
    return parse_scheme(text, path.name), text


def update_call(
    call: Call,
    *,
    actor: User | None,
    title: str,
    budget_eur: Decimal | None,
    deadline: date | None,
    anonymise_experts: bool,
    reviews_open_after_submit: bool,
    consensus_deadline: date | None,
    panel_review: bool = False,
    lottery_percent: tuple[int, int] | None = None,
) -> dict[str, tuple[str, str]]:
    """Change the editable settings of a call; returns what changed (old, new), as audited.

    :raises CallFrozen: the call is decided.
    """
    if call.phase is Phase.DECIDED:
        raise CallFrozen(call.key)
    new = {
        "title": title,
        "budget_eur": budget_eur,
        "deadline": deadline,
        "anonymise_experts": anonymise_experts,
        "reviews_open_after_submit": reviews_open_after_submit,
        "panel_review": panel_review,
        "lottery_low_percent": lottery_percent[0] if lottery_percent else None,
        "lottery_high_percent": lottery_percent[1] if lottery_percent else None,
        "consensus_deadline": consensus_deadline,
    }
    changes = {
        name: (str(getattr(call, name)), str(value))
        for name, value in new.items()
        if getattr(call, name) != value
    }
    if call.lottery_seed is not None and (
        "lottery_low_percent" in changes or "lottery_high_percent" in changes
    ):
        raise CallFrozen(
            _l("The lottery's seed is published: its bounds can no longer change."),
            "lottery_low_percent",
        )
    for name in changes:
        setattr(call, name, new[name])
    if changes:
        record(
            CallUpdated(changes={k: list(v) for k, v in changes.items()}),
            call,
            call_id=call.id,
            actor_id=actor.id if actor else None,
        )
        db.session.flush()
    return changes


@dataclass(frozen=True)
class CallSummary:
    call: Call
    proposals: int
    experts: int
    reviews_submitted: int
    reviews_expected: int


def call_summaries(calls: list[Call] | None = None) -> list[CallSummary]:
    """Every call (or those given) with its counts, in four queries whatever the number of calls."""
    if calls is None:
        calls = list(db.session.scalars(select(Call).order_by(Call.created_at.desc(), Call.id)))
    ids = [c.id for c in calls]
    if not ids:
        return []
    proposals = dict(
        db.session.execute(
            select(Proposal.call_id, func.count(Proposal.id))
            .where(Proposal.call_id.in_(ids))
            .group_by(Proposal.call_id)
        )
        .tuples()
        .all()
    )
    experts = dict(
        db.session.execute(
            select(Proposal.call_id, func.count(distinct(Assignment.expert_id)))
            .join(Assignment.proposal)
            .where(Proposal.call_id.in_(ids))
            .group_by(Proposal.call_id)
        )
        .tuples()
        .all()
    )
    # Counted in SQL: iterating a 50,000-review call's rows in Python took 0.7 s a page.
    counted = without_conflict()
    done = and_(counted, Review.status == ReviewStatus.SUBMITTED)
    expected: dict[int, int] = {}
    submitted: dict[int, int] = {}
    rows = db.session.execute(
        select(
            Proposal.call_id,
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
        )
        .select_from(Assignment)
        .join(Assignment.proposal)
        .outerjoin(Assignment.declaration)
        .outerjoin(Assignment.review)
        .where(Proposal.call_id.in_(ids))
        .group_by(Proposal.call_id)
    ).tuples()
    for call_id, expected_count, submitted_count in rows:
        expected[call_id] = int(expected_count or 0)
        submitted[call_id] = int(submitted_count or 0)
    return [
        CallSummary(
            call=c,
            proposals=proposals.get(c.id, 0),
            experts=experts.get(c.id, 0),
            reviews_submitted=submitted.get(c.id, 0),
            reviews_expected=expected.get(c.id, 0),
        )
        for c in calls
    ]
