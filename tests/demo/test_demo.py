"""The demo seeds a realistic call mid-evaluation, refuses to overwrite data, and resets."""

from __future__ import annotations

from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, Call, Phase, Proposal, Review, ReviewStatus, Role, User


def test_demo_seeds_the_ai_factories_call(runner, app_ctx) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "expert1@example.org" in result.output
    assert "coordinator@example.org" in result.output
    assert "demo-password" in result.output

    call = db.session.scalar(select(Call))
    assert call.phase is Phase.EVALUATION
    proposals = db.session.scalars(select(Proposal).order_by(Proposal.reference)).all()
    assert {p.country for p in proposals} == {"ES", "IT", "FI", "LU", "SE", "DE", "GR"}
    assert all("public announcements" in p.extra["data_note"] for p in proposals)
    experts = db.session.scalars(select(User).where(User.role == Role.EXPERT)).all()
    assert len(experts) == 6
    per_proposal = db.session.execute(
        select(Assignment.proposal_id, func.count()).group_by(Assignment.proposal_id)
    ).all()
    assert all(3 <= n <= 4 for _, n in per_proposal) and len(per_proposal) == 7
    # No expert judges a proposal from their own country (the scheme's conflict rule).
    for a in db.session.scalars(select(Assignment)):
        assert a.expert.country != a.proposal.country
    reviews = db.session.scalars(select(Review)).all()
    submitted = [r for r in reviews if r.status is ReviewStatus.SUBMITTED]
    assert len(submitted) >= 18
    assert any(r.status is ReviewStatus.DRAFT for r in reviews)
    for review in submitted:
        for score in review.scores:
            assert score.comment.startswith("(Simulated)")
            assert len(score.comment) >= 50
            assert call.scheme.scale.contains(score.value)


def test_demo_leaves_work_open_for_expert1(runner, app_ctx) -> None:
    runner.invoke(args=["demo"])
    expert1 = db.session.scalar(select(User).where(User.email == "expert1@example.org"))
    states = sorted(
        "not started"
        if a.review is None and a.declaration is None
        else (a.review.status.value if a.review else "declared")
        for a in expert1.assignments
    )
    assert states == ["draft", "not started", "submitted", "submitted"]


def test_demo_refuses_a_database_with_data_and_resets(runner, app_ctx, make_user) -> None:
    make_user("coordinator")
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code == 1
    assert "already holds data" in refused.output
    assert "Traceback" not in refused.output
    assert db.session.scalar(select(func.count(Call.id))) == 0

    done = runner.invoke(args=["demo", "--reset"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Call.id))) == 1
    assert db.session.scalar(select(func.count(User.id))) == 8


def test_demo_expert_can_sign_in(runner, client) -> None:
    runner.invoke(args=["demo"])
    response = client.post(
        "/login", data={"email": "expert1@example.org", "password": "demo-password"}
    )
    assert response.status_code == 302
