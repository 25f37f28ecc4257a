"""The browser harness itself: chromium reaches the served app and signs in."""

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_sign_in_page_in_chromium(live_server: str, page, make_user) -> None:
    user = make_user("coordinator")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/calls/")
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()
    assert screenshot(page, "smoke-signed-in").exists()
