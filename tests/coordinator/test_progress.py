"""The progress dashboard and reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase
from tests.factories import advance_call, plant_phase


@pytest.fixture
def coordinator(make_user, login_as):
    user = make_user("coordinator")
    login_as(user)
    return user


@pytest.fixture
def running_call(
    make_call, make_proposal, make_user, make_assignment, make_review, declare_conflict
):
    """Two proposals; Ada has submitted both, Bo is late on one, Cy declared a conflict."""
    yesterday = date.today() - timedelta(days=1)
    call = make_call(deadline=date.today() + timedelta(days=10))
    p1, p2 = make_proposal(call, reference="AIF-01"), make_proposal(call, reference="AIF-02")
    ada = make_user("expert", name="Ada Lovelace")
    bo = make_user("expert", name="Bo Svensson", language="de")
    cy = make_user("expert", name="Cy Young")
    ada1, ada2, bo1 = make_assignment(p1, ada), make_assignment(p2, ada), make_assignment(p1, bo)
    make_assignment(p2, bo, due_date=yesterday)
    cy1 = make_assignment(p1, cy)
    # Two experts on AIF-02 where the scheme asks for three: planted, the page needs the phase.
    plant_phase(call, Phase.EVALUATION)
    make_review(ada1, value="1")
    make_review(ada2)
    make_review(bo1, value="4")
    declare_conflict(cy1, "Former employer of the coordinator")
    return call, (p1, p2), (ada, bo, cy)


def test_dashboard_per_proposal_and_per_expert(client, coordinator, running_call) -> None:
    call, _proposals, _experts = running_call
    page = client.get(f"/calls/{call.key}/progress").get_data(as_text=True)
    per_proposal = page[page.index("Per proposal") : page.index("Per expert")]
    aif1 = per_proposal[per_proposal.index("AIF-01") :].split("</tr>")[0]
    aif2 = per_proposal[per_proposal.index("AIF-02") :].split("</tr>")[0]
    assert "2 of 2" in aif1  # the conflicted expert is not counted
    assert "1 of 2" in aif2
    assert "Cy Young</span>: Former employer of the coordinator" in aif1
    # Ada scored 1 and Bo 4 on every criterion of AIF-01: spread 3 >= 2 flags disagreement.
    assert "Disagreement" in page
    assert aif1.count("badge text-bg-warning") == 3
    assert "badge text-bg-warning" not in aif2
    bo_row = page[page.index("Bo Svensson") :].split("</tr>")[0]
    assert "1 of 2" in bo_row
    assert "AIF-02" in bo_row  # overdue
    ada_row = page[page.index("Ada Lovelace") :].split("</tr>")[0]
    assert "text-danger" not in ada_row


def test_overdue_by_the_call_deadline(client, coordinator, running_call) -> None:
    call, _proposals, _experts = running_call
    call.deadline = date.today() - timedelta(days=2)
    db.session.commit()
    page = client.get(f"/calls/{call.key}/progress").get_data(as_text=True)
    cy_row = page[page.index("Cy Young", page.index("Per expert")) :].split("</tr>")[0]
    assert "text-danger" not in cy_row  # a conflicted expert owes nothing
    bo_row = page[page.index("Bo Svensson", page.index("Per expert")) :].split("</tr>")[0]
    assert "AIF-02" in bo_row


def test_reminders_go_to_experts_with_open_work(
    client, coordinator, running_call, smtp_inbox
) -> None:
    call, _proposals, (_ada, bo, _cy) = running_call
    page = client.post(f"/calls/{call.key}/reminders", follow_redirects=True).get_data(as_text=True)
    assert "Reminders sent: 1." in page
    [message] = smtp_inbox.messages
    assert message["To"].addresses[0].addr_spec == bo.email
    assert "AIF-02" in message.get_content()
    assert "Erinnerung" in message["Subject"]  # Bo reads German
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder.send"))
    assert (event.object_id, event.data["proposals"]) == (bo.id, ["AIF-02"])


def test_reminder_to_one_expert_and_to_someone_without_open_work(
    client, coordinator, running_call, smtp_inbox
) -> None:
    call, _proposals, (ada, bo, _cy) = running_call
    page = client.post(
        f"/calls/{call.key}/reminders", data={"expert_id": ada.id}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Nobody has open reviews" in page
    assert smtp_inbox.messages == []
    client.post(f"/calls/{call.key}/reminders", data={"expert_id": bo.id})
    assert len(smtp_inbox.messages) == 1


def test_reminders_only_during_evaluation(client, coordinator, running_call, smtp_inbox) -> None:
    call, _proposals, _experts = running_call
    advance_call(call, Phase.CONSENSUS)
    db.session.commit()
    page = client.post(f"/calls/{call.key}/reminders", follow_redirects=True).get_data(as_text=True)
    assert "only while the call is in evaluation" in page
    assert smtp_inbox.messages == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder.send")) is None


def test_empty_dashboard(client, coordinator, make_call) -> None:
    call = make_call()
    assert "No proposals yet" in client.get(f"/calls/{call.key}/progress").get_data(as_text=True)


def test_give_one_expert_more_time(client, coordinator, running_call) -> None:
    call, (_p1, p2), (ada, bo, _cy) = running_call
    later = date.today() + timedelta(days=20)
    response = client.post(
        f"/calls/{call.key}/due-date", data={"expert_id": bo.id, "due_date": later.isoformat()}
    )
    assert response.status_code == 302
    db.session.expire_all()
    [open_assignment] = [a for a in p2.assignments if a.expert_id == bo.id]
    assert open_assignment.due_date == later
    page = client.get(f"/calls/{call.key}/progress").get_data(as_text=True)
    bo_row = page[page.index("Bo Svensson", page.index("Per expert")) :].split("</tr>")[0]
    assert "text-danger" not in bo_row  # no longer overdue
    assert later.isoformat() in bo_row
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "assignment.due_date")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert event.data == {"due_date": later.isoformat(), "proposals": ["AIF-02"]}
    # Ada has nothing open; a bad date is refused.
    page = client.post(
        f"/calls/{call.key}/due-date",
        data={"expert_id": ada.id, "due_date": later.isoformat()},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "has no open reviews" in page
    page = client.post(
        f"/calls/{call.key}/due-date",
        data={"expert_id": bo.id, "due_date": "next week"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Enter the due date as a date" in page
    db.session.expire_all()
    assert open_assignment.due_date == later


def test_observers_see_that_a_conflict_exists_but_not_why(
    client, make_user, login_as, running_call
) -> None:
    call, _proposals, _experts = running_call
    login_as(make_user("observer"))
    page = client.get(f"/calls/{call.key}/progress").get_data(as_text=True)
    assert "Cy Young" in page
    assert "Former employer of the coordinator" not in page


def test_the_declaration_form_says_who_reads_the_reason(
    client, login_as, make_user, make_assignment, running_call
) -> None:
    _call, (_p1, p2), _experts = running_call
    expert = make_user("expert")
    assignment = make_assignment(p2, expert)
    login_as(expert)
    page = client.get(f"/expert/assignments/{assignment.id}/declaration").get_data(as_text=True)
    assert (
        "Only coordinators read it; observers and other experts see at most that a conflict" in page
    )
