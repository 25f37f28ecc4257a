"""In chromium: the analytics page beside the ranking (issue 14), in English on a laptop and
in German on a phone: the charts are drawn, the tables readable, nothing wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reviewer_app.models import Role
from tests.consensus.helpers import build_tie_at_the_line

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_the_analytics_page_in_english_and_on_a_phone_in_german(
    live_server, page, browser, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    observer = make_user(Role.OBSERVER)
    sign_in(page, live_server, observer.email)
    page.goto(f"{live_server}/calls/{call.key}/ranking")
    page.get_by_role("link", name="Analytics", exact=True).click()
    page.wait_for_url(f"{live_server}/calls/{call.key}/analytics")
    expect(page.get_by_role("heading", name="Agreement between the experts")).to_be_visible()
    # Totals 13.5 x3, 12 x3, 12 x3, (9, 11.5, 11), 10 x3, 12 x2, 10 x3: alpha = 1 - D_o/D_e
    # = 0.8524 by hand.
    expect(page.locator('#agreement tr[data-key="total"] [data-col="alpha"]')).to_have_text("0.852")
    # The charts are real SVG with a bar per proposal around the line and one per expert.
    expect(page.locator("#intervals-chart svg line[stroke-width='5']")).to_have_count(5)
    expect(page.locator("#offsets-chart svg rect")).to_have_count(3)
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    screenshot(page, "analytics-1280-en")

    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        sign_in(phone, live_server, observer.email)
        phone.goto(f"{live_server}/calls/{call.key}/analytics")
        expect(phone.get_by_role("heading", name="Übereinstimmung der Gutachter")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the analytics page is {width} px wide at 390 px"
        screenshot(phone, "analytics-390-de")
    finally:
        context.close()


def test_the_drawn_lottery_reads_on_a_phone_in_german(
    live_server, app, browser, make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    """The lottery's table (issue 14) in German at 390 px: every column in view, none scrolled
    out of its box."""
    from tests.coordinator.test_lottery import line_call

    # The scene through the test client's forms, which send no CSRF token (the browser's do).
    app.config["WTF_CSRF_ENABLED"] = False
    call, client = line_call(make_call, make_proposal, make_user, make_assignment, login_as)
    assert client.post(f"/calls/{call.key}/analytics/lottery-draw").status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True
    observer = make_user(Role.OBSERVER)
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        sign_in(phone, live_server, observer.email)
        phone.goto(f"{live_server}/calls/{call.key}/analytics")
        table = phone.locator("#lottery-result")
        expect(
            table.get_by_role(
                "columnheader", name="Förder\u00adwahr\u00adschein\u00adlich\u00adkeit"
            )
        ).to_be_visible()
        table.scroll_into_view_if_needed()
        screenshot(phone, "lottery-390-de")
        box = table.evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert box[0] <= box[1], f"the lottery table is {box[0]} px wide in a {box[1]} px box"
    finally:
        context.close()
