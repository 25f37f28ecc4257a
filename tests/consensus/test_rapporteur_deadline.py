"""The rapporteurs' due date: overdue marks and reminders (issue 13)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from reviewer_app.consensus.lists import call_progress
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase

from ..factories import advance_call


def test_reports_not_final_by_the_deadline_are_overdue(panel) -> None:
    p = panel()
    p.call.consensus_deadline = date(2030, 1, 31)
    db.session.commit()

    [before] = call_progress(p.call, today=date(2030, 1, 31))
    [after] = call_progress(p.call, today=date(2030, 2, 1))

    assert not before.overdue and after.overdue
    p.call.consensus_deadline = None
    db.session.commit()
    [undated] = call_progress(p.call, today=date(2030, 2, 1))
    assert not undated.overdue


def test_the_pages_mark_overdue_reports_for_coordinator_and_rapporteur(panel, login_as) -> None:
    p = panel()
    p.call.consensus_deadline = date.today() - timedelta(days=1)
    db.session.commit()

    progress = login_as(p.coordinator).get(f"/consensus/calls/{p.call.key}").get_data(as_text=True)
    own = login_as(p.rapporteur).get("/consensus/").get_data(as_text=True)

    assert "Consensus reports due:" in progress and ">overdue</span>" in progress
    assert "overdue since" in own


def test_the_coordinator_reminds_rapporteurs_of_open_reports(panel, login_as, smtp_inbox) -> None:
    p = panel()
    p.call.consensus_deadline = date(2030, 1, 31)
    db.session.commit()
    client = login_as(p.coordinator)
    assert "Remind rapporteurs" in client.get(f"/consensus/calls/{p.call.key}").get_data(
        as_text=True
    )

    response = client.post(f"/consensus/calls/{p.call.key}/remind", follow_redirects=True)

    assert "A reminder was sent to 1 rapporteur." in response.get_data(as_text=True)
    [message] = smtp_inbox.messages
    assert message["To"].addresses[0].addr_spec == p.rapporteur.email
    body = message.get_content()
    assert p.proposal.reference in body and "2030" in body
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.remind")
    ).one()
    assert event.data["proposals"] == [p.proposal.reference]


def test_no_reminder_outside_the_consensus_phase(panel, login_as) -> None:
    from reviewer_app.consensus.reminders import open_reports

    p = panel()
    assert open_reports(p.call) == {p.rapporteur: [p.proposal]}
    advance_call(p.call, Phase.RANKING)
    client = login_as(p.coordinator)
    assert "Remind rapporteurs" not in client.get(f"/consensus/calls/{p.call.key}").get_data(
        as_text=True
    )

    response = client.post(f"/consensus/calls/{p.call.key}/remind", follow_redirects=True)

    assert "only while the call is in consensus" in response.get_data(as_text=True)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.remind")
    ).all()
