"""Real-browser fixtures: the app served on 127.0.0.1 in a thread, Debian's chromium via Playwright.

Screenshots go to test-artifacts/ (kept by CI as artifacts, and for a person to look at).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test application on a free port; yields its base URL."""
    app.config["WTF_CSRF_ENABLED"] = True  # the browser goes through the real forms
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # expect() waits 5 s by default: too tight under load

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    # Generous: a loaded CI machine (two xdist workers, PostgreSQL) must not turn slowness into
    # a failure; a real fault still fails, only later.
    page.set_default_timeout(30_000)
    # Every page runs under the Content-Security-Policy: a refused script or style, or a script
    # error, fails the test that caused it.
    refused: list[str] = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    context.on("weberror", lambda error: refused.append(str(error.error)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    context.close()
    assert not refused, (
        "refused by the Content-Security-Policy or failed in the page:\n" + "\n".join(refused)
    )


def screenshot(page: object, name: str) -> Path:
    """Keep a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def sign_in(page: object, base: str, email: str, password: str | None = None) -> None:
    """Sign in through the real form, in English or German (whichever the page speaks)."""
    from ..conftest import PASSWORD

    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    german = page.locator("html").get_attribute("lang") == "de"  # type: ignore[attr-defined]
    page.get_by_label("E-Mail" if german else "E-mail").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Passwort" if german else "Password").fill(password or PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Anmelden" if german else "Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
