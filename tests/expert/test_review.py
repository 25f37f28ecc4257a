"""The scoring form: drafts, submission, validation, stale saves, read-only states."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from reviewer_app.expert.services import (
    IncompleteReview,
    ReviewLocked,
    ScoreInput,
    StaleReview,
    save_draft,
    submit_review,
)
from reviewer_app.extensions import db
from reviewer_app.models import Assignment, AuditEvent, Phase, Review, ReviewStatus

from ..factories import advance_call, attach_pdf
from .conftest import GOOD_COMMENT, Setup, audit_actions, is_checked


def _review(setup: Setup) -> Review | None:
    db.session.expire_all()
    return db.session.scalar(select(Review).where(Review.assignment_id == setup.assignment.id))


def _values(review: Review) -> dict[str, tuple[Decimal | None, str]]:
    return {s.criterion.key: (s.value, s.comment) for s in review.scores}


def test_form_is_built_from_the_criteria_with_real_labels(declared: Setup, client) -> None:
    html = client.get(declared.url).get_data(as_text=True)
    for title in ("Compute", "Expertise and services", "Funding and implementation"):
        assert f'<legend class="h5 mb-1">{title}</legend>' in html
        assert f'<span class="visually-hidden">{title}: </span>Comment</label>' in html
    # Every point of the scale, 0 to 5 in half points, is a radio with a label naming the criterion.
    for value in ("0", "0.5", "2.5", "5"):
        assert f'value="{value}"' in html
    assert html.count('type="radio"') == 3 * 11
    assert html.count('<span class="visually-hidden">Compute: </span>') == 11 + 1
    assert "Does the proposed AI-optimised supercomputer" in html  # the guiding question
    assert "Excellent: addresses all aspects" in html  # descriptors of the scale
    # ... which screen readers announce with each whole score.
    assert 'aria-describedby="scale-label-4" autocomplete="off" id="score_compute-8"' in html
    assert '<span id="scale-label-4">Very good: addresses the criterion very well' in html
    assert 'name="version" type="hidden" value="0"' in html


def test_proposal_page_shows_every_field(declared: Setup, client) -> None:
    html = client.get(declared.url).get_data(as_text=True)
    for text in (
        "AIF-ES",
        "BSC AIF",
        "BSC AI Factory",
        "Applicant",
        "Spain (ES)",
        "1,000,000.00 EUR",
        "A summary.",
        "MareNostrum 5 upgrade",
        "Portugal (PT), Romania (RO)",
        "Due",
    ):
        assert text in html, text


def test_save_draft_keeps_partial_input(declared: Setup, post_review) -> None:
    response = post_review("save", score_expertise=None, comment_funding="short")
    assert response.status_code == 302
    review = _review(declared)
    assert review is not None and review.status is ReviewStatus.DRAFT
    values = _values(review)
    assert values["compute"] == (Decimal("4.50"), GOOD_COMMENT)
    assert values["expertise"] == (None, GOOD_COMMENT)
    assert values["funding"] == (Decimal("2.50"), "short")
    assert audit_actions()[-1] == "review.save_draft"


@pytest.mark.parametrize("value", ["7", "4.25", "-1", "abc", "NaN", "Infinity"])
def test_a_value_off_the_scale_is_refused_even_in_a_draft(
    declared: Setup, post_review, value: str
) -> None:
    response = post_review("save", score_compute=value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a score on the scale." in html
    assert GOOD_COMMENT in html
    assert _review(declared) is None


def test_submit_shows_every_error_at_once_and_keeps_the_input(declared: Setup, post_review) -> None:
    response = post_review(
        "submit", score_compute=None, comment_expertise="Too short.", comment_funding=""
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("Choose a score for this criterion.") == 1
    assert "Write at least 50 characters (now 10)." in html
    assert "Write at least 50 characters (now 0)." in html
    assert "Please correct the marked fields." in html
    # What was typed is still there.
    assert "Too short." in html and GOOD_COMMENT in html
    assert is_checked(html, "score_expertise", "3")
    assert not any(is_checked(html, "score_compute", v) for v in ("0", "4.5", "5"))
    assert _review(declared) is None


def test_submit_then_read_only(declared: Setup, post_review, client) -> None:
    response = post_review("submit")
    assert response.status_code == 302
    review = _review(declared)
    assert review is not None and review.status is ReviewStatus.SUBMITTED
    assert review.submitted_at is not None
    assert _values(review)["expertise"] == (Decimal("3.00"), GOOD_COMMENT)
    assert audit_actions()[-1] == "review.submit"

    html = client.get(declared.url).get_data(as_text=True)
    assert "The review is read-only." in html
    assert 'name="score_' not in html and 'name="comment_' not in html
    assert "Your review is submitted" in html

    # A late post (another tab) changes nothing.
    version = str(review.version)
    late = post_review("save", version=version, score_compute="0")
    assert late.status_code == 302
    assert "can no longer be changed" in client.get(declared.url).get_data(as_text=True)
    assert _values(_review(declared))["compute"][0] == Decimal("4.50")


def test_stale_save_is_refused_and_keeps_the_input(declared: Setup, post_review) -> None:
    assert post_review("save").status_code == 302  # tab A: version 0 -> 1
    mine = "My own careful text from tab B that must not be lost when the save is refused."
    response = post_review("save", version="0", comment_compute=mine)  # tab B, opened before
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "saved in another tab or window" in html
    assert mine in html
    assert _values(_review(declared))["compute"][1] == GOOD_COMMENT  # not overwritten
    # The page now carries the current version: saving again is a deliberate overwrite.
    version = _review(declared).version
    assert f'name="version" type="hidden" value="{version}"' in html
    assert post_review("save", version=str(version), comment_compute=mine).status_code == 302
    assert _values(_review(declared))["compute"][1] == mine


def test_submit_from_a_stale_page_is_refused(declared: Setup, post_review) -> None:
    assert post_review("save", score_funding=None).status_code == 302
    response = post_review("submit", version="0")
    assert response.status_code == 409
    assert _review(declared).status is ReviewStatus.DRAFT


@pytest.mark.parametrize("phase", [Phase.CONSENSUS, Phase.RANKING, Phase.DECIDED])
def test_after_the_evaluation_phase_the_review_is_read_only(
    declared: Setup, post_review, client, phase: Phase
) -> None:
    assert post_review("save").status_code == 302
    advance_call(declared.call, phase)
    html = client.get(declared.url).get_data(as_text=True)
    assert "the review can no longer be changed" in html
    assert 'type="radio"' not in html
    assert "4.5" in html and GOOD_COMMENT in html  # the draft is shown, read-only
    response = post_review("submit", version=str(_review(declared).version))
    assert response.status_code == 302
    assert _review(declared).status is ReviewStatus.DRAFT


def test_concurrent_writer_is_caught_by_the_version_column(declared: Setup, app) -> None:
    """Two requests read version 1; the slower write must fail, not overwrite."""
    assignment = db.session.get(Assignment, declared.assignment.id)
    inputs = {"compute": ScoreInput(Decimal("1"), "first")}
    save_draft(assignment, 0, inputs)
    db.session.commit()

    stale = db.session.get(Assignment, declared.assignment.id)
    assert stale.review is not None and stale.review.version == 1
    # Another connection saves meanwhile.
    with app.app_context():
        other = db.session.get(Assignment, declared.assignment.id)
        save_draft(other, 1, {"compute": ScoreInput(Decimal("2"), "second")})
        db.session.commit()
    with pytest.raises(StaleReview):
        save_draft(stale, 1, {"compute": ScoreInput(Decimal("3"), "third")})
    db.session.rollback()
    assert _values(_review(declared))["compute"] == (Decimal("2.00"), "second")


def test_services_guard_their_own_rules(declared: Setup) -> None:
    assignment = db.session.get(Assignment, declared.assignment.id)
    with pytest.raises(IncompleteReview):
        submit_review(assignment, 0, {"compute": ScoreInput(Decimal("3"), GOOD_COMMENT)})
    with pytest.raises(ValueError, match="not on the scale"):
        save_draft(assignment, 0, {"compute": ScoreInput(Decimal("5.5"), "")})
    db.session.rollback()
    full = {k: ScoreInput(Decimal("3"), GOOD_COMMENT) for k in ("compute", "expertise", "funding")}
    submit_review(assignment, 0, full)
    db.session.commit()
    with pytest.raises(ReviewLocked):
        save_draft(assignment, assignment.review.version, full)


def test_audit_events_name_the_review_and_the_call(declared: Setup, post_review) -> None:
    post_review("save")
    post_review("submit", version=str(_review(declared).version))
    db.session.expire_all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("review.%")).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["review.save_draft", "review.submit"]
    assert all(e.call_id == declared.call.id for e in events)
    assert all(e.actor_id == declared.expert.id for e in events)
    assert events[-1].data["scores"] == {"compute": "4.5", "expertise": "3", "funding": "2.5"}
    assert events[0].data["autosave"] is False


def test_query_count_of_the_page_does_not_grow_with_documents_or_scores(
    declared: Setup, client, post_review
) -> None:

    from .conftest import count_queries

    url = declared.url
    with count_queries() as empty:
        client.get(url)
    post_review("save")
    for n in range(5):
        attach_pdf(declared.proposal, f"annex-{n}.pdf")
    with count_queries() as full:
        html = client.get(url).get_data(as_text=True)
    assert "annex-4.pdf" in html and GOOD_COMMENT in html
    # The saved review adds its scores' query; documents and criteria come in fixed batches.
    assert len(full) <= len(empty) + 1
    # The files themselves stay in the database until someone downloads one.
    assert not any(re.search(r"documents\.content(?!_)", statement) for statement in full)
