"""In chromium: a panel orders the ex aequo group at the funding line with a reason per place
and writes its report; the ranking page, the ranking CSV and the decision report agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from reviewer_app.extensions import db
from reviewer_app.models import Role
from reviewer_app.reports.services import decision_report_pdf
from reviewer_app.reports.verify import embedded_files, page_texts, verify_report
from tests.consensus.helpers import build_tie_at_the_line

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser

REASON_03 = "Stronger plan for start-ups in the region, the first priority of the call."
REASON_02 = "Equal merit; placed after AIF-03 by the panel's vote, 4 to 1."


def test_the_panel_orders_the_tie_at_the_line_and_every_output_agrees(
    live_server, page, make_call, make_proposal, make_user, make_assignment, tmp_path: Path
) -> None:
    # AIF-01 (1 M) funded; AIF-02 and AIF-03 tied, 1 M each, with 2.5 M: the tie goes whole to
    # the reserve list until the panel orders it.
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    sign_in(page, live_server, make_user(Role.COORDINATOR).email)
    page.goto(f"{live_server}/calls/{call.key}/ranking")
    expect(page.locator('tr[data-ref="AIF-03"] [data-col="rank"]')).to_have_text("2=")
    page.get_by_role("link", name="Panel", exact=True).click()
    page.wait_for_url(f"{live_server}/calls/{call.key}/panel")
    group = page.locator("#group-1")
    expect(group.get_by_text("at the funding line")).to_be_visible()
    screenshot(page, "panel-flow-1-tie-at-the-line")

    # A place without its reason is refused, and what was typed stays.
    group.get_by_label("Place of AIF-03", exact=True).fill("1")
    group.get_by_label("Reason for the place of AIF-03").fill(REASON_03)
    group.get_by_label("Place of AIF-02", exact=True).fill("2")
    group.get_by_role("button", name="Save the panel's order").click()
    group = page.locator("#group-1")
    expect(group.get_by_text("Give the panel's reason for the place of AIF-02.")).to_be_visible()
    expect(group.get_by_label("Reason for the place of AIF-03")).to_have_value(REASON_03)
    group.get_by_label("Reason for the place of AIF-02").fill(REASON_02)
    group.get_by_role("button", name="Save the panel's order").click()
    expect(page.get_by_text("The panel's order is saved.")).to_be_visible()

    page.get_by_label("Proposal reference").fill("AIF-04")
    page.get_by_role("textbox", name="The panel's comment").fill(
        "Excellent; first on the reserve list."
    )
    page.get_by_role("button", name="Save the comment").click()
    expect(page.get_by_text("The panel's comment is saved.")).to_be_visible()
    page.get_by_role("textbox", name="The panel's report").fill(
        "The panel met on 2 December and ordered one tie."
    )
    page.get_by_role("button", name="Save the report").click()
    expect(page.get_by_text("The panel's report is saved.")).to_be_visible()
    screenshot(page, "panel-flow-2-ordered")

    page.get_by_role("link", name="Ranking", exact=True).click()
    row = page.locator('tr[data-ref="AIF-03"]')
    expect(row.locator('[data-col="rank"]')).to_have_text("2")
    expect(row.get_by_text("placed by the panel")).to_be_visible()
    expect(page.locator('tr[data-ref="AIF-02"] [data-col="rank"]')).to_have_text("3")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv_path = tmp_path / "ranking.csv"
    download.value.save_as(csv_path)
    csv_text = csv_path.read_text(encoding="utf-8")
    assert "2,AIF-03," in csv_text and "3,AIF-02," in csv_text

    # The decision report: verified, carrying the same ranking and the panel's record (read
    # afresh: the browser's requests changed the call in other sessions).
    db.session.expire_all()
    pdf = decision_report_pdf(call, "en").content
    assert verify_report(pdf, against=call).ok
    assert embedded_files(pdf)["ranking.csv"].decode("utf-8") == csv_text
    text = " ".join(" ".join(page_texts(pdf)).split())
    for words in (REASON_03, "The panel met on 2 December", "Excellent; first on the reserve"):
        assert words in text


def test_the_panel_page_on_a_phone_in_german(
    live_server, browser, make_call, make_proposal, make_user, make_assignment
) -> None:
    """The panel page and the call's settings at 390 px, in German: nothing wider than the
    screen but the tables' own scrolling boxes."""
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    coordinator = make_user(Role.COORDINATOR)
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        sign_in(phone, live_server, coordinator.email)
        phone.goto(f"{live_server}/calls/{call.key}/panel")
        expect(phone.get_by_role("heading", name="Panel-Prüfung")).to_be_visible()
        expect(phone.locator("#group-1").get_by_text("an der Förderlinie")).to_be_visible()
        screenshot(phone, "panel-390-de")
        for path in (f"/calls/{call.key}/panel", f"/calls/{call.key}/edit"):
            phone.goto(f"{live_server}{path}")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at 390 px"
        screenshot(phone, "call-settings-390-de")
    finally:
        context.close()
