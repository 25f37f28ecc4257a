"""`reviewer-app demo --synthetic`: a deterministic call of any size in the ranking phase, for
load tests and benchmarks (issue 11, point 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reviewer_app.audit.chain import verify
from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    Call,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusStatus,
    Phase,
    Proposal,
    Review,
    Score,
)
from reviewer_app.models.audit import chain_of
from reviewer_app.models.versions import ReviewVersion
from reviewer_app.ranking import rank_call, ranking_csv

ARGS = ["demo", "--synthetic", "--proposals", "60", "--experts", "15"]


def _ranking(key: str) -> str:
    call = db.session.scalar(select(Call).where(Call.key == key))
    assert call is not None
    return ranking_csv(rank_call(call))


def test_a_synthetic_call_is_ready_to_rank(runner, app_ctx) -> None:
    result = runner.invoke(args=[*ARGS, "--reviews-per-proposal", "4", "--key", "big"])
    assert result.exit_code == 0, result.output
    assert "60 proposals" in result.output and "simulated" in result.output
    assert "coordinator@big.example.org" in result.output and "demo-password" in result.output
    call = db.session.scalar(select(Call).where(Call.key == "big"))
    assert call is not None and call.phase is Phase.RANKING and call.budget_eur
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Proposal) == 60
    assert count(Review) == 240 and count(Score) == 240 * 3 and count(ReviewVersion) == 240
    conflicts = db.session.scalar(
        select(func.count()).where(ConflictDeclaration.has_conflict.is_(True))
    )
    assert count(Assignment) == 240 + conflicts
    final = db.session.scalar(
        select(func.count()).where(ConsensusReport.status == ConsensusStatus.FINAL)
    )
    assert 0 < final < 60
    # Comments of realistic length, labelled as simulated.
    comment = db.session.scalar(select(Score.comment).limit(1))
    assert comment is not None and len(comment) > 300 and "Simulated" in comment
    # Experts are lenient or strict and disagree: scores spread over the scale.
    values = set(db.session.scalars(select(Score.value)))
    assert len(values) >= 6
    ranking = rank_call(call)
    statuses = {row.status.value for row in ranking.rows}
    assert {"main", "reserve", "below_threshold"} <= statuses
    report = verify(db.session, chain_of(call.id))
    assert report.problem is None and report.count >= 2


def test_same_seed_same_call_other_seed_other_call(runner, app_ctx) -> None:
    for key, seed in (("one", "7"), ("two", "7"), ("three", "8")):
        result = runner.invoke(args=[*ARGS, "--seed", seed, "--key", key])
        assert result.exit_code == 0, result.output
    assert _ranking("one") == _ranking("two")
    assert _ranking("one") != _ranking("three")


def test_bad_sizes_and_a_taken_key_are_refused(runner, app_ctx) -> None:
    too_few = runner.invoke(
        args=["demo", "--synthetic", "--experts", "3", "--reviews-per-proposal", "5"]
    )
    assert too_few.exit_code == 2 and "at least 6 experts" in too_few.output
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0  # nothing half-made
    assert runner.invoke(args=[*ARGS, "--key", "k"]).exit_code == 0
    again = runner.invoke(args=[*ARGS, "--key", "k"])
    assert again.exit_code == 1 and "exists" in again.output
    spaced = runner.invoke(args=[*ARGS, "--key", "a b"])
    assert spaced.exit_code == 2 and "--key: letters, digits" in spaced.output


@pytest.mark.parametrize("key", ["s", "BIG-2025"])
def test_the_coordinator_of_a_synthetic_call_signs_in(runner, client, key) -> None:
    # A key with capitals: e-mail addresses are stored in lower case (a named constraint).
    made = runner.invoke(args=[*ARGS, "--key", key])
    assert made.exit_code == 0, made.output
    email = f"coordinator@{key.lower()}.example.org"
    assert email in made.output
    response = client.post("/login", data={"email": email, "password": "demo-password"})
    assert response.status_code == 302
