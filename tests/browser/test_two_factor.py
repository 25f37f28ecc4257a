"""Two-factor sign-in in chromium: a coordinator is sent to enrolment, scans, keeps the recovery
codes, and signs in again with a code (pyotp plays the authenticator app)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def two_factor_for_coordinators(app: Flask) -> Iterator[None]:
    app.config["TWO_FACTOR_REQUIRED_FOR"] = "coordinator"
    yield
    app.config["TWO_FACTOR_REQUIRED_FOR"] = "none"


def test_coordinator_enrols_and_signs_in_with_a_code(
    live_server: str, page, make_user, make_call, two_factor_for_coordinators
) -> None:
    make_call(title="EuroHPC AI Factories 2024")
    coordinator = make_user("coordinator", name="Clara Coordinator")

    page.goto(f"{live_server}/calls/")
    page.get_by_label("E-mail").fill(coordinator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Sent to enrolment before any call page.
    page.wait_for_url(f"{live_server}/account/two-factor")
    expect(page.get_by_text("Your role needs two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    screenshot(page, "two-factor-1-setup")
    secret = page.locator("#totp-key").inner_text().replace(" ", "")
    page.goto(f"{live_server}/calls/")
    page.wait_for_url(f"{live_server}/account/two-factor")
    # The key stays the same while the set-up is not finished.
    assert page.locator("#totp-key").inner_text().replace(" ", "") == secret

    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    screenshot(page, "two-factor-2-recovery-codes")
    page.get_by_role("link", name="I have kept them, go on").click()
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail").fill(coordinator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/login/code")
    screenshot(page, "two-factor-3-code")
    # The code of the next time step: the current one was spent on enrolment.
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()


def test_the_sign_in_pages_on_a_phone_in_german(live_server: str, browser, make_user) -> None:
    """The new pages at 390 px, in German: nothing wider than the screen."""
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        user = make_user("expert", name="Erika Expert")
        phone.goto(f"{live_server}/login")
        expect(phone.get_by_role("heading", name="Anmelden")).to_be_visible()
        screenshot(phone, "sign-in-390-de")
        phone.get_by_label("E-Mail").fill(user.email)
        phone.get_by_label("Passwort").fill(PASSWORD)
        # What was typed can be shown, and hidden again (OWASP ASVS 2.1.12).
        phone.get_by_role("button", name="Passwort anzeigen").click()
        expect(phone.get_by_label("Passwort")).to_have_attribute("type", "text")
        phone.get_by_role("button", name="Passwort verbergen").click()
        expect(phone.get_by_label("Passwort")).to_have_attribute("type", "password")
        phone.get_by_role("button", name="Anmelden").click()
        phone.wait_for_url(f"{live_server}/expert/")
        phone.goto(f"{live_server}/account")
        expect(phone.get_by_role("heading", name="Konto")).to_be_visible()
        screenshot(phone, "account-390-de")
        phone.goto(f"{live_server}/account/two-factor")
        screenshot(phone, "two-factor-setup-390-de")
        for path in ("/account", "/account/two-factor", "/password/forgot"):
            phone.goto(f"{live_server}{path}")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at 390 px"
    finally:
        context.close()
