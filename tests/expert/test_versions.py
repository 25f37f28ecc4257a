"""Every version kept: each save of the expert's page (autosave, save, save again after a stale
page, submit) and a coordinator's reopening keep what they wrote, and their audit events name
the version."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    Review,
    ReviewStatus,
    ReviewVersion,
    SavedThrough,
)

from ..conftest import PASSWORD
from .conftest import GOOD_COMMENT, PostReview, Setup, scores

FIRST = "First thoughts: the hosting site is strong, the timeline is still vague in places."
SECOND = "Second thoughts: the hosting site is strong, the timeline is clear after all."


def _review(setup: Setup) -> Review:
    db.session.expire_all()
    review = db.session.scalar(select(Review).where(Review.assignment_id == setup.assignment.id))
    assert review is not None
    return review


def _versions(setup: Setup) -> list[ReviewVersion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ReviewVersion)
            .join(ReviewVersion.review)
            .where(Review.assignment_id == setup.assignment.id)
            .order_by(ReviewVersion.number)
        )
    )


def _comments(version: ReviewVersion) -> dict[str, str]:
    return {s.criterion.key: s.comment for s in version.scores}


def _values(version: ReviewVersion) -> dict[str, Decimal | None]:
    return {s.criterion.key: s.value for s in version.scores}


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_each_autosave_keeps_the_comment_it_overwrites(declared: Setup, client) -> None:
    autosave = f"{declared.url}/autosave"
    first = client.post(autosave, data=scores(comment_compute=FIRST)).get_json()
    second = client.post(
        autosave, data=scores(version=str(first["version"]), comment_compute=SECOND)
    ).get_json()
    assert first["ok"] and second["ok"]

    versions = _versions(declared)
    assert [(v.number, v.path, v.status) for v in versions] == [
        (first["version"], SavedThrough.AUTOSAVE, ReviewStatus.DRAFT),
        (second["version"], SavedThrough.AUTOSAVE, ReviewStatus.DRAFT),
    ]
    assert _comments(versions[0])["compute"] == FIRST  # overwritten in the review, kept here
    assert _comments(versions[1])["compute"] == SECOND
    assert _values(versions[0])["compute"] == Decimal("4.5")
    assert all(v.saved_by_id == declared.expert.id for v in versions)
    # The live review holds the newest text only; its version is the newest kept one.
    review = _review(declared)
    assert review.version == versions[-1].number
    assert {s.comment for s in review.scores if s.criterion.key == "compute"} == {SECOND}

    events = _events("review.save_draft")
    assert [(e.data["version"], e.data["autosave"]) for e in events] == [
        (first["version"], True),
        (second["version"], True),
    ]
    assert {e.object_id for e in events} == {review.id}
    assert [e.typed().version for e in events] == [v.number for v in versions]


def test_a_stale_save_then_saving_again_keeps_both_texts(
    declared: Setup, post_review: PostReview
) -> None:
    assert post_review("save").status_code == 302  # tab A saves version 1
    mine = "My own careful text from tab B, typed before tab A saved its version of it."
    stale = post_review("save", version="0", comment_compute=mine)  # tab B, opened before
    assert stale.status_code == 409
    assert [v.number for v in _versions(declared)] == [1]  # a refused save keeps nothing

    current = _review(declared).version
    assert post_review("save", version=str(current), comment_compute=mine).status_code == 302

    first, second = _versions(declared)
    assert _comments(first)["compute"] == GOOD_COMMENT  # tab A's text, replaced on purpose
    assert _comments(second)["compute"] == mine
    assert (first.path, second.path) == (SavedThrough.PAGE, SavedThrough.PAGE)
    assert second.number == _review(declared).version
    assert [e.data["version"] for e in _events("review.save_draft")] == [1, second.number]


def test_submitting_keeps_the_submitted_version_once(
    declared: Setup, post_review: PostReview
) -> None:
    post_review("save", comment_compute=FIRST)
    post_review("submit", version=str(_review(declared).version))

    versions = _versions(declared)
    # One version per save: the submit writes scores and status in one go.
    assert [(v.number, v.status) for v in versions] == [
        (1, ReviewStatus.DRAFT),
        (2, ReviewStatus.SUBMITTED),
    ]
    assert _comments(versions[0])["compute"] == FIRST
    assert _comments(versions[1])["compute"] == GOOD_COMMENT
    assert _review(declared).version == 2
    [submitted] = _events("review.submit")
    assert submitted.data["version"] == 2
    assert submitted.object_type == "review" and submitted.object_id == versions[1].review_id


def test_a_reopened_review_is_kept_as_a_version_by_the_coordinator(
    app: Flask, declared: Setup, post_review: PostReview, make_user
) -> None:
    post_review("submit")
    review = _review(declared)
    coordinator = make_user("coordinator")
    staff = app.test_client()
    staff.post("/login", data={"email": coordinator.email, "password": PASSWORD})
    response = staff.post(
        f"/calls/{declared.call.key}/reviews/{review.id}/reopen",
        data={"reason": "The funding comment names the wrong proposal."},
    )
    assert response.status_code == 302

    versions = _versions(declared)
    assert [(v.path, v.status) for v in versions] == [
        (SavedThrough.PAGE, ReviewStatus.SUBMITTED),
        (SavedThrough.REOPEN, ReviewStatus.DRAFT),
    ]
    assert versions[1].saved_by_id == coordinator.id
    assert _comments(versions[1]) == _comments(versions[0])  # the text is the same, reopened
    [reopened] = _events("review.reopen")
    assert reopened.data["version"] == versions[1].number == _review(declared).version
