"""In chromium: the consensus form says, while the scores change, what they mean: each criterion
against its threshold, the total against the overall threshold, the change from the reviews'
aggregate, and a warning when the consensus crosses a threshold. The page the server sends and
the page after the script has run say the same thing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reviewer_app.extensions import db
from reviewer_app.models import ConsensusReport, ConsensusStatus
from tests.consensus.helpers import GREEK, build_panel

from .conftest import screenshot
from .test_decisions_flow import sign_in, sign_out

pytestmark = pytest.mark.browser

WHY = "The ministry confirmed the co-funding in writing after the reviews were written."


def test_the_consensus_form_shows_thresholds_totals_and_crossings_live(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    p = build_panel(make_call, make_proposal, make_user, make_assignment, GREEK)
    url = f"{live_server}/consensus/proposals/{p.proposal.id}"
    sign_in(page, live_server, p.rapporteur)
    page.goto(url)

    form = page.locator("#consensus-form")
    effect = page.locator("#consensus-effect")
    total = effect.locator("[data-value='total']")
    change = effect.locator("[data-value='total-change']")
    fail_to_pass = page.locator("#turn-fail-to-pass")
    crossed = page.locator("#threshold-crossed")
    required = page.locator("#justification-required")

    def score(criterion: str):
        return page.get_by_role("group", name=criterion).get_by_label("Score")

    def criterion_effect(key: str):
        return page.locator(f"#effect-{key}")

    # The suggested scores (3.5, 3.5, 3) are the rounded means: a total of 10, where the
    # reviews' 9.83 is below the overall threshold. The page says so before anything is typed.
    assert total.inner_text() == "10.00" and change.inner_text() == "+0.17"
    expect(fail_to_pass).to_be_visible()
    expect(required).to_be_visible()
    expect(crossed).to_be_hidden()
    assert "9.83" in effect.inner_text()
    screenshot(page, "consensus-form-1-rounding-lifts-the-total")

    # Funding 2.5 fails its threshold, where the reviews' 3.17 meets it; the total (9.5) stays
    # below 10 like the reviews': a crossing, but no longer a turn from fail to pass.
    score("Funding and implementation").select_option("2.5")
    assert total.inner_text() == "9.50" and change.inner_text() == "\u22120.33"
    funding = criterion_effect("funding")
    expect(funding.locator("[data-show-when='not-met:funding']")).to_be_visible()
    expect(funding.locator("[data-show-when='met:funding']")).to_be_hidden()
    assert funding.locator("[data-value='change:funding']").inner_text() == "\u22120.67"
    expect(funding.locator("[data-show-when='crosses:funding']")).to_be_visible()
    expect(crossed).to_be_visible()
    expect(fail_to_pass).to_be_hidden()
    expect(required).to_be_visible()
    expect(effect.locator("[data-show-when='not-met:overall']")).to_be_visible()
    screenshot(page, "consensus-form-2-a-criterion-crossed")

    # Funding 3 and compute 3: every criterion as the reviews have it, the total 9.5 below 10
    # as theirs is. Nothing crosses, nothing needs a justification.
    score("Funding and implementation").select_option("3")
    score("Compute").select_option("3")
    assert total.inner_text() == "9.50"
    expect(crossed).to_be_hidden()
    expect(fail_to_pass).to_be_hidden()
    expect(required).to_be_hidden()
    assert criterion_effect("compute").locator("[data-value='change:compute']").inner_text() == (
        "\u22120.33"
    )

    # Compute 4: 10.5 passes where the reviews do not. The warning is back.
    score("Compute").select_option("4")
    assert total.inner_text() == "10.50" and change.inner_text() == "+0.67"
    expect(fail_to_pass).to_be_visible()
    expect(required).to_be_visible()
    expect(effect.locator("[data-show-when='met:overall']")).to_be_visible()
    screenshot(page, "consensus-form-3-fail-turned-into-pass")
    shown_by_script = effect.inner_text()

    # Saved with written comments and a justification: the page the server renders for these
    # scores reads exactly as the script had it.
    for criterion, key in (
        ("Compute", "compute"),
        ("Expertise and services", "expertise"),
        ("Funding and implementation", "funding"),
    ):
        page.get_by_role("group", name=criterion).get_by_label("Comment").fill(
            f"The panel's view on {key}, written for the applicant in full sentences."
        )
    form.get_by_label("Justification").fill(WHY)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The consensus draft is saved.")).to_be_visible()
    assert page.locator("#consensus-effect").inner_text() == shown_by_script
    sign_out(page)

    # The coordinator makes it final: the justification is there, so nothing stops it.
    sign_in(page, live_server, p.coordinator)
    page.goto(url)
    assert page.locator("#finalise-problems").count() == 0
    page.get_by_role("button", name="Mark final").click()
    expect(page.get_by_text("The consensus report is final.")).to_be_visible()
    expect(page.get_by_text("This consensus turns a fail into a pass.")).to_be_visible()
    assert WHY in page.locator("#justification").inner_text()
    screenshot(page, "consensus-form-4-final-with-justification")

    db.session.expire_all()
    report = db.session.scalar(db.select(ConsensusReport))
    assert report.status is ConsensusStatus.FINAL and report.justification == WHY


def test_the_consensus_form_writes_numbers_in_the_readers_language(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    """In German, the server's numbers and the script's agree: 10,00 and +0,17, then −0,33."""
    p = build_panel(make_call, make_proposal, make_user, make_assignment, GREEK)
    p.rapporteur.language = "de"
    db.session.commit()
    sign_in(page, live_server, p.rapporteur)
    page.goto(f"{live_server}/consensus/proposals/{p.proposal.id}")
    effect = page.locator("#consensus-effect")
    total = effect.locator("[data-value='total']")
    change = effect.locator("[data-value='total-change']")
    assert total.inner_text() == "10,00" and change.inner_text() == "+0,17"
    assert "9,83" in effect.inner_text()
    page.locator("fieldset[data-criterion='funding'] select").select_option("2.5")
    expect(total).to_have_text("9,50")
    expect(change).to_have_text("\u22120,33")


def test_the_panel_discusses_and_the_moderator_edits_the_report(
    live_server, page, make_call, make_proposal, make_user, make_assignment, smtp_inbox
) -> None:
    """Issue 13: an expert asks in the discussion, the coordinator (the moderator) answers and
    edits the rapporteur's draft, with an overall comment for the applicant; the change is kept."""
    p = build_panel(make_call, make_proposal, make_user, make_assignment)
    url = f"{live_server}/consensus/proposals/{p.proposal.id}"
    sign_in(page, live_server, p.rapporteur)
    page.goto(url)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The consensus draft is saved.")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, p.experts[1])
    page.goto(url)
    page.get_by_label("Your message").fill("Is the co-funding letter signed by the ministry?")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Your message is posted.")).to_be_visible()
    sign_out(page)
    assert len(smtp_inbox.messages) == len(p.experts) - 1  # the rest of the panel

    sign_in(page, live_server, p.coordinator)
    page.goto(url)
    thread = page.locator("#discussion-messages")
    expect(thread).to_contain_text("Expert B")
    expect(thread).to_contain_text("co-funding letter")
    page.get_by_label("Your message").fill("Yes, dated 12 March; it is in the annex.")
    page.get_by_role("button", name="Post").click()
    expect(page.locator("#discussion-messages li")).to_have_count(2)
    page.get_by_label("Overall comment").fill(
        "A credible AI Factory; the co-funding is confirmed in writing."
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The consensus draft is saved.")).to_be_visible()
    screenshot(page, "consensus-discussion-and-moderator-edit")

    db.session.expire_all()
    report = db.session.query(ConsensusReport).filter_by(proposal_id=p.proposal.id).one()
    assert report.overall_comment.startswith("A credible AI Factory")
    assert report.status is ConsensusStatus.DRAFT and report.version == 2
