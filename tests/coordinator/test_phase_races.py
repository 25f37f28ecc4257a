"""A phase move and the writes that depend on the phase never interleave (issue 9, point 6).

Experts submit while the coordinator closes the evaluation, in threads with connections of
their own (on PostgreSQL in CI, as in production). Whatever the order the database picks, the
count of open reviews recorded with the move is exact, and no submit lands after it.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from reviewer_app.audit.events import PhaseMoved
from reviewer_app.coordinator.experts import toggle_assignment
from reviewer_app.coordinator.phases import move_phase
from reviewer_app.expert.services import ReviewLocked, ScoreInput, submit_review
from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    AuditEvent,
    Call,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
)

from ..factories import advance_call, declare_for

COMMENT = "A careful justification of this score, long enough for the scheme's minimum."


def _scores(call: Call) -> dict[str, ScoreInput]:
    return {c.key: ScoreInput(Decimal("3"), COMMENT) for c in call.criteria}


def test_submits_racing_the_close_of_the_evaluation(app, make_call, make_proposal, make_user):
    # Set up and opened as the coordinator does; each expert has declared, none has written.
    call = make_call()
    call_id = call.id
    experts = [make_user("expert") for _ in range(4)]
    for _ in range(3):
        proposal = make_proposal(call)
        for expert in experts[:3]:
            toggle_assignment(call, proposal, expert, actor=None)
    db.session.commit()
    advance_call(call, Phase.EVALUATION)
    assignments = db.session.scalars(
        select(Assignment)
        .join(Assignment.proposal)
        .where(Proposal.call_id == call_id)
        .order_by(Assignment.id)
    ).all()
    for assignment in assignments:
        declare_for(assignment)
    assignment_ids = [a.id for a in assignments]

    start = threading.Barrier(len(assignment_ids) + 1)
    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []

    def expert_submits(assignment_id: int) -> None:
        try:
            with app.app_context():
                assignment = db.session.get(Assignment, assignment_id)
                scores = _scores(assignment.proposal.call)
                start.wait()
                try:
                    submit_review(assignment, 0, scores)
                    db.session.commit()
                    outcomes[assignment_id] = "submitted"
                except ReviewLocked:
                    db.session.rollback()
                    outcomes[assignment_id] = "refused"
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    def coordinator_closes() -> None:
        try:
            with app.app_context():
                target = db.session.get(Call, call_id)
                start.wait()
                move_phase(target, Phase.CONSENSUS, confirm_open_reviews=True)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=expert_submits, args=(i,)) for i in assignment_ids]
    threads.append(threading.Thread(target=coordinator_closes))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(outcomes) == len(assignment_ids)

    db.session.expire_all()
    submitted = db.session.scalar(
        select(func.count()).select_from(Review).where(Review.status == ReviewStatus.SUBMITTED)
    )
    assert submitted == list(outcomes.values()).count("submitted")
    # The one move out of evaluation (the move into it was the set-up's).
    [event] = [
        e
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "call.phase"))
        if e.typed().from_phase is Phase.EVALUATION
    ]
    moved = event.typed()
    assert isinstance(moved, PhaseMoved) and moved.to_phase is Phase.CONSENSUS
    # Exact: every review not submitted when the evaluation closed is counted open, and none
    # that was refused slipped in afterwards.
    assert moved.open_reviews == len(assignment_ids) - submitted
    late = db.session.scalar(
        select(func.count()).select_from(Review).where(Review.submitted_at > event.at)
    )
    assert late == 0
