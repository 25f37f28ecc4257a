"""The partial lottery of a call (issue 14, point 4): its bounds in the settings, the seed
published once before the draw (audited), the draw on the analytics page, by the command and in
the decision report."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from reviewer_app.audit.events import LotteryDrawn, LotterySeedPublished
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase, Role
from reviewer_app.reports.services import decision_report_pdf
from reviewer_app.reports.verify import embedded_files
from tests.consensus.helpers import build_tie_at_the_line, submit_review, uniform
from tests.factories import advance_call

SEED = 20261203


def lottery_call(make_call, make_proposal, make_user, make_assignment):
    """The tie at the line with a lottery from 10 to 90 %, still in evaluation."""
    call, _proposals = build_tie_at_the_line(
        make_call,
        make_proposal,
        make_user,
        make_assignment,
        lottery_percent=(10, 90),
        phase=Phase.EVALUATION,
    )
    return call


def test_the_seed_is_published_in_evaluation_and_the_draw_kept_as_drawn(
    make_call, make_proposal, make_user, make_assignment, login_as, runner
) -> None:
    call = lottery_call(make_call, make_proposal, make_user, make_assignment)
    coordinator = make_user(Role.COORDINATOR)
    client = login_as(coordinator)
    before = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    assert "Publish the seed" in before and 'id="lottery-result"' not in before

    unconfirmed = client.post(
        f"/calls/{call.key}/analytics/lottery-seed", data={"seed": str(SEED)},
        follow_redirects=True,
    )  # fmt: skip
    assert "Please confirm that the seed is final." in unconfirmed.get_data(as_text=True)
    assert call.lottery_seed is None

    sent = client.post(
        f"/calls/{call.key}/analytics/lottery-seed", data={"seed": str(SEED), "confirm": "y"}
    )
    assert sent.status_code == 302
    db.session.expire_all()
    assert call.lottery_seed == SEED and call.lottery_seed_published_at is not None
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == LotterySeedPublished.action)
    ).all()
    assert event.typed() == LotterySeedPublished(seed=SEED, low_percent=10, high_percent=90)
    again = client.post(
        f"/calls/{call.key}/analytics/lottery-seed", data={"seed": "1", "confirm": "y"},
        follow_redirects=True,
    )  # fmt: skip
    assert "cannot change any more" in again.get_data(as_text=True)

    # Not drawn before the ranking phase; drawn once there, and kept as drawn.
    early = client.post(f"/calls/{call.key}/analytics/lottery-draw", follow_redirects=True)
    assert "The lottery is drawn in the ranking phase." in early.get_data(as_text=True)
    advance_call(call, Phase.RANKING, actor=coordinator)
    assert client.post(f"/calls/{call.key}/analytics/lottery-draw").status_code == 302
    db.session.expire_all()
    kept = call.lottery_result
    assert kept is not None and kept["seed"] == SEED
    [drawn_event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == LotteryDrawn.action)
    ).all()
    assert drawn_event.typed() == LotteryDrawn(result=kept)
    twice = client.post(f"/calls/{call.key}/analytics/lottery-draw", follow_redirects=True)
    assert "The lottery is drawn already" in twice.get_data(as_text=True)

    page = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    assert 'id="lottery-result"' in page and f"Seed {SEED}" in page
    assert ('id="lottery-empty"' in page) == (not kept["pool"])
    for reference in kept["order"]:
        assert f'data-ref="{reference}"' in page

    # The command repeats the draw from the seed; the report embeds the kept one.
    printed = runner.invoke(args=["analytics", call.key, "--draw", str(SEED)])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == kept
    assert Decimal(kept["spent_eur"]) <= Decimal("2500000")
    # AIF-01 is funded in every sample (before the draw); AIF-05 fails a threshold: never drawn.
    assert kept["sure"] == ["AIF-01"] and "AIF-05" not in kept["pool"]
    rows = client.get(f"/calls/{call.key}/analytics.csv").get_data(as_text=True).splitlines()
    assert "lottery,AIF-01,clearly_fundable,true" in rows and "lottery,AIF-01,funded,true" in rows
    embedded = json.loads(embedded_files(decision_report_pdf(call, "en").content)["analytics.json"])
    assert embedded["lottery"] == kept

    # The budget changes after the draw: the draw stands as it was drawn.
    client.post(
        f"/calls/{call.key}/edit",
        data={"title": call.title, "budget_eur": "1000000", "lottery_low_percent": "10",
              "lottery_high_percent": "90"},
    )  # fmt: skip
    db.session.expire_all()
    assert call.budget_eur == Decimal("1000000") and call.lottery_result == kept
    # Published, the bounds are fixed.
    settings = client.post(
        f"/calls/{call.key}/edit",
        data={"title": call.title, "budget_eur": "2500000", "lottery_low_percent": "5",
              "lottery_high_percent": "90"},
    )  # fmt: skip
    assert settings.status_code == 400
    assert "its bounds can no longer change" in settings.get_data(as_text=True)


def test_too_late_for_a_seed_once_the_reviews_are_in(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call, _proposals = build_tie_at_the_line(
        make_call, make_proposal, make_user, make_assignment, lottery_percent=(10, 90)
    )
    client = login_as(make_user(Role.COORDINATOR))
    late = client.post(
        f"/calls/{call.key}/analytics/lottery-seed", data={"seed": "9", "confirm": "y"},
        follow_redirects=True,
    )  # fmt: skip
    assert "must be published before the evaluation closes" in late.get_data(as_text=True)
    db.session.expire_all()
    assert call.lottery_seed is None


def test_a_lottery_needs_both_bounds_in_order(make_call, make_user, login_as) -> None:
    call = make_call()
    client = login_as(make_user(Role.COORDINATOR))
    for low, high, message in (
        ("10", "", "Give both bounds of the lottery, or neither."),
        ("60", "40", "The upper bound must be above the lower one."),
    ):
        answer = client.post(
            f"/calls/{call.key}/edit",
            data={"title": call.title, "lottery_low_percent": low, "lottery_high_percent": high},
        )
        assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    db.session.expire_all()
    assert call.lottery_low_percent is None


def test_without_a_lottery_the_command_says_so(
    make_call, make_proposal, make_user, make_assignment, runner
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    refused = runner.invoke(args=["analytics", call.key, "--draw", "5"])
    assert refused.exit_code != 0 and "has no partial lottery" in refused.output


# Proposals whose experts disagree: LOT-2 ranks above LOT-3, yet LOT-3 comes first in part of
# the bootstrap samples (LOT-1 too, tied with LOT-2 in some), so all three are drawn; two fit.
LINE = {
    "LOT-1": [uniform("4.5")] * 3,
    "LOT-2": [uniform("4.5"), uniform("3.5"), uniform("4.5")],  # 12.5
    "LOT-3": [uniform("5"), uniform("3.5"), uniform("3.5")],  # 12
}
LINE_SEED = 7  # draws LOT-3, LOT-1, LOT-2 (checked below): two departures from the ranking


def line_call(make_call, make_proposal, make_user, make_assignment, login_as):  # type: ignore[no-untyped-def]
    """The ``LINE`` proposals, the seed published, reviewed, in the ranking phase, not drawn;
    with a signed-in coordinator's client."""
    call = make_call(budget_eur=Decimal("2000000"), lottery_percent=(1, 99))
    experts = [make_user(Role.EXPERT) for _ in range(3)]
    panels = {}
    for reference in LINE:
        proposal = make_proposal(
            call, reference=reference, requested_funding_eur=Decimal("1000000")
        )
        panels[reference] = [make_assignment(proposal, expert) for expert in experts]
    coordinator = make_user(Role.COORDINATOR)
    client = login_as(coordinator)
    advance_call(call, Phase.EVALUATION)
    client.post(
        f"/calls/{call.key}/analytics/lottery-seed",
        data={"seed": str(LINE_SEED), "confirm": "y"},
    )
    for reference, reviews in LINE.items():
        for assignment, values in zip(panels[reference], reviews, strict=True):
            submit_review(assignment, values)
    advance_call(call, Phase.RANKING, actor=coordinator)
    return call, client


