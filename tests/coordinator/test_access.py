"""Who may do what: observers read the list, overview and dashboard; nobody but a coordinator
changes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase

MY_MODULES = {
    "reviewer_app.coordinator.views",
    "reviewer_app.coordinator.proposal_views",
    "reviewer_app.coordinator.expert_views",
    "reviewer_app.coordinator.progress_views",
}


def _routes(app, method: str) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if method in rule.methods and view.__module__ in MY_MODULES:
            routes.append((rule.endpoint, rule.rule))
    return sorted(routes)


def _url(rule: str, call_key: str, ids: dict[str, int]) -> str:
    url = rule.replace("<key>", call_key)
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value))
    return url


@pytest.fixture
def world(make_call, make_proposal, make_user, make_assignment, make_review):
    call = make_call(phase=Phase.EVALUATION)
    proposal = make_proposal(call)
    expert = make_user("expert")
    review = make_review(make_assignment(proposal, expert))
    return call, {
        "proposal_id": proposal.id,
        "review_id": review.id,
        "document_id": 1,
        "user_id": expert.id,
    }


def test_every_post_route_is_listed(app) -> None:
    endpoints = {e for e, _ in _routes(app, "POST")}
    assert {"coordinator.new_call", "coordinator.toggle", "coordinator.remind"} <= endpoints
    assert len(endpoints) >= 14


@pytest.mark.parametrize("role", ["observer", "expert"])
def test_every_post_is_forbidden_to_observers_and_experts(
    app, client, make_user, login_as, world, role
) -> None:
    call, ids = world
    login_as(make_user(role))
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for endpoint, rule in _routes(app, "POST"):
        response = client.post(_url(rule, call.key, ids), data={"reason": "x", "title": "x"})
        assert response.status_code == 403, endpoint
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before  # nothing happened


def test_signed_out_users_are_sent_to_sign_in(app, client, world) -> None:
    call, ids = world
    for _endpoint, rule in _routes(app, "GET"):
        response = client.get(_url(rule, call.key, ids))
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_experts_see_no_coordinator_page(app, client, make_user, login_as, world) -> None:
    call, ids = world
    login_as(make_user("expert"))
    for endpoint, rule in _routes(app, "GET"):
        assert client.get(_url(rule, call.key, ids)).status_code == 403, endpoint


def test_observers_read_list_overview_and_dashboard_without_forms(
    app, client, make_user, login_as, world
) -> None:
    call, ids = world
    login_as(make_user("observer"))
    readable = {"coordinator.calls", "coordinator.call_detail", "coordinator.progress"}
    readable.add("coordinator.call_scheme")
    for endpoint, rule in _routes(app, "GET"):
        response = client.get(_url(rule, call.key, ids))
        if endpoint in readable:
            assert response.status_code == 200, endpoint
            page = response.get_data(as_text=True)
            main = page[page.index('<main id="main"') :]
            assert 'method="post"' not in main, endpoint
            assert "/calls/new" not in main
            assert f"/calls/{call.key}/phase" not in main
            assert f"/calls/{call.key}/edit" not in main
        else:
            assert response.status_code == 403, endpoint
