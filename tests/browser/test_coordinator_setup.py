"""A coordinator sets up a call in chromium: scheme, CSV import, experts, auto-assignment,
evaluation. Screenshots of every step go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import Assignment, Call, Phase

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

PROPOSALS_CSV = (
    "reference,acronym,title,applicant,country,requested_funding_eur\n"
    "AIF-01,JUPITER-AI,Jupiter AI Factory,Forschungszentrum Jülich,DE,40000000\n"
    "AIF-02,MN5-AI,MareNostrum 5 AI Factory,Barcelona Supercomputing Center,ES,35000000\n"
    "AIF-03,IT4LIA,IT4LIA AI Factory,CINECA,IT,45000000\n"
)
EXPERTS = [
    ("Anna Berg", "anna.berg@example.org", "KTH", "SE", "HPC, procurement"),
    ("Jean Martin", "jean.martin@example.org", "CNRS", "FR", "machine learning"),
    ("Eva Novak", "eva.novak@example.org", "IT4I", "CZ", "AI services, training"),
    ("Pieter de Vries", "pieter@example.org", "SURF", "NL", "data centres"),
]


def _pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_coordinator_sets_up_a_call(live_server: str, page, make_user) -> None:
    coordinator = make_user("coordinator", name="Clara Coordinator")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(coordinator.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/calls/")
    expect(page.get_by_text("No calls yet")).to_be_visible()
    screenshot(page, "coordinator-01-no-calls")

    page.get_by_role("link", name="New call").first.click()
    page.get_by_label("Scheme from the criteria folder").select_option("ai-factories-2024.toml")
    page.get_by_label("Key").fill("aif-2024")
    page.get_by_label("Title").fill("EuroHPC AI Factories, first cut-off")
    page.get_by_label("Budget (EUR)").fill("80000000")
    page.get_by_label("Deadline for reviews").fill("2026-12-20")
    screenshot(page, "coordinator-02-new-call")
    page.get_by_role("button", name="Create call").click()
    page.wait_for_url(f"{live_server}/calls/aif-2024/")
    expect(page.get_by_text("The call has no proposals yet")).to_be_visible()
    screenshot(page, "coordinator-03-overview-empty")

    page.get_by_role("link", name="Scheme as experts see it").click()
    expect(page.get_by_role("heading", name="Criteria")).to_be_visible()
    screenshot(page, "coordinator-04-scheme")

    page.get_by_role("link", name="Proposals", exact=True).click()
    page.get_by_role("link", name="Import CSV or JSON").click()
    page.get_by_label("File").set_input_files(
        {"name": "proposals.csv", "mimeType": "text/csv", "buffer": PROPOSALS_CSV.encode()}
    )
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r".*/proposals$"))
    expect(page.get_by_text("Proposals imported: 3.")).to_be_visible()
    expect(page.get_by_role("link", name="AIF-03")).to_be_visible()
    screenshot(page, "coordinator-05-proposals")

    page.get_by_role("link", name="AIF-01").click()
    page.get_by_label("File").set_input_files(
        {"name": "AIF-01 Part B.pdf", "mimeType": "application/pdf", "buffer": _pdf()}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("AIF-01 Part B.pdf is attached.")).to_be_visible()
    expect(page.get_by_role("link", name="AIF-01 Part B.pdf")).to_be_visible()
    screenshot(page, "coordinator-05b-proposal")

    page.get_by_role("link", name="Experts and assignment").first.click()
    for name, email, organisation, country, keywords in EXPERTS:
        page.get_by_role("link", name="Invite expert").first.click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Organisation").fill(organisation)
        page.get_by_label("Country").fill(country)
        page.get_by_label("Expertise keywords").fill(keywords)
        if name == EXPERTS[0][0]:
            screenshot(page, "coordinator-06-invite")
        page.get_by_role("button", name="Invite expert").click()
        page.wait_for_url(re.compile(r".*/assignments$"))
        expect(page.get_by_text(f"{name} is invited")).to_be_visible()

    page.get_by_role("button", name="Assign automatically").click()
    expect(page.get_by_text("9 new assignments, 3 rapporteurs chosen")).to_be_visible()
    screenshot(page, "coordinator-07-matrix")
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name=re.compile("Move to “Evaluation”")).click()
    screenshot(page, "coordinator-08-confirm-phase")
    page.get_by_role("button", name=re.compile("Yes, move to")).click()
    page.wait_for_url(f"{live_server}/calls/aif-2024/")
    expect(page.get_by_text("The call is now in the phase “Evaluation”.")).to_be_visible()
    screenshot(page, "coordinator-09-evaluation")

    page.get_by_role("link", name="Progress", exact=True).click()
    expect(page.get_by_role("button", name="Remind every expert with open reviews")).to_be_visible()
    screenshot(page, "coordinator-10-progress")

    # The same page in German, reached with the keyboard-usable language switch.
    page.get_by_label("Language").select_option("de")
    page.get_by_role("heading", name="Pro Gutachter").wait_for()
    expect(
        page.get_by_role("button", name="Alle Gutachter mit offenen Gutachten erinnern")
    ).to_be_visible()
    screenshot(page, "coordinator-11-progress-de")

    db.session.expire_all()
    call = db.session.scalar(select(Call).where(Call.key == "aif-2024"))
    assert call.phase is Phase.EVALUATION
    assert db.session.scalar(select(func.count(Assignment.id))) == 9


def test_a_blocked_cell_tells_its_reason_on_a_tap(
    live_server: str, browser, make_call, make_proposal, make_user
) -> None:
    """A title needs a mouse to hover; on a phone the reason comes with a tap, and goes with
    the next one."""
    call = make_call()
    make_proposal(call, reference="AIF-ES", country="ES")
    make_user("expert", name="Elena Spain", country="ES")
    coordinator = make_user("coordinator")
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server, coordinator.email)
        page.goto(f"{live_server}/calls/{call.key}/assignments")
        cell = page.get_by_role("button", name="— same country as the proposal")
        reason = page.get_by_role("note")
        expect(reason).to_have_count(0)
        cell.click()
        expect(reason).to_have_text("same country as the proposal")
        expect(cell).to_have_attribute("aria-expanded", "true")
        screenshot(page, "assignments-reason-390")
        cell.click()
        expect(reason).to_have_count(0)
    finally:
        context.close()


def test_a_form_the_server_works_on_shows_it_and_cannot_be_sent_twice(
    live_server: str, page, make_call, make_user
) -> None:
    """While the server works on a form, its buttons are disabled (a second click sends
    nothing) and the pressed one shows a spinner; a declined confirmation leaves the form as it
    was. The submit event is dispatched without sending the form: the browser test tool cannot
    read a page while that page's own navigation is under way."""
    call = make_call()
    coordinator = make_user("coordinator")
    sign_in(page, live_server, coordinator.email)
    page.goto(f"{live_server}/calls/{call.key}/proposals/import")
    button = page.locator("form[enctype] button[type=submit]")
    submit = """(declined) => {
        const form = document.querySelector("form[enctype]");
        if (declined) {
            form.addEventListener("submit", (event) => event.preventDefault(), {once: true});
        }
        const button = form.querySelector("button[type=submit]");
        form.dispatchEvent(new SubmitEvent("submit", {submitter: button, cancelable: true}));
    }"""
    page.evaluate(submit, True)  # as a declined confirmation or a summary shown first
    expect(button).to_be_enabled()
    expect(button.get_by_role("status")).to_have_count(0)
    page.evaluate(submit, False)
    expect(button).to_be_disabled()
    expect(button.get_by_role("status")).to_have_text("Working…")
    expect(page.locator("form[enctype]")).to_have_attribute("aria-busy", "true")
