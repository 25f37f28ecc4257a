"""The audit chain: sealed as written, verified by ``reviewer-app audit verify``, and every
change made behind the application's back (plain SQL) found and named."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from reviewer_app.audit.chain import verify
from reviewer_app.audit.events import DemoSeeded, PhaseMoved, UserCreated
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase, Proposal, User
from reviewer_app.models.audit import AuditHead, chain_of, record


@pytest.fixture
def history(evaluated_call):
    """Assignments and a phase move by the services, then a few more events."""
    for _ in range(3):
        record(DemoSeeded(), evaluated_call, call_id=evaluated_call.id, actor_id=None)
    db.session.commit()
    return evaluated_call


def events(call) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.chain == chain_of(call.id)).order_by(AuditEvent.seq)
        )
    )


def raw(statement) -> None:
    """Plain SQL, as an intruder with database access would run it (no ORM guards)."""
    with db.engine.begin() as connection:
        connection.execute(statement)


def test_events_are_numbered_and_chained_as_written(history) -> None:
    chain = events(history)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_digest == "0" * 64
    assert all(b.prev_digest == a.digest for a, b in zip(chain, chain[1:], strict=False))
    report = verify(db.session, chain_of(history.id))
    assert report.intact and report.count == len(chain) and report.head == chain[-1].digest


def test_verify_from_the_command_line(runner, history) -> None:
    result = runner.invoke(args=["audit", "verify", history.key])
    assert result.exit_code == 0, result.output
    assert f"call-{history.id}: {len(events(history))} events, intact" in result.output
    everything = runner.invoke(args=["audit", "verify"])
    assert (
        everything.exit_code == 0
        and "site:" not in everything.output
        or "intact" in everything.output
    )


@pytest.mark.parametrize(
    "tamper",
    ["author", "data", "action", "time", "delete-middle", "delete-last", "reorder", "move-chain"],
)
def test_any_change_behind_the_applications_back_is_found(runner, history, tamper: str) -> None:
    chain = events(history)
    target = chain[2]
    table = AuditEvent.__table__
    expected_id: int | None = target.id
    if tamper == "author":
        someone = db.session.scalar(select(User.id))
        raw(update(table).where(table.c.id == target.id).values(actor_id=someone))
    elif tamper == "data":
        raw(update(table).where(table.c.id == target.id).values(data={"forged": True}))
    elif tamper == "action":
        raw(update(table).where(table.c.id == target.id).values(action="demo.seed2"))
    elif tamper == "time":
        raw(update(table).where(table.c.id == target.id).values(at=target.at.replace(year=2020)))
    elif tamper == "delete-middle":
        raw(delete(table).where(table.c.id == target.id))
        expected_id = chain[3].id  # the next one finds its predecessor gone
    elif tamper == "delete-last":
        raw(delete(table).where(table.c.id == chain[-1].id))
        expected_id = None  # the head is further on than the last event
    elif tamper == "reorder":
        a, b = chain[1], chain[2]
        raw(update(table).where(table.c.id == a.id).values(seq=-1))
        raw(update(table).where(table.c.id == b.id).values(seq=a.seq))
        raw(update(table).where(table.c.id == a.id).values(seq=b.seq))
        expected_id = b.id
    elif tamper == "move-chain":
        # To the chain of a call that does not exist (the site's own chain holds the users'
        # events, whose numbers would collide).
        raw(update(table).where(table.c.id == target.id).values(chain=chain_of(999_999)))
        expected_id = chain[3].id
    result = runner.invoke(args=["audit", "verify", history.key])
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    if expected_id is not None:
        assert f"BROKEN at event {expected_id} " in result.output, result.output
    else:
        assert "events after the last one found were removed" in result.output


def test_the_orm_refuses_to_change_or_delete_an_event(history) -> None:
    event = events(history)[0]
    event.action = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_export_carries_the_chain(runner, history) -> None:
    import json

    chain = events(history)  # the export itself is recorded after it was written
    result = runner.invoke(args=["audit", "export", history.key, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["head"] == {"seq": len(chain), "digest": chain[-1].digest}
    assert [e["digest"] for e in document["events"]] == [e.digest for e in chain]
    moved = next(e for e in document["events"] if e["action"] == "call.phase")
    assert moved["details"] == {
        "from_phase": "setup",
        "to_phase": "evaluation",
        "open_reviews": None,
        "unfinished_consensus": None,
    }
    csv_result = runner.invoke(args=["audit", "export", history.key])
    assert (
        csv_result.output.splitlines()[0] == "id,seq,at,actor,action,object,proposal,details,digest"
    )
    # Everything before, plus the JSON export just recorded.
    assert len(csv_result.output.splitlines()) == len(chain) + 2
    assert ",export.download," in csv_result.output.splitlines()[-1]


def test_concurrent_writers_never_fork_a_chain(app, history) -> None:
    """Writers in parallel threads (each its own connection) append in turn to one chain."""
    call_id = history.id
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                for _ in range(n):
                    record(
                        PhaseMoved(from_phase=Phase.EVALUATION, to_phase=Phase.EVALUATION),
                        None,
                        call_id=call_id,
                        actor_id=None,
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    report = verify(db.session, chain_of(call_id))
    assert report.intact, report
    assert report.count == len(events(history))
    head = db.session.get(AuditHead, chain_of(call_id))
    assert head.seq == report.count


def test_the_site_chain_holds_events_without_a_call(app_ctx, client, make_user) -> None:
    user = make_user("expert")
    client.post("/login", data={"email": user.email, "password": "wrong"})
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    report = verify(db.session, "site")
    assert report.intact and report.count == 3
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.chain == "site").order_by(AuditEvent.seq)
        )
    ]
    assert actions == [UserCreated.action, "user.login_failed", "user.login"]
    assert db.session.scalar(select(Proposal)) is None
