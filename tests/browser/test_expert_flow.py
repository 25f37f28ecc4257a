"""The expert's whole workflow in chromium: sign in, declare, score by label, submit."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from reviewer_app.extensions import db
from reviewer_app.models import Phase, Review, ReviewStatus

from ..factories import plant_phase
from .conftest import screenshot
from .conftest import sign_in as sign_in_as

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
COMMENT = "Well argued, with a credible timeline and committed national co-funding behind it."


@pytest.fixture
def assigned(make_user, make_call, make_proposal, make_assignment):
    expert = make_user("expert", name="Erika Expert")
    call = make_call(title="EuroHPC AI Factories 2024", deadline=date(2030, 1, 31))
    proposal = make_proposal(
        call,
        reference="AIF-2024-ES",
        acronym="BSC AIF",
        title="BSC AI Factory",
        applicant="Barcelona Supercomputing Center (BSC-CNS)",
        requested_funding_eur=Decimal("198000000"),
        summary="Extends the MareNostrum 5 pre-exascale system with AI partitions.",
        extra={"system": "Upgrade of MareNostrum 5", "partner_countries": "PT;RO;TR"},
    )
    assignment = make_assignment(proposal, expert, due_date=date(2030, 1, 15))
    plant_phase(call, Phase.EVALUATION)  # one expert: the pages need only the phase
    return expert, assignment


def sign_in(page, base: str, email: str) -> None:
    sign_in_as(page, base, email)
    page.wait_for_url(f"{base}/expert/")


def test_expert_declares_scores_and_submits(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    expect(page.get_by_role("heading", name="My assignments")).to_be_visible()
    expect(page.get_by_text("Declaration needed")).to_be_visible()
    screenshot(page, "expert-1-assignments")

    page.get_by_role("link", name="Declare and open").click()
    # What the click commits to is said before it is made, for the answer chosen.
    commits_no = page.locator("#commit-no")
    commits_yes = page.locator("#commit-yes")
    expect(commits_no).to_be_hidden()
    page.get_by_label("Yes, I have a conflict of interest").check()
    expect(commits_yes).to_contain_text("closes for you for good")
    expect(commits_no).to_be_hidden()
    page.get_by_label("No, I have no conflict of interest").check()
    expect(commits_no).to_contain_text("no conflict of interest with AIF-2024-ES")
    expect(commits_yes).to_be_hidden()
    page.get_by_label("I will keep the proposal").check()
    screenshot(page, "expert-2-declaration")
    page.get_by_role("button", name="Send declaration").click()
    page.wait_for_url(f"{live_server}/expert/assignments/{assignment.id}")

    page.get_by_label("Compute: 4.5", exact=True).check()
    page.get_by_label("Compute: Comment").fill(COMMENT)
    page.get_by_label("Expertise and services: 3", exact=True).check()
    page.get_by_label("Expertise and services: Comment").fill(COMMENT)
    # Submitting with a criterion left open shows the error beside it and keeps the input.
    page.get_by_role("button", name="Submit").click()
    missing = page.get_by_text("Choose a score for this criterion.")
    expect(missing).to_be_visible()
    assert page.get_by_label("Compute: Comment").input_value() == COMMENT
    expect(page.get_by_label("Compute: 4.5", exact=True)).to_be_checked()
    # The badge follows the input the server did not keep ("Draft" once autosave has it).
    expect(page.locator("#review-state")).to_have_text(re.compile("Not saved yet|Draft"))
    screenshot(page, "expert-3-errors")

    page.get_by_label("Funding and implementation: 2.5", exact=True).check()
    expect(missing).to_have_count(0)  # the error goes as soon as the field is fixed
    notice = page.get_by_text("Please correct the marked fields.")
    expect(notice).to_be_visible()  # the comment is still too short
    page.get_by_label("Funding and implementation: Comment").fill(COMMENT)
    expect(notice).to_be_hidden()
    # The running total and each threshold, while choosing: 4.5 + 3 + 2.5 = 10.
    total = page.locator("#review-total")
    expect(total).to_contain_text("Your total: 10 / 15")
    expect(total.locator("[data-verdict-for=overall]")).to_have_text("met")
    expect(page.locator("[data-verdict-for=funding]")).to_have_text("not met")
    expect(page.locator("[data-verdict-for=compute]")).to_have_text("met")
    screenshot(page, "expert-4-filled")

    # Submitting asks first, with the summary; going back changes nothing.
    page.get_by_role("button", name="Submit").click()
    dialog = page.get_by_role("dialog", name="Submit your evaluation of AIF-2024-ES?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("row", name="Funding and implementation")).to_contain_text(
        "2.5≥ 3: not met"
    )
    expect(dialog.get_by_role("row", name="Your total")).to_contain_text("10≥ 10: met")
    screenshot(page, "expert-4b-summary")
    dialog.get_by_role("button", name="Back to the form").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    dialog.get_by_role("button", name="Submit evaluation").click()
    expect(page.get_by_text("Your review is submitted")).to_be_visible()
    expect(page.get_by_text("The review is read-only")).to_be_visible()
    screenshot(page, "expert-5-submitted")

    page.get_by_role("link", name="My assignments").first.click()
    expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
    screenshot(page, "expert-6-assignments-after")

    db.session.expire_all()
    review = db.session.get(Review, assignment.review.id)
    assert review.status is ReviewStatus.SUBMITTED
    assert sorted(str(s.value) for s in review.scores) == ["2.50", "3.00", "4.50"]


def test_scoring_form_in_german(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="Meine Zuweisungen")).to_be_visible()
    page.get_by_role("link", name="Erklären und öffnen").click()
    page.get_by_label("Nein, ich habe keinen Interessenkonflikt").check()
    page.get_by_label("Ich behandle den Antrag").check()
    screenshot(page, "expert-de-declaration")
    page.get_by_role("button", name="Erklärung absenden").click()
    page.get_by_label("Rechenleistung: 4,5", exact=True).check()
    page.get_by_label("Rechenleistung: Kommentar").fill(COMMENT)
    expect(page.get_by_text("198.000.000,00 EUR")).to_be_visible()
    screenshot(page, "expert-de-form")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.get_by_text("Entwurf gespeichert").first).to_be_visible()
    expect(page.get_by_label("Rechenleistung: 4,5", exact=True)).to_be_checked()


def test_autosave_keeps_typing_without_a_click(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    page.get_by_label("Compute: 4", exact=True).check()
    page.get_by_label("Compute: Comment").fill("Typed, never saved by hand")
    # Hiding the page (switching tabs, closing the laptop) saves the draft at once.
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {value: 'hidden'});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.get_by_text("Draft saved").wait_for()
    screenshot(page, "expert-autosaved")
    db.session.expire_all()
    review = db.session.scalars(db.select(Review)).one()
    assert review.status is ReviewStatus.DRAFT
    assert {s.comment for s in review.scores} >= {"Typed, never saved by hand"}
    # The page carries the new version: a click on "Save draft" is not refused as stale.
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()


def _autosaves_fail(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on the application server is gone behind its proxy: every background save is
    answered 502, as a reverse proxy answers for a server that is down. Done in the server, not
    with the browser's request interception: Chromium does not always let Playwright intercept a
    ``keepalive`` request (the save sent as a tab is hidden), which then reached the server.
    Returns the paths refused so far."""
    refused: list[str] = []
    wsgi_app = app.wsgi_app

    def gone(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/autosave"):
            refused.append(environ["PATH_INFO"])
            start_response("502 Bad Gateway", [("Content-Type", "text/html; charset=utf-8")])
            return [b"<h1>502 Bad Gateway</h1>"]
        return wsgi_app(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", gone)
    return refused


def test_unsaved_input_comes_back_from_the_browser_copy(
    live_server: str, page, assigned, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    # The server is gone: every background save fails.
    refused = _autosaves_fail(app, monkeypatch)
    page.get_by_label("Expertise and services: 3.5", exact=True).check()
    page.get_by_label("Expertise and services: Comment").fill("Typed while offline")
    # Hiding the page (a tab being closed) writes the browser's copy at once, not 300 ms later.
    kept = page.evaluate(
        "key => { Object.defineProperty(document, 'visibilityState',"
        " {value: 'hidden', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange'));"
        " return localStorage.getItem(key); }",
        f"reviewer_app:review:{assignment.id}:{expert.id}",
    )
    assert "Typed while offline" in (kept or "")
    expect(page.get_by_text("Draft not saved")).to_be_visible()
    assert refused  # the save on the way out was sent, and failed

    # The browser crashed or the tab was killed: no chance to save on the way out. Opening the
    # review again (here: in a new tab of the same browser) brings the input back.
    again = page.context.new_page()
    again.goto(f"{live_server}/expert/assignments/{assignment.id}")
    expect(again.get_by_text("We restored input that this browser kept")).to_be_visible()
    comment = again.get_by_label("Expertise and services: Comment")
    expect(comment).to_have_value("Typed while offline")
    expect(again.get_by_label("Expertise and services: 3.5", exact=True)).to_be_checked()
    screenshot(again, "expert-restored-from-browser")

    again.get_by_role("button", name="Discard it").click()
    expect(comment).to_have_value("")
    again.reload()
    expect(again.get_by_text("We restored input that this browser kept")).to_be_hidden()


def test_demo_expert_scores_the_open_proposal(live_server: str, page, app_ctx) -> None:
    """Section 6 of the issue, on the seeded demo: the expert with work left does it."""
    from reviewer_app.demo import seed_demo

    seed = seed_demo()
    db.session.commit()
    login = next(entry for entry in seed.logins if entry.role == "expert")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(login.email)
    page.get_by_label("Password").fill(seed.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/expert/")
    screenshot(page, "demo-expert-assignments")

    page.get_by_role("link", name="Declare and open").first.click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    for title, value in (
        ("Compute", "4"),
        ("Expertise and services", "3.5"),
        ("Funding and implementation", "3"),
    ):
        page.get_by_label(f"{title}: {value}", exact=True).check()
        page.get_by_label(f"{title}: Comment").fill(COMMENT)
    screenshot(page, "demo-expert-form")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("dialog").get_by_role("button", name="Submit evaluation").click()
    expect(page.get_by_text("Your review is submitted")).to_be_visible()
    expect(page.get_by_text("The review is read-only")).to_be_visible()
    screenshot(page, "demo-expert-submitted")


def test_a_save_from_a_stale_tab_is_refused(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    other_tab = page.context.new_page()
    other_tab.goto(page.url)

    other_tab.get_by_label("Compute: Comment").fill("Saved first, in the other tab")
    other_tab.get_by_role("button", name="Save draft").click()
    expect(other_tab.get_by_text("Draft saved.")).to_be_visible()

    page.get_by_label("Compute: Comment").fill("Typed in the older tab")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Not saved: a newer version exists.")).to_be_visible()
    expect(page.get_by_label("Compute: Comment")).to_have_value("Typed in the older tab")
    screenshot(page, "expert-stale-save")
    # Autosave stays off on the refused page: only a click may replace the other tab's save.
    page.get_by_label("Compute: Comment").fill("Typed in the older tab, more")
    # An autosave would call fetch() inside the event handler: count the calls instead of waiting.
    autosaves = page.evaluate(
        "() => { let calls = 0; const real = window.fetch;"
        " window.fetch = (url, init) => { if (String(url).endsWith('/autosave')) calls += 1;"
        " return real(url, init); };"
        " Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange'));"
        " window.dispatchEvent(new Event('pagehide'));"
        " return calls; }"
    )
    assert autosaves == 0
    db.session.expire_all()
    review = db.session.scalars(db.select(Review)).one()
    assert "Saved first, in the other tab" in {s.comment for s in review.scores}


def test_input_sent_after_the_session_expired_comes_back(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    page.get_by_label("Funding and implementation: 2", exact=True).check()
    page.get_by_label("Funding and implementation: Comment").fill(COMMENT)
    # The session expires while the expert writes: ended on the server, as the idle timeout
    # ends it. (Clearing the browser's cookies raced a save in flight, whose answer set the
    # cookie again.)
    from reviewer_app.auth.sessions import EndReason, end_other_sessions

    assert end_other_sessions(expert, EndReason.IDLE) >= 1
    db.session.commit()

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Your session had expired")).to_be_visible()
    page.get_by_label("E-mail").fill(expert.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/expert/assignments/{assignment.id}")
    expect(page.get_by_text("We restored your unsaved input.")).to_be_visible()
    expect(page.get_by_label("Funding and implementation: Comment")).to_have_value(COMMENT)
    expect(page.get_by_label("Funding and implementation: 2", exact=True)).to_be_checked()
    screenshot(page, "expert-restored-after-sign-in")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()


def test_declaring_a_conflict_closes_the_proposal(live_server: str, page, assigned) -> None:
    expert, assignment = assigned
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    reason = page.get_by_label("Reason for the conflict")
    confidentiality = page.get_by_label("I will keep the proposal")
    page.get_by_label("Yes, I have a conflict of interest").check()
    expect(reason).to_be_visible()
    expect(confidentiality).to_be_hidden()
    page.get_by_label("No, I have no conflict of interest").check()
    expect(reason).to_be_hidden()
    expect(confidentiality).to_be_visible()
    page.get_by_label("Yes, I have a conflict of interest").check()
    reason.fill("I advised the applicant on its hosting bid in 2023.")
    screenshot(page, "expert-conflict-declaration")
    page.get_by_role("button", name="Send declaration").click()
    page.wait_for_url(f"{live_server}/expert/")
    expect(page.get_by_text("Your conflict of interest is recorded.")).to_be_visible()
    expect(page.get_by_text("Conflict declared")).to_be_visible()
    expect(page.get_by_role("link", name="Declare and open")).to_have_count(0)
    response = page.goto(f"{live_server}/expert/assignments/{assignment.id}")
    assert response.status == 404


def test_expert_downloads_the_ier_then_declares_a_late_conflict(
    live_server: str, page, assigned, make_user, smtp_inbox
) -> None:
    """The individual evaluation report, then a conflict found after opening (issue 13)."""
    expert, assignment = assigned
    coordinator = make_user("coordinator", name="Cora Coordinator")
    sign_in(page, live_server, expert.email)
    page.get_by_role("link", name="Declare and open").click()
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_label("I will keep the proposal").check()
    page.get_by_role("button", name="Send declaration").click()
    page.get_by_label("Compute: 4.5", exact=True).check()
    page.get_by_label("Compute: Comment").fill(COMMENT)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()

    with page.expect_download() as download:
        page.locator("#ier-download").click()
    saved = download.value
    assert saved.suggested_filename == "AIF-2024-ES-individual-evaluation-en.pdf"
    assert Path(saved.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_text("Found a conflict of interest?").click()
    page.get_by_label("Reason for the conflict").fill("I co-authored the hosting plan in 2023.")
    page.get_by_role("button", name="Declare the conflict").click()
    # Not without the confirmation: the form stays open with the reason kept.
    expect(page.get_by_text("Please confirm that your review stops counting.")).to_be_visible()
    expect(page.get_by_label("Reason for the conflict")).to_have_value(
        "I co-authored the hosting plan in 2023."
    )
    page.get_by_label("I understand that my review").check()
    screenshot(page, "expert-7-late-conflict")
    page.get_by_role("button", name="Declare the conflict").click()
    page.wait_for_url(f"{live_server}/expert/")
    expect(page.get_by_text("Your conflict of interest is recorded")).to_be_visible()
    assert page.goto(f"{live_server}/expert/assignments/{assignment.id}").status == 404

    [notice] = smtp_inbox.messages
    assert notice["To"].addresses[0].addr_spec == coordinator.email
    db.session.expire_all()
    review = db.session.get(Review, assignment.review.id)
    assert review is not None and review.assignment.has_conflict