def test_the_decisions_page_is_prefilled_from_the_draw_with_its_reasons(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    """The draw funds LOT-3 (ranked on the reserve list) and leaves LOT-2 (ranked on the main
    list): the page suggests the draw's outcomes with the draw as the rationale of both
    departures, and saving them as they are leaves no departure unexplained."""
    from reviewer_app.coordinator.decisions import decision_state
    from reviewer_app.models import Decision, DecisionOutcome, Proposal
    from reviewer_app.ranking import rank_call

    call, client = line_call(make_call, make_proposal, make_user, make_assignment, login_as)
    statuses = {row.reference: row.status.value for row in rank_call(call).rows}
    assert statuses == {"LOT-1": "main", "LOT-2": "main", "LOT-3": "reserve"}
    before = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert 'id="lottery-prefill"' not in before
    client.post(f"/calls/{call.key}/analytics/lottery-draw")
    db.session.expire_all()
    kept = call.lottery_result
    assert kept is not None and kept["order"] == ["LOT-3", "LOT-1", "LOT-2"], kept
    assert kept["funded"] == ["LOT-3", "LOT-1"]

    page = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert 'id="lottery-prefill"' in page and f"seed {LINE_SEED}" in page
    ids = dict(
        db.session.execute(
            select(Proposal.reference, Proposal.id).where(Proposal.call_id == call.id)
        )
        .tuples()
        .all()
    )

    def row(reference: str) -> str:
        start = page.index(f'name="d_{ids[reference]}-outcome"')
        return page[start : page.index("</tr>", start)]

    assert '<option selected value="funded">' in row("LOT-1")
    assert "lottery" not in row("LOT-1")  # funded as ranked: nothing to explain
    assert '<option selected value="funded">' in row("LOT-3")
    assert "drawn 1. among the proposals" in row("LOT-3")
    assert '<option selected value="reserve">' in row("LOT-2")
    assert "drawn 3., after the budget was spent" in row("LOT-2")

    # Saved as suggested: both departures are explained by the draw.
    form = {}
    for reference, proposal_id in ids.items():
        html = row(reference)
        form[f"d_{proposal_id}-outcome"] = html.split('<option selected value="')[1].split('"')[0]
        text = html.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
        form[f"d_{proposal_id}-rationale"] = text.strip()
    assert client.post(f"/calls/{call.key}/decisions", data=form).status_code == 302
    decided = {
        reference: (outcome, rationale)
        for reference, outcome, rationale in db.session.execute(
            select(Proposal.reference, Decision.outcome, Decision.rationale).join(Proposal)
        ).tuples()
    }
    assert decided["LOT-3"][0] is DecisionOutcome.FUNDED
    assert decided["LOT-2"][0] is DecisionOutcome.RESERVE
    assert f"seed {LINE_SEED}" in decided["LOT-3"][1]
    assert decision_state(call, rank_call(call)).unexplained == []


def test_the_drawn_lottery_table_is_bounded_and_says_what_it_leaves_out(
    make_call, make_proposal, make_user, make_assignment, login_as, monkeypatch
) -> None:
    """A call of thousands can put hundreds in the draw: the page lists the first
    ``TABLE_ROWS`` of each kind and says how many there are (the downloads have them all)."""
    from reviewer_app import analytics_display

    call, client = line_call(make_call, make_proposal, make_user, make_assignment, login_as)
    assert client.post(f"/calls/{call.key}/analytics/lottery-draw").status_code == 302
    db.session.expire_all()
    kept = call.lottery_result
    assert kept is not None and kept["order"] == ["LOT-3", "LOT-1", "LOT-2"] and not kept["sure"]

    whole = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    assert "lottery-order-more" not in whole and "lottery-sure-more" not in whole
    monkeypatch.setattr(analytics_display, "TABLE_ROWS", 1)
    page = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    start = page.index('id="lottery-result"')
    table = page[start : page.index("</table>", start)]
    first, *rest = kept["order"]
    assert f'data-ref="{first}"' in table
    assert not any(f'data-ref="{reference}"' in table for reference in rest)
    more = f"The first 1 of {len(kept['order'])} drawn proposals; the download has them all."
    assert more in page
    assert "lottery-sure-more" not in page  # none is clearly fundable: nothing left out
    # The downloads have the whole draw, as the command prints it.
    downloaded = client.get(f"/calls/{call.key}/analytics.json").get_json()
    assert downloaded["lottery"] == kept
    rows = client.get(f"/calls/{call.key}/analytics.csv").get_data(as_text=True).splitlines()
    lottery = [row for row in rows if row.startswith("lottery,")]
    assert lottery == [
        "lottery,,low,0.01", "lottery,,high,0.99", f"lottery,,seed,{LINE_SEED}",
        "lottery,,budget_eur,2000000.00", "lottery,,spent_eur,2000000.00",
        "lottery,LOT-3,drawn,1", "lottery,LOT-3,funded,true",
        "lottery,LOT-1,drawn,2", "lottery,LOT-1,funded,true",
        "lottery,LOT-2,drawn,3", "lottery,LOT-2,funded,false",
    ]  # fmt: skip
