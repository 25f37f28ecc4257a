"""An expert with one proposal of a call in evaluation, ready to declare and score."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, AuditEvent, Call, Phase, Proposal, User

from ..factories import plant_phase

GOOD_COMMENT = "A credible plan with a clear timeline and a strong hosting site behind it."


@dataclass
class Setup:
    expert: User
    call: Call
    proposal: Proposal
    assignment: Assignment

    @property
    def url(self) -> str:
        return f"/expert/assignments/{self.assignment.id}"


@pytest.fixture
def setup(make_user, make_call, make_proposal, make_assignment) -> Setup:
    expert = make_user("expert", name="Erika Expert")
    call = make_call(title="AI Factories", deadline=date(2030, 1, 31))
    proposal = make_proposal(
        call,
        reference="AIF-ES",
        acronym="BSC AIF",
        title="BSC AI Factory",
        extra={"system": "MareNostrum 5 upgrade", "partner_countries": ["PT", "RO"]},
    )
    assignment = make_assignment(proposal, expert, due_date=date(2030, 1, 15))
    # One expert where the scheme asks for three: the page needs only the phase.
    plant_phase(call, Phase.EVALUATION)
    return Setup(expert, call, proposal, assignment)


@pytest.fixture
def declared(setup: Setup, login_as) -> Setup:
    """Signed in as the expert, no conflict declared."""
    client = login_as(setup.expert)
    response = client.post(
        f"{setup.url}/declaration", data={"has_conflict": "no", "confidentiality": "y"}
    )
    assert response.status_code == 302
    return setup


def scores(**overrides: Any) -> dict[str, str]:
    """A complete, valid form post for the demo scheme; overrides by field name."""
    data = {
        "version": "0",
        "score_compute": "4.5",
        "comment_compute": GOOD_COMMENT,
        "score_expertise": "3",
        "comment_expertise": GOOD_COMMENT,
        "score_funding": "2.5",
        "comment_funding": GOOD_COMMENT,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


PostReview = Callable[..., Any]


@pytest.fixture
def post_review(client: FlaskClient, declared: Setup) -> PostReview:
    def post(action: str = "save", **fields: Any) -> Any:
        data = scores(**fields)
        data[action] = "1"
        return client.post(declared.url, data=data)

    return post


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no csrf_token on the page"
    return match.group(1)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (on any connection of the engine)."""
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the radio ``name`` with ``value`` is checked in the page."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    return False
