"""The panel's other reviews, opened to an expert once theirs is submitted (a call setting)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, Call, Phase

from ..factories import advance_call


@pytest.fixture
def panel(make_call, make_proposal, make_user, make_assignment, make_review):
    """Three experts on one proposal in evaluation: B submitted, C left a draft, A about to
    submit; D declared a conflict after submitting. The call opens the reviews."""
    call: Call = make_call(reviews_open_after_submit=True)
    proposal = make_proposal(call)
    experts = [make_user("expert", name=f"Expert person {n}") for n in "ABCD"]
    for expert in experts:
        make_assignment(proposal, expert)
    advance_call(call, Phase.EVALUATION)
    a, b, c, d = (
        db.session.scalars(select(Assignment).filter_by(expert_id=e.id)).one() for e in experts
    )
    make_review(b, comment="SubmittedReviewOfB " * 4)
    make_review(c, comment="DraftReviewOfC " * 4, submitted=False)
    make_review(d, comment="ConflictedReviewOfD " * 4)
    from reviewer_app.expert.services import declare_late_conflict

    declare_late_conflict(d, "Found a tie to the applicant.")
    db.session.commit()
    return call, experts, (a, b, c, d)


def test_other_reviews_open_only_after_ones_own_is_submitted(panel, login_as, make_review) -> None:
    call, experts, (a, _b, _c, _d) = panel
    client = login_as(experts[0])
    before = client.get(f"/expert/assignments/{a.id}").get_data(as_text=True)
    assert "other experts" not in before
    assert "SubmittedReviewOfB" not in before

    make_review(a, comment="OwnReviewOfA " * 5)
    db.session.commit()
    page = client.get(f"/expert/assignments/{a.id}").get_data(as_text=True)

    assert "other experts" in page
    assert "SubmittedReviewOfB" in page
    assert "Expert B" in page and "Expert person B" not in page  # the call anonymises
    # Never a draft, never a conflicted expert's review.
    assert "DraftReviewOfC" not in page and "ConflictedReviewOfD" not in page


def test_closed_when_the_call_keeps_each_review_to_its_author(panel, login_as, make_review) -> None:
    call, experts, (a, _b, _c, _d) = panel
    call.reviews_open_after_submit = False
    db.session.commit()
    make_review(a, comment="OwnReviewOfA " * 5)
    db.session.commit()

    page = login_as(experts[0]).get(f"/expert/assignments/{a.id}").get_data(as_text=True)

    assert "SubmittedReviewOfB" not in page
    assert "other experts" not in page


def test_the_setting_is_changed_on_the_call_page_and_audited(panel, login_as, make_user) -> None:
    call = panel[0]
    from reviewer_app.models import AuditEvent

    client = login_as(make_user("coordinator"))
    response = client.post(
        f"/calls/{call.key}/edit",
        data={"title": call.title, "anonymise_experts": "y"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).reviews_open_after_submit is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.update")).one()
    assert event.data["changes"]["reviews_open_after_submit"] == ["True", "False"]
    assert "closed until the consensus" in client.get(f"/calls/{call.key}/").get_data(as_text=True)
