"""Typed text survives a session that expired while the expert was writing, and only then.

Every stash here goes through the real writer: the expert's own page renders the ticket, a
browser without a session posts it.
"""

from __future__ import annotations

import re
import time

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import ConflictDeclaration, Review, StashedForm

from ..conftest import PASSWORD
from ..factories import in_setup
from .conftest import Setup, csrf_token, is_checked, scores

LONG_TEXT = "Written over an hour, while the session quietly expired. It must come back whole."


def ticket_of(page: str) -> str:
    """The stash ticket the page rendered into its form."""
    match = re.search(r'name="_stash" value="([^"]+)"', page)
    assert match, "the form carries no stash ticket"
    return match.group(1)


def stashes() -> list[StashedForm]:
    db.session.expire_all()
    return list(db.session.scalars(select(StashedForm)))


@pytest.mark.parametrize("with_csrf", [True, False], ids=["csrf-on", "csrf-off"])
def test_input_posted_after_expiry_is_restored_after_signing_in(
    declared: Setup, client: FlaskClient, app, request: pytest.FixtureRequest, with_csrf: bool
) -> None:
    if with_csrf:
        request.getfixturevalue("csrf_enabled")
    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    # The page was loaded in a session that has since expired: a browser without it.
    expired = app.test_client()
    form = scores(comment_compute=LONG_TEXT, score_funding=None)
    response = expired.post(
        declared.url, data={**form, "save": "1", "csrf_token": "stale", "_stash": ticket}
    )
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "kept=1" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(select(Review)) is None  # nothing half-saved
    (stash,) = stashes()
    assert stash.user_id == declared.expert.id and "_stash" not in stash.data

    login_page = expired.get(response.headers["Location"]).get_data(as_text=True)
    assert "What you sent is kept" in login_page
    login = {"email": declared.expert.email, "password": PASSWORD, "next": declared.url}
    if with_csrf:
        login["csrf_token"] = csrf_token(login_page)
    signed_in = expired.post("/login", data=login)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith(declared.url)

    page = expired.get(declared.url).get_data(as_text=True)
    assert "We restored your unsaved input." in page
    assert LONG_TEXT in page
    assert is_checked(page, "score_compute", "4.5")
    assert stashes() == []  # handed out once

    # A second visit shows the saved state again, not the stash.
    again = expired.get(declared.url).get_data(as_text=True)
    assert "We restored your unsaved input." not in again and LONG_TEXT not in again

    # Saving the restored input works (it carries the version the page had).
    save = {**form, "save": "1"}
    if with_csrf:
        save["csrf_token"] = csrf_token(page)
    assert expired.post(declared.url, data=save).status_code == 302
    db.session.expire_all()
    review = db.session.scalar(select(Review))
    assert review is not None
    assert LONG_TEXT in {s.comment for s in review.scores}


@pytest.mark.parametrize(
    "ticket",
    ["", "forged", "page-of-another-assignment", "tampered"],
)
def test_input_without_its_users_ticket_stores_nothing(
    declared: Setup, client: FlaskClient, app, make_proposal, make_assignment, ticket: str
) -> None:
    with in_setup(declared.call):
        other = make_assignment(make_proposal(declared.call), declared.expert)
    real = ticket_of(client.get(declared.url).get_data(as_text=True))
    value = {
        "": "",
        "forged": "eyJ1IjoxLCJwIjoiL2V4cGVydC9hc3NpZ25tZW50cy8xIn0.Z0.forged",
        # A genuine ticket, but for the other assignment's form.
        "page-of-another-assignment": ticket_of(
            client.get(f"/expert/assignments/{other.id}/declaration").get_data(as_text=True)
        ),
        "tampered": real[:-2] + ("AA" if not real.endswith("AA") else "BB"),
    }[ticket]
    anonymous = app.test_client()
    response = anonymous.post(
        declared.url, data={**scores(comment_compute="Planted text"), "save": "1", "_stash": value}
    )
    assert response.status_code == 302
    assert "kept=1" not in response.headers["Location"]
    assert stashes() == []
    # And the expert, signing in, finds nothing planted.
    page = client.get(declared.url).get_data(as_text=True)
    assert "Planted text" not in page and "We restored your unsaved input." not in page


