"""A call's audit log page: filters, pages, CSV, the chain's state, and who sees what."""

from __future__ import annotations

from sqlalchemy import update

from reviewer_app.audit.events import DemoSeeded, ProposalCreated
from reviewer_app.coordinator import audit_views
from reviewer_app.expert.services import declare
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent
from reviewer_app.models.audit import record

REASON = "I co-authored the 2023 roadmap of the applicant"


def test_coordinator_reads_filters_and_downloads_the_log(
    client, login_as, make_user, evaluated_call
) -> None:
    call = evaluated_call
    coordinator = make_user("coordinator")
    assignment = call.proposals[0].assignments[0]
    declare(assignment, has_conflict=True, reason=REASON, confidentiality_accepted=False)
    db.session.commit()
    login_as(coordinator)
    page = client.get(f"/calls/{call.key}/audit").get_data(as_text=True)
    assert "Chain intact: 7 events" in page
    assert "assignment.declare" in page and REASON in page
    only_phase = client.get(f"/calls/{call.key}/audit", query_string={"action": "call.phase"})
    text = only_phase.get_data(as_text=True)
    assert "1 events" in text and "assignment.add" not in text.split('id="audit-events"')[1]
    by_proposal = client.get(
        f"/calls/{call.key}/audit", query_string={"proposal": call.proposals[0].reference}
    ).get_data(as_text=True)
    assert "5 events" in by_proposal  # added, three assignments and the declaration
    assert ProposalCreated.action in by_proposal.split('id="audit-events"')[1]
    csv = client.get(f"/calls/{call.key}/audit.csv")
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "id,seq,at,actor,action,object,proposal,details,digest"
    assert len(lines) == 1 + 7 and REASON in csv.get_data(as_text=True)
    # The download itself is recorded.
    again = client.get(f"/calls/{call.key}/audit").get_data(as_text=True)
    assert "export.download" in again and "Chain intact: 8 events" in again


def test_observers_read_the_log_without_conflict_reasons(
    client, login_as, make_user, evaluated_call
) -> None:
    call = evaluated_call
    declare(
        call.proposals[0].assignments[0],
        has_conflict=True,
        reason=REASON,
        confidentiality_accepted=False,
    )
    db.session.commit()
    login_as(make_user("observer"))
    page = client.get(f"/calls/{call.key}/audit").get_data(as_text=True)
    assert "assignment.declare" in page and "has_conflict" in page
    assert REASON not in page
    assert REASON not in client.get(f"/calls/{call.key}/audit.csv").get_data(as_text=True)


def test_pages_of_the_log(client, login_as, make_user, evaluated_call, monkeypatch) -> None:
    monkeypatch.setattr(audit_views, "PAGE_SIZE", 2)
    login_as(make_user("coordinator"))
    first = client.get(f"/calls/{evaluated_call.key}/audit").get_data(as_text=True)
    assert "Page 1 of 3" in first and "call.phase" in first  # newest first
    second = client.get(f"/calls/{evaluated_call.key}/audit", query_string={"page": 2})
    assert "Page 2 of 3" in second.get_data(as_text=True)
    assert client.get(f"/calls/{evaluated_call.key}/audit?page=4").status_code == 404
    assert (
        client.get(f"/calls/{evaluated_call.key}/audit?page=99999999999999999999").status_code
        == 404
    )


def test_a_broken_chain_shows_on_the_page(client, login_as, make_user, evaluated_call) -> None:
    for _ in range(2):
        record(DemoSeeded(), evaluated_call, call_id=evaluated_call.id, actor_id=None)
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(
            update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.action == "call.phase")
            .values(data={"from_phase": "setup", "to_phase": "decided"})
        )
    observer = make_user("observer")
    login_as(observer)
    page = client.get(f"/calls/{evaluated_call.key}/audit").get_data(as_text=True)
    assert "Chain broken" in page and "this event was changed" in page
    observer.language = "de"
    db.session.commit()
    page = client.get(f"/calls/{evaluated_call.key}/audit").get_data(as_text=True)
    assert "dieses Ereignis wurde geändert" in page and "this event was changed" not in page


def test_actions_read_as_words_in_the_readers_language(
    client, login_as, make_user, evaluated_call
) -> None:
    coordinator = make_user("coordinator")
    login_as(coordinator)
    page = client.get(f"/calls/{evaluated_call.key}/audit").get_data(as_text=True)
    events = page.split('id="audit-events"')[1]
    assert "Phase moved" in events and "Expert assigned" in events
    assert "call.phase" in events  # the code stays, for the CSV and the command line
    assert '<option value="call.phase">Phase moved</option>' in page
    coordinator.language = "de"
    db.session.commit()
    page = client.get(f"/calls/{evaluated_call.key}/audit").get_data(as_text=True)
    assert "Phase gewechselt" in page and "Gutachter zugewiesen" in page
    assert "Phase moved" not in page


def test_a_bad_filter_is_ignored_not_an_error(client, login_as, make_user, evaluated_call) -> None:
    login_as(make_user("coordinator"))
    response = client.get(
        f"/calls/{evaluated_call.key}/audit",
        query_string={"since": "not-a-date", "actor": "999", "action": "x" * 300},
    )
    assert response.status_code == 200
    assert "Chain intact" in response.get_data(as_text=True)
