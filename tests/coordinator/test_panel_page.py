"""The panel review page: the ties the rules leave, ordered with reasons, comments, report."""

from __future__ import annotations

import re

import pytest

from reviewer_app.extensions import db
from reviewer_app.models import Role
from reviewer_app.panel import panel_order
from reviewer_app.ranking import rank_call
from tests.conftest import PASSWORD
from tests.consensus.helpers import build_tie_at_the_line

REASON = "Closer to the call priority on start-ups."


@pytest.fixture
def scenario(make_call, make_proposal, make_user, make_assignment):
    return build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)


def order_form(first: str, second: str, reason_second: str = "Second by the panel's vote.") -> dict:
    return {
        "members-0-reference": first,
        "members-0-place": "1",
        "members-0-reason": REASON,
        "members-1-reference": second,
        "members-1-place": "2",
        "members-1-reason": reason_second,
        "save": "Save",
    }


def test_the_coordinator_orders_the_tie_at_the_line(scenario, make_user, login_as) -> None:
    call, _proposals = scenario
    client = login_as(make_user(Role.COORDINATOR))
    page = client.get(f"/calls/{call.key}/panel").get_data(as_text=True)
    assert "at the funding line" in page
    assert 'data-reference="AIF-02"' in page and 'data-reference="AIF-03"' in page
    answer = client.post(f"/calls/{call.key}/panel", data=order_form("AIF-03", "AIF-02"))
    assert answer.status_code == 302
    assert dict(panel_order(call)) == {"AIF-03": 1, "AIF-02": 2}
    page = client.get(f"/calls/{call.key}/panel").get_data(as_text=True)
    assert "The panel&#39;s order is saved." in page and REASON in page
    ranking = client.get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    assert "placed by the panel" in ranking
    assert rank_call(call).row("AIF-03").status.value == "main"


def test_a_missing_reason_keeps_what_was_typed(scenario, make_user, login_as) -> None:
    call, _proposals = scenario
    client = login_as(make_user(Role.COORDINATOR))
    answer = client.post(f"/calls/{call.key}/panel", data=order_form("AIF-03", "AIF-02", ""))
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Give the panel&#39;s reason for the place of AIF-02." in page
    assert REASON in page  # the first reason, typed, is still in its box
    assert panel_order(call) == ()


def test_comments_and_the_report_from_the_page(scenario, make_user, login_as) -> None:
    call, _proposals = scenario
    client = login_as(make_user(Role.COORDINATOR))
    sent = client.post(
        f"/calls/{call.key}/panel",
        data={"reference": "AIF-04", "comment": "Excellent, over budget.", "save_comment": "1"},
    )
    assert sent.status_code == 302
    unknown = client.post(
        f"/calls/{call.key}/panel",
        data={"reference": "NOPE-1", "comment": "Lost?", "save_comment": "1"},
    )
    assert unknown.status_code == 400
    assert "The call has no proposal NOPE-1." in unknown.get_data(as_text=True)
    assert "Lost?" in unknown.get_data(as_text=True)
    client.post(f"/calls/{call.key}/panel", data={"report": "We met twice.", "save_report": "1"})
    db.session.expire_all()
    assert call.panel_report == "We met twice."
    # The observer reads it all, with no form to send.
    observer = login_as(make_user(Role.OBSERVER)).get(f"/calls/{call.key}/panel")
    html = observer.get_data(as_text=True)
    assert "Excellent, over budget." in html and "We met twice." in html
    assert 'method="post"' not in html.split("<main", 1)[1]


def test_a_call_without_a_panel_says_so(make_call, make_user, login_as) -> None:
    call = make_call()
    client = login_as(make_user(Role.COORDINATOR))
    page = client.get(f"/calls/{call.key}/panel").get_data(as_text=True)
    assert "This call has no panel review" in page
    refused = client.post(
        f"/calls/{call.key}/panel", data={"report": "x", "save_report": "1"}, follow_redirects=True
    )
    assert "This call has no panel review." in refused.get_data(as_text=True)
    assert call.panel_report == ""


def test_the_panels_report_sent_after_the_session_expired_comes_back(
    scenario, make_user, login_as, app
) -> None:
    call, _proposals = scenario
    coordinator = make_user(Role.COORDINATOR)
    page = login_as(coordinator).get(f"/calls/{call.key}/panel").get_data(as_text=True)
    report_form = page[page.index('id="report-heading"') :]
    ticket = re.search(r'name="_stash" value="([^"]+)"', report_form)
    assert ticket, "the report's form carries no stash ticket"
    text = "The panel met for two days; written over a long afternoon, then the session ended."
    expired = app.test_client()
    answer = expired.post(
        f"/calls/{call.key}/panel",
        data={"report": text, "save_report": "1", "_stash": ticket.group(1)},
    )
    assert "kept=1" in answer.headers["Location"]
    db.session.expire_all()
    assert call.panel_report == ""
    expired.post("/login", data={"email": coordinator.email, "password": PASSWORD})
    restored = expired.get(f"/calls/{call.key}/panel").get_data(as_text=True)
    assert "We restored your unsaved input." in restored and text in restored


def test_an_order_of_no_group_says_why_and_a_wrong_place_is_marked(
    scenario, make_user, login_as
) -> None:
    call, _proposals = scenario
    client = login_as(make_user(Role.COORDINATOR))
    extra = order_form("AIF-03", "AIF-02") | {
        "members-2-reference": "AIF-04",
        "members-2-place": "3",
        "members-2-reason": "Not in the tie.",
    }
    answer = client.post(f"/calls/{call.key}/panel", data=extra)
    assert answer.status_code == 400
    assert "not one ex aequo group of the ranking as it stands" in answer.get_data(as_text=True)
    wrong = order_form("AIF-03", "AIF-02") | {"members-1-place": "0"}
    answer = client.post(f"/calls/{call.key}/panel", data=wrong)
    assert answer.status_code == 400
    assert "Number must be between 1 and" in answer.get_data(as_text=True)
    assert panel_order(call) == ()


def test_a_tie_of_hundreds_of_proposals_gets_its_form(make_user) -> None:
    # Six hundred tied members (a large call without a tie-break): the form is built for all.
    from reviewer_app.coordinator.forms import PanelOrderForm

    members = [{"reference": f"P-{i:03}", "place": None, "reason": ""} for i in range(600)]
    with_rows = PanelOrderForm(formdata=None, data={"members": members}, meta={"csrf": False})
    assert len(with_rows.members.entries) == 600
