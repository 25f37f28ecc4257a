"""The partial lottery of a call (issue 14, point 4): its bounds in the settings, the seed
published once before the draw (audited), the draw on the analytics page, by the command and in
the decision report."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from reviewer_app.audit.events import LotterySeedPublished
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Role
from reviewer_app.reports.services import decision_report_pdf
from reviewer_app.reports.verify import embedded_files
from tests.consensus.helpers import build_tie_at_the_line

SEED = 20261203


def lottery_call(make_call, make_proposal, make_user, make_assignment):
    call, _proposals = build_tie_at_the_line(
        make_call, make_proposal, make_user, make_assignment, lottery_percent=(10, 90)
    )
    return call


def test_the_seed_is_published_once_and_the_draw_follows_everywhere(
    make_call, make_proposal, make_user, make_assignment, login_as, runner
) -> None:
    call = lottery_call(make_call, make_proposal, make_user, make_assignment)
    coordinator = make_user(Role.COORDINATOR)
    client = login_as(coordinator)
    before = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    assert "Publish the seed and draw" in before and 'id="lottery-result"' not in before

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
    db.session.expire_all()
    assert call.lottery_seed == SEED

    page = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
    assert 'id="lottery-result"' in page and f"Seed {SEED}" in page

    # The command repeats the draw from the seed; the report embeds the same one.
    printed = runner.invoke(args=["analytics", call.key, "--draw", str(SEED)])
    assert printed.exit_code == 0, printed.output
    drawn = json.loads(printed.output)
    assert drawn["seed"] == SEED and drawn["rule"] == {"low": 0.1, "high": 0.9}
    assert Decimal(drawn["spent_eur"]) <= Decimal("2500000")
    # AIF-01 is funded in every sample (before the draw); AIF-05 fails a threshold: never drawn.
    assert drawn["sure"] == ["AIF-01"] and "AIF-05" not in drawn["pool"]
    for reference in drawn["order"]:
        assert f'data-ref="{reference}"' in page
    embedded = json.loads(embedded_files(decision_report_pdf(call, "en").content)["analytics.json"])
    assert embedded["lottery"] == drawn

    # Published, the bounds are fixed.
    settings = client.post(
        f"/calls/{call.key}/edit",
        data={"title": call.title, "budget_eur": "2500000", "lottery_low_percent": "5",
              "lottery_high_percent": "90"},
    )  # fmt: skip
    assert settings.status_code == 400
    assert "its bounds can no longer change" in settings.get_data(as_text=True)


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
