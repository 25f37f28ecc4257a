"""Typed text survives a session that expired while the expert was writing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import ConflictDeclaration, Review, StashedForm

from ..conftest import PASSWORD
from .conftest import Setup, csrf_token, is_checked, scores

LONG_TEXT = "Written over an hour, while the session quietly expired. It must come back whole."


@pytest.mark.parametrize("with_csrf", [True, False], ids=["csrf-on", "csrf-off"])
def test_input_posted_after_expiry_is_restored_after_signing_in(
    declared: Setup, app, request: pytest.FixtureRequest, with_csrf: bool
) -> None:
    if with_csrf:
        request.getfixturevalue("csrf_enabled")
    # The expert's page was loaded in a session that has since expired: a browser without it.
    expired = app.test_client()
    form = scores(comment_compute=LONG_TEXT, score_funding=None)
    response = expired.post(declared.url, data={**form, "save": "1", "csrf_token": "stale"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "kept=1" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(select(Review)) is None  # nothing half-saved
    assert db.session.scalar(select(StashedForm)) is not None

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
    db.session.expire_all()
    assert db.session.scalar(select(StashedForm)) is None  # handed out once

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


def test_a_stash_is_only_restored_on_its_own_page(
    declared: Setup, app, make_proposal, make_assignment
) -> None:
    other = make_assignment(make_proposal(declared.call), declared.expert)
    expired = app.test_client()
    expired.post(declared.url, data={**scores(comment_compute=LONG_TEXT), "save": "1"})
    expired.post("/login", data={"email": declared.expert.email, "password": PASSWORD})
    page = expired.get(f"/expert/assignments/{other.id}/declaration").get_data(as_text=True)
    assert LONG_TEXT not in page
    assert LONG_TEXT in expired.get(declared.url).get_data(as_text=True)


def test_a_conflict_reason_posted_after_expiry_comes_back_after_signing_in(
    setup: Setup, app
) -> None:
    reason = "My institute is a partner of the applicant; I co-wrote a letter of support for it."
    expired = app.test_client()
    url = f"{setup.url}/declaration"
    response = expired.post(url, data={"has_conflict": "yes", "reason": reason})
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
