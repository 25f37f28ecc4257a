"""In chromium: the consensus of a proposal is drafted, approved and made final; the coordinator
reads the ranking, records every decision and closes the call."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reviewer_app.extensions import db
from reviewer_app.models import Call, ConsensusReport, ConsensusStatus, Decision, Phase, Role
from tests.consensus.helpers import build_panel, build_scenario
from tests.factories import write_consensus

from .conftest import screenshot
from .conftest import sign_in as sign_in_as

pytestmark = pytest.mark.browser


def test_coordinator_ranks_decides_and_closes_the_call(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, proposals = build_scenario(make_call, make_proposal, make_user, make_assignment)
    coordinator = make_user(Role.COORDINATOR)
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(coordinator.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/calls/")

    page.goto(f"{live_server}/calls/{call.key}/ranking")
    expect(page.get_by_role("heading", name="Ranking")).to_be_visible()
    expect(page.locator("tr.funding-line")).to_be_visible()
    page.locator('tr[data-ref="AIF-04"]').get_by_role(
        "button", name="Individual scores of AIF-04"
    ).click()
    details = page.locator("#details-4")
    details.wait_for(state="visible")
    assert "Expert A" in details.inner_text()
    screenshot(page, "decisions-flow-1-ranking")

    page.get_by_role("link", name="Record decisions").click()
    page.wait_for_url(f"{live_server}/calls/{call.key}/decisions")
    # Funding the first reserve proposal departs from the ranking: the rationale is required.
    page.get_by_label("Decision for AIF-04").select_option("funded")
    page.get_by_label("Decision for AIF-06").select_option("rejected")
    page.get_by_label("Rationale for AIF-06").fill("Only two reviews; the third expert withdrew.")
    page.get_by_role("button", name="Save decisions").click()
    expect(
        page.get_by_text("Give a rationale: this outcome departs from the ranking.")
    ).to_be_visible()
    screenshot(page, "decisions-flow-2-rationale-required")
    page.get_by_label("Rationale for AIF-04").fill(
        "The applicant confirmed extra national co-funding; the budget allows it."
    )
    page.get_by_role("button", name="Save decisions").click()
    # Four funded proposals at 1,000,000 EUR each do not fit the 3,500,000 EUR budget.
    expect(
        page.get_by_text(
            "The funded decisions total 4,000,000.00 EUR, more than the call's budget of "
            "3,500,000.00 EUR."
        )
    ).to_be_visible()
    screenshot(page, "decisions-flow-3-over-budget")
    page.get_by_label("Granted amount for AIF-04").fill("500000")
    page.get_by_role("button", name="Save decisions").click()
    expect(page.get_by_text("Decisions saved: 7 changed.")).to_be_visible()
    expect(page.get_by_text("Every proposal has a decision.")).to_be_visible()
    expect(
        page.get_by_text("Funded: 3,500,000.00 EUR of a budget of 3,500,000.00 EUR")
    ).to_be_visible()
    screenshot(page, "decisions-flow-4-saved")

    # Closing is confirmed on a page of its own, in its form: no dialog, no script needed.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("link", name="Move to decided").click()
    page.wait_for_url(f"{live_server}/calls/{call.key}/decide")
    expect(page.get_by_role("heading", name="Close the call?")).to_be_visible()
    summary = page.locator("#close-call")
    assert "Funded: 3,500,000.00 EUR of a budget of 3,500,000.00 EUR" in summary.inner_text()
    assert "Funded: 4" in page.locator("#outcome-counts").inner_text()
    assert "500,000.00" in page.locator('#closing-decisions tr[data-ref="AIF-04"]').inner_text()
    screenshot(page, "decisions-flow-5-confirm")
    page.get_by_role("button", name="Close the call").click()
    expect(
        page.get_by_text("Tick the box to confirm that the call closes for good.")
    ).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING
    page.get_by_label("I have checked these decisions and close the call for good.").check()
    page.get_by_role("button", name="Close the call").click()
    expect(
        page.get_by_text("The call is decided. Decisions and scores are now read-only.")
    ).to_be_visible()
    assert dialogs == []
    assert page.get_by_role("button", name="Save decisions").count() == 0
    screenshot(page, "decisions-flow-6-decided")

    db.session.expire_all()
    closed = db.session.get(Call, call.id)
    assert closed.phase is Phase.DECIDED and closed.decided_by_id == coordinator.id
    funded = db.session.scalar(
        db.select(Decision).where(Decision.proposal_id == proposals["AIF-04"].id)
    )
    assert funded.outcome.value == "funded" and "co-funding" in funded.rationale
    assert funded.amount_eur == 500000


def test_moving_to_ranking_with_consensus_not_final_needs_the_box(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    write_consensus(proposals["AIF-01"], {"compute": "4.5", "expertise": "4.5", "funding": "4.5"})
    sign_in(page, live_server, make_user(Role.COORDINATOR))
    page.goto(f"{live_server}/calls/{call.key}/")
    page.get_by_role("link", name="Move to “Ranking”…").click()
    warning = page.locator("#unfinished-consensus")
    assert "Consensus reports not final: 6 of 7 proposals." in warning.inner_text()
    assert "AIF-07" in warning.inner_text() and "AIF-01" not in warning.inner_text()
    screenshot(page, "phase-ranking-1-unfinished-consensus")
    page.get_by_role("button", name="Yes, move to “Ranking”").click()
    assert "(1 of 7 final)" in page.locator("#phase-error").inner_text()
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.CONSENSUS
    page.get_by_label("Move to ranking although some consensus reports are not final").check()
    page.get_by_role("button", name="Yes, move to “Ranking”").click()
    expect(page.get_by_text("The call is now in the phase “Ranking”.")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Call, call.id).phase is Phase.RANKING


def sign_in(page, live_server: str, user) -> None:
    sign_in_as(page, live_server, user.email)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_consensus_from_draft_to_final(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    p = build_panel(make_call, make_proposal, make_user, make_assignment)
    url = f"{live_server}/consensus/proposals/{p.proposal.id}"

    sign_in(page, live_server, p.rapporteur)
    page.goto(f"{live_server}/consensus/")
    page.get_by_role("link", name="Draft the consensus").click()
    page.wait_for_url(url)
    funding = page.get_by_role("group", name="Funding and implementation")
    # The reviews stand beside the editor as reference; the comment is written, not pasted.
    expect(funding.locator("aside").get_by_text("Expert B")).to_be_visible()
    assert funding.get_by_label("Comment").input_value() == ""
    screenshot(page, "consensus-1-prefilled-draft")
    funding.get_by_label("Score").select_option("3")
    for criterion in ("Compute", "Expertise and services", "Funding and implementation"):
        page.get_by_role("group", name=criterion).get_by_label("Comment").fill(
            f"{criterion}: the panel's assessment, written for the applicant in full."
        )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The consensus draft is saved.")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, p.experts[1])
    page.goto(url)
    page.get_by_label("I approve this consensus report").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, p.coordinator)
    page.goto(url)
    page.get_by_role("button", name="Mark final").click()
    expect(page.get_by_text("The consensus report is final.")).to_be_visible()
    screenshot(page, "consensus-2-final")
    page.goto(f"{live_server}/consensus/calls/{p.call.key}")
    row = page.locator(f'tr[data-ref="{p.proposal.reference}"]')
    assert "Final" in row.inner_text() and "3 / 3" in row.inner_text()
    screenshot(page, "consensus-3-progress")

    db.session.expire_all()
    report = db.session.scalar(db.select(ConsensusReport))
    assert report.status is ConsensusStatus.FINAL
    assert {s.criterion.key: str(s.value) for s in report.scores}["funding"] == "3.00"


def test_a_report_made_while_one_waits_shows_that_it_is_coming(
    live_server, page, make_call, make_proposal, make_user, make_assignment
) -> None:
    """The applicant's feedback PDF takes a second or more: its link shows a spinner and takes
    no second click until the file has come (the server's answer is held until the spinner
    has been seen, so the test waits for states, not for time)."""
    call, _proposals = build_scenario(make_call, make_proposal, make_user, make_assignment)
    sign_in(page, live_server, make_user(Role.COORDINATOR))
    held: list[object] = []
    page.route("**/feedback.pdf*", lambda route: held.append(route))
    page.goto(f"{live_server}/calls/{call.key}/ranking")
    page.locator('tr[data-ref="AIF-04"]').get_by_role(
        "button", name="Individual scores of AIF-04"
    ).click()
    link = page.locator("#details-4").get_by_role("link", name="Applicant feedback (PDF)")
    link.click()
    expect(link).to_have_attribute("aria-busy", "true")
    expect(link.locator(".spinner-border")).to_be_visible()
    link.click(force=True)  # a second click while it works asks for nothing more
    expect(link).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    with page.expect_download() as download:
        held[0].continue_()
    assert download.value.suggested_filename.endswith(".pdf")
    expect(link).not_to_have_attribute("aria-busy", "true")
    expect(link.locator(".spinner-border")).to_have_count(0)
    assert len(held) == 1