def test_an_expired_ticket_stores_nothing(
    declared: Setup, client: FlaskClient, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer_app.auth import stash

    hours = app.config["STASH_VALID_HOURS"]
    real = stash._serializer

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - hours * 3600 - 60

    def issued_long_ago() -> object:
        serializer = real()
        serializer.signer = SignedLongAgo
        return serializer

    # The page was opened longer ago than a ticket lives (its ticket was signed back then).
    monkeypatch.setattr(stash, "_serializer", issued_long_ago)
    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    monkeypatch.setattr(stash, "_serializer", real)
    response = app.test_client().post(
        declared.url, data={**scores(), "save": "1", "_stash": ticket}
    )
    assert "kept=1" not in response.headers["Location"]
    assert stashes() == []


def test_oversized_input_stores_nothing(declared: Setup, client: FlaskClient, app) -> None:
    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    limit = app.config["STASH_MAX_CHARS"]
    huge = "x" * (limit + 1)
    response = app.test_client().post(
        declared.url, data={**scores(comment_compute=huge), "save": "1", "_stash": ticket}
    )
    assert "kept=1" not in response.headers["Location"]
    assert stashes() == []


def test_a_stash_never_reaches_another_user(
    declared: Setup, client: FlaskClient, app, make_user
) -> None:
    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    shared = app.test_client()  # one browser, two people
    shared.post(
        declared.url,
        data={**scores(comment_compute=LONG_TEXT), "save": "1", "_stash": ticket},
    )
    assert len(stashes()) == 1
    colleague = make_user("expert")
    shared.post("/login", data={"email": colleague.email, "password": PASSWORD})
    # The colleague has no such assignment (404); the stash is not theirs, so it is dropped.
    assert LONG_TEXT not in shared.get(declared.url).get_data(as_text=True)
    shared.post("/logout")
    shared.post("/login", data={"email": declared.expert.email, "password": PASSWORD})
    assert LONG_TEXT not in shared.get(declared.url).get_data(as_text=True)


def test_a_stash_is_only_restored_on_its_own_page(
    declared: Setup, client: FlaskClient, app, make_proposal, make_assignment
) -> None:
    with in_setup(declared.call):
        other = make_assignment(make_proposal(declared.call), declared.expert)
    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    expired = app.test_client()
    expired.post(
        declared.url, data={**scores(comment_compute=LONG_TEXT), "save": "1", "_stash": ticket}
    )
    expired.post("/login", data={"email": declared.expert.email, "password": PASSWORD})
    page = expired.get(f"/expert/assignments/{other.id}/declaration").get_data(as_text=True)
    assert LONG_TEXT not in page
    assert LONG_TEXT in expired.get(declared.url).get_data(as_text=True)


def test_expired_stashes_are_cleaned_up(
    declared: Setup, client: FlaskClient, app, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    ticket = ticket_of(client.get(declared.url).get_data(as_text=True))
    app.test_client().post(declared.url, data={**scores(), "save": "1", "_stash": ticket})
    (stash,) = stashes()
    stash.expires_at = stash.expires_at - timedelta(hours=app.config["STASH_VALID_HOURS"] + 1)
    db.session.commit()
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 expired stash" in result.output
    assert stashes() == []


def test_a_conflict_reason_posted_after_expiry_comes_back_after_signing_in(
    setup: Setup, login_as, app
) -> None:
    reason = "My institute is a partner of the applicant; I co-wrote a letter of support for it."
    url = f"{setup.url}/declaration"
    ticket = ticket_of(login_as(setup.expert).get(url).get_data(as_text=True))
    expired = app.test_client()
    response = expired.post(url, data={"has_conflict": "yes", "reason": reason, "_stash": ticket})
    assert response.status_code == 302 and "kept=1" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(select(ConflictDeclaration)) is None  # nothing half-saved

    login = {"email": setup.expert.email, "password": PASSWORD, "next": url}
    assert expired.post("/login", data=login).headers["Location"].endswith(url)
    page = expired.get(url).get_data(as_text=True)
    assert "We restored your unsaved input." in page
    assert reason in page
    assert is_checked(page, "has_conflict", "yes")
    assert reason not in expired.get(url).get_data(as_text=True)  # handed out once


def test_an_anonymous_declaration_post_is_refused(setup: Setup, app) -> None:
    url = f"{setup.url}/declaration"
    response = app.test_client().post(url, data={"has_conflict": "yes", "reason": "Planted"})
    assert "kept=1" not in response.headers["Location"]
    assert stashes() == []
