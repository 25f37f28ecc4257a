"""Calls in the browser: list, create from the criteria folder or an upload, edit, scheme, phases."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Call, Phase, ReviewStatus
from tests.conftest import DEMO_SCHEME
from tests.factories import plant_phase


@pytest.fixture
def coordinator(make_user, login_as):
    user = make_user("coordinator")
    login_as(user)
    return user


def test_empty_list_invites_to_create_a_call(client, coordinator) -> None:
    page = client.get("/calls/").get_data(as_text=True)
    assert "No calls yet" in page
    assert 'href="/calls/new"' in page


def test_list_shows_phase_counts_and_deadline(
    client, coordinator, make_call, make_proposal, make_user, make_assignment, make_review
) -> None:
    call = make_call(title="AI Factories", deadline=date(2026, 12, 1))
    first, _second = make_proposal(call), make_proposal(call)
    experts = [make_user("expert"), make_user("expert")]
    assignment = make_assignment(first, experts[0])
    make_assignment(first, experts[1])
    plant_phase(call, Phase.EVALUATION)  # two experts, none on the second: the list needs no more
    make_review(assignment)
    page = client.get("/calls/").get_data(as_text=True)
    assert "AI Factories" in page
    assert "Evaluation" in page
    assert "1 of 2" in page  # reviews submitted of expected
    assert "1 Dec 2026" in page


def test_create_call_from_the_criteria_folder(client, coordinator) -> None:
    form = client.get("/calls/new").get_data(as_text=True)
    assert "ai-factories-2024.toml" in form
    response = client.post(
        "/calls/new",
        data={
            "scheme_file": "ai-factories-2024.toml",
            "key": "aif-1",
            "title": "AI Factories, cut-off 1",
            "budget_eur": "1500000.50",
            "deadline": "2026-12-15",
            "anonymise_experts": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/calls/aif-1/")
    call = db.session.scalar(select(Call).where(Call.key == "aif-1"))
    assert call.budget_eur == Decimal("1500000.50")
    assert call.deadline == date(2026, 12, 15)
    assert [c.key for c in call.criteria] == ["compute", "expertise", "funding"]
    assert call.phase is Phase.SETUP


def test_create_call_from_an_uploaded_scheme(client, coordinator) -> None:
    data = {
        "key": "uploaded",
        "title": "Uploaded",
        "scheme_upload": (io.BytesIO(DEMO_SCHEME.read_bytes()), "my-scheme.toml"),
    }
    response = client.post("/calls/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(Call.title).where(Call.key == "uploaded")) == "Uploaded"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'key = "x"\ntitle = "X"\n[scale]\nmin = 0\nmax = 5\n', "bad.toml: criteria: is missing"),
        (b"not = [toml", "bad.toml: not valid TOML"),
        (b"\xff\xfe\x00", "bad.toml: not UTF-8 text"),
        (
            DEMO_SCHEME.read_bytes().replace(b"min_reviews = 3", b"min_reviews = 0"),
            "bad.toml: rules.min_reviews: must be at least 1, got 0",
        ),
    ],
)
def test_an_invalid_uploaded_scheme_is_refused_with_the_check_messages(
    client, coordinator, content, expected
) -> None:
    data = {"key": "bad", "title": "Bad", "scheme_upload": (io.BytesIO(content), "bad.toml")}
    response = client.post("/calls/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert db.session.scalar(select(Call).where(Call.key == "bad")) is None


def test_create_refuses_missing_scheme_taken_key_and_bad_fields(client, coordinator, make_call):
    make_call(key="taken")
    response = client.post("/calls/new", data={"key": "x", "title": "T"})
    assert response.status_code == 400
    assert "choose a scheme file or upload one" in response.get_data(as_text=True)
    response = client.post(
        "/calls/new", data={"key": "taken", "title": "T", "scheme_file": "ai-factories-2024.toml"}
    )
    assert "Another call already uses this key." in response.get_data(as_text=True)
    response = client.post(
        "/calls/new",
        data={
            "key": "bad key!",
            "title": "",
            "budget_eur": "-3",
            "scheme_file": "ai-factories-2024.toml",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Use letters, digits" in page
    assert "This field is required." in page
    assert "The amount must be 0 or more" in page
    response = client.post(
        "/calls/new", data={"key": "x", "title": "T", "scheme_file": "../pyproject.toml"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Call.id).where(Call.key == "x")) is None


def test_edit_call_settings_is_audited(client, coordinator, make_call) -> None:
    call = make_call(budget_eur=Decimal("100"))
    response = client.post(
        f"/calls/{call.key}/edit",
        data={"title": "New title", "budget_eur": "250.25", "deadline": "2027-01-31"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (call.title, call.budget_eur, call.deadline) == (
        "New title",
        Decimal("250.25"),
        date(2027, 1, 31),
    )
    assert call.anonymise_experts is False  # unchecked box
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.update"))
    assert event.data["changes"]["budget_eur"] == ["100.00", "250.25"]


def test_edit_refuses_bad_budget_and_decided_calls(client, coordinator, make_call) -> None:
    call = make_call()
    response = client.post(f"/calls/{call.key}/edit", data={"title": "T", "budget_eur": "1.001"})
    assert response.status_code == 400
    assert "at most two decimals" in response.get_data(as_text=True)
    for amount in ("Infinity", "-NaN", "99999999999999999999"):
        response = client.post(f"/calls/{call.key}/edit", data={"title": "T", "budget_eur": amount})
        assert response.status_code == 400, amount
    # Set by hand: the call is deliberately empty (no proposals), which no phase move allows.
    call.phase = Phase.DECIDED
    db.session.commit()
    response = client.post(f"/calls/{call.key}/edit", data={"title": "Changed"})
    assert response.status_code == 302
    db.session.expire_all()
    assert call.title != "Changed"


def test_scheme_page_shows_what_experts_see(client, coordinator, make_call) -> None:
    call = make_call()
    page = html.unescape(client.get(f"/calls/{call.key}/scheme").get_data(as_text=True))
    for text in (
        "Expertise and services",
        "Does the consortium bring the AI and HPC expertise",
        "Very good: addresses the criterion very well",
        "the total of the criterion scores reaches 10",  # the overall threshold
        "A proposal needs at least 3 submitted reviews",
        "Experts from the proposal's country are not assigned to it.",
    ):
        assert text in page


def test_the_scheme_page_and_the_report_describe_the_rules_in_one_text(
    client, coordinator, make_call
) -> None:
    from reviewer_app.reports.decision import decision_report
    from reviewer_app.reports.records import load_records

    call = make_call()
    page = client.get(f"/calls/{call.key}/scheme").get_data(as_text=True)
    listed = re.search(r'<ul id="scheme-rules">(.*?)</ul>', page, re.S).group(1)
    lines = [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", listed, re.S)]
    report = decision_report(load_records(call), "en")
    assert lines and tuple(lines) == report.method.paragraphs


def test_overview_links_to_every_page_and_shows_why_the_next_step_is_blocked(
    client, coordinator, make_call
) -> None:
    call = make_call()
    page = client.get(f"/calls/{call.key}/").get_data(as_text=True)
    for endpoint in ("proposals", "assignments", "progress", "scheme"):
        assert f"/calls/{call.key}/{endpoint}" in page
    assert "The call has no proposals yet" in page
    assert "Add or import proposals" in page


def test_observers_read_where_the_call_stands_without_calls_to_action(
    make_call, make_proposal, login_as
) -> None:
    call = make_call()
    make_proposal(call)
    page = login_as("observer").get(f"/calls/{call.key}/").get_data(as_text=True)
    assert "Where the call stands" in page
    assert "the coordinator moves it to “Evaluation” next" in page
    # Nothing an observer cannot do: no step to take, no button, no fix to make.
    for action in ("Move the call", "Move to “", "Assign experts", "Add or import proposals"):
        assert action not in page, action
    assert "Proposals with fewer than" not in page


def test_phase_move_through_the_confirmation_page(
    client, coordinator, make_call, make_proposal, make_user, make_assignment
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    for _ in range(3):
        make_assignment(proposal, make_user("expert"))
    page = client.get(f"/calls/{call.key}/phase").get_data(as_text=True)
    assert "Experts see their assignments" in page
    response = client.post(f"/calls/{call.key}/phase", data={"target": "evaluation"})
    assert response.status_code == 302
    db.session.expire_all()
    assert call.phase is Phase.EVALUATION
    # A stale page that asks for a step other than the next one is refused with the reason.
    response = client.post(f"/calls/{call.key}/phase", data={"target": "ranking"})
    assert response.status_code == 400
    assert "one step at a time" in response.get_data(as_text=True)
    # Open reviews: refused until confirmed.
    response = client.post(f"/calls/{call.key}/phase", data={"target": "consensus"})
    assert "Reviews still open: 3" in response.get_data(as_text=True)
    response = client.post(
        f"/calls/{call.key}/phase", data={"target": "consensus", "confirm_open_reviews": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert call.phase is Phase.CONSENSUS


def test_phase_refused_without_enough_experts_shows_the_reason(
    client, coordinator, make_call, make_proposal
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    response = client.post(f"/calls/{call.key}/phase", data={"target": "evaluation"})
    assert response.status_code == 400
    assert f"{proposal.reference} (0/3)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert call.phase is Phase.SETUP


def test_reopen_a_review_with_a_reason(
    client,
    coordinator,
    make_call,
    make_proposal,
    make_user,
    make_assignment,
    make_review,
    smtp_inbox,
) -> None:
    call = make_call()
    expert = make_user("expert", name="Eva Expert")
    assignment = make_assignment(make_proposal(call, acronym="HELIX"), expert)
    plant_phase(call, Phase.EVALUATION)  # one expert: the page needs only the phase
    review = make_review(assignment)
    url = f"/calls/{call.key}/reviews/{review.id}/reopen"
    response = client.post(url, data={"reason": "  "})
    assert response.status_code == 400
    assert "Give a reason for reopening the review." in response.get_data(as_text=True)
    response = client.post(url, data={"reason": "Wrong proposal scored"})
    assert response.status_code == 302
    db.session.expire_all()
    assert review.status is ReviewStatus.DRAFT
    [message] = smtp_inbox.messages
    assert message["To"].addresses[0].addr_spec == expert.email
    assert "HELIX" in message["Subject"]
    assert "Wrong proposal scored" in message.get_content()
    other = make_call()
    assert client.post(f"/calls/{other.key}/reviews/{review.id}/reopen").status_code == 404


def test_reopen_keeps_the_review_submitted_when_the_mail_fails(
    app, client, coordinator, make_call, make_proposal, make_user, make_assignment, make_review
) -> None:
    from tests.conftest import _free_port

    call = make_call()
    assignment = make_assignment(make_proposal(call), make_user("expert"))
    plant_phase(call, Phase.EVALUATION)  # one expert: the page needs only the phase
    review = make_review(assignment)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        response = client.post(
            f"/calls/{call.key}/reviews/{review.id}/reopen", data={"reason": "Typo"}
        )
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert response.status_code == 400
    assert "could not be sent" in response.get_data(as_text=True)
    db.session.expire_all()
    assert review.status is ReviewStatus.SUBMITTED
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.reopen")) is None


def test_unknown_call_is_404(client, coordinator) -> None:
    assert client.get("/calls/nope/").status_code == 404
