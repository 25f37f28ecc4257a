"""A proposal's discussion among its panel and the coordinators (issue 13)."""

from __future__ import annotations

from sqlalchemy import select

from reviewer_app.consensus.services import expert_labels
from reviewer_app.expert.notices import late_conflict_notices
from reviewer_app.expert.services import declare_late_conflict
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, DiscussionMessage, Phase

from ..factories import advance_call, write_consensus


def url(p) -> str:
    return f"/consensus/proposals/{p.proposal.id}"


def post(client, p, text: str):
    return client.post(f"{url(p)}/discussion", data={"discussion-text": text})


def test_experts_and_coordinator_discuss_and_the_panel_hears_of_it(
    panel, login_as, smtp_inbox
) -> None:
    p = panel()
    expert = p.experts[1]

    response = post(login_as(expert), p, "Is the hosting site's power contract signed?")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url(p)}#discussion")
    [message] = db.session.scalars(select(DiscussionMessage)).all()
    assert message.author_id == expert.id
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "discussion.post")
    ).one()
    assert event.data["text"] == "Is the hosting site's power contract signed?"
    # The rest of the panel is told, without the text; the author is not.
    told = sorted(m["To"].addresses[0].addr_spec for m in smtp_inbox.messages)
    assert told == sorted(e.email for e in p.experts if e.id != expert.id)
    assert all("power contract" not in m.get_content() for m in smtp_inbox.messages)

    post(login_as(p.coordinator), p, "Yes: the annex of 12 March says so.")
    page = login_as(p.rapporteur).get(url(p)).get_data(as_text=True)
    thread = page[page.index('id="discussion-messages"') :]
    assert thread.index("power contract") < thread.index("annex of 12 March")
    assert "Expert B" in thread and f"{p.coordinator.name} (coordinator)" in thread
    assert expert.name not in thread  # the call shows experts to each other by letter


def test_observers_read_but_do_not_write_and_an_empty_message_is_refused(
    panel, login_as, make_user
) -> None:
    p = panel()
    post(login_as(p.rapporteur), p, "Let us agree on compute first.")

    observer = login_as(make_user("observer"))
    page = observer.get(url(p)).get_data(as_text=True)
    assert "Let us agree on compute first." in page and 'id="discussion-form"' not in page
    assert post(observer, p, "An observer's word.").status_code == 403

    refused = post(login_as(p.experts[1]), p, "   ")
    assert refused.status_code == 400
    assert "Write a message first." in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(DiscussionMessage)).all()) == 1


def test_the_discussion_closes_with_the_consensus_phase(panel, login_as) -> None:
    p = panel()
    post(login_as(p.rapporteur), p, "Agreed on every criterion.")
    advance_call(p.call, Phase.RANKING)
    client = login_as(p.coordinator)

    page = client.get(url(p)).get_data(as_text=True)
    response = post(client, p, "Too late.")

    assert "Agreed on every criterion." in page and 'id="discussion-form"' not in page
    assert response.status_code == 302
    assert len(db.session.scalars(select(DiscussionMessage)).all()) == 1


def test_a_late_conflict_in_consensus_leaves_the_others_their_letters(panel) -> None:
    p = panel()
    before = expert_labels(p.proposal)
    assert [before[e.id] for e in p.experts] == ["Expert A", "Expert B", "Expert C"]
    declare_late_conflict(p.assignments[1], "Found a co-authored paper with the coordinator.")
    db.session.commit()
    db.session.expire_all()
    after = expert_labels(p.proposal)
    # B withdrew: A and C stay A and C in the discussion, the consensus and the reports.
    assert after[p.experts[0].id] == "Expert A" and after[p.experts[2].id] == "Expert C"


def test_a_late_conflict_under_a_final_consensus_asks_the_coordinators_to_check_it(
    panel, app
) -> None:
    p = panel()
    write_consensus(p.proposal, {"compute": "4", "expertise": "4", "funding": "4"})
    event = declare_late_conflict(p.assignments[2], "A former employer of mine is a partner.")
    with app.test_request_context():
        messages = late_conflict_notices(p.assignments[2], event)
    assert messages  # one per active coordinator
    for message in messages:
        assert "consensus report is final and was agreed with them" in message.get_content()
