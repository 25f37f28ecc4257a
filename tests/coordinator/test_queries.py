"""Every coordinator page runs the same number of queries for a small and a large call."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from reviewer_app.extensions import db
from reviewer_app.models import Phase

PAGES = [
    "/calls/",
    "/calls/{key}/",
    "/calls/{key}/proposals",
    "/calls/{key}/assignments",
    "/calls/{key}/progress",
]


def _count_queries(app, client, url: str) -> int:
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        # Only queries of our tables: a new pooled connection runs a few set-up statements.
        if re.search(r"\bFROM\b", statement, re.IGNORECASE):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    assert client.get(url).status_code == 200  # warm up: first-use loads are not the point
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


@pytest.mark.parametrize("url", PAGES)
def test_queries_do_not_grow_with_the_call(
    app,
    client,
    make_user,
    login_as,
    make_call,
    make_proposal,
    make_assignment,
    make_review,
    declare_conflict,
    advance,
    url,
) -> None:
    login_as(make_user("coordinator"))
    experts = [make_user("expert") for _ in range(5)]
    counts = []
    for size in (1, 6):
        call = make_call()
        panels = []
        for _ in range(size):
            proposal = make_proposal(call)
            panels.append([make_assignment(proposal, expert) for expert in experts])
        advance(call, to=Phase.EVALUATION)
        for panel in panels:  # three reviews, a conflict, one expert not started
            for assignment in panel[:3]:
                make_review(assignment)
            declare_conflict(panel[3])
        counts.append(_count_queries(app, client, url.format(key=call.key)))
    assert counts[0] == counts[1], counts
    assert counts[0] > 0
