"""``reviewer-app analytics``: the figures of docs/analytics.md for a call, same seed same
output, without numpy until the command runs."""

from __future__ import annotations

import json

from reviewer_app import analytics
from reviewer_app.cli import analytics as command
from tests.consensus.helpers import build_tie_at_the_line

from .test_startup import _imported_after


def test_the_command_line_defaults_are_the_analytics_defaults() -> None:
    assert (command.DEFAULT_SAMPLES, command.DEFAULT_SEED) == (
        analytics.DEFAULT_SAMPLES,
        analytics.DEFAULT_SEED,
    )


def test_listing_the_commands_does_not_import_numpy() -> None:
    code = (
        "from reviewer_app.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='reviewer-app')\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _imported_after(code, ("numpy", "reviewer_app.analytics")) == set()


def test_same_seed_same_figures_and_the_issues_shape(
    runner, make_call, make_proposal, make_user, make_assignment
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    first = runner.invoke(args=["analytics", call.key, "--samples", "300", "--seed", "7"])
    again = runner.invoke(args=["analytics", call.key, "--samples", "300", "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert first.output == again.output
    document = json.loads(first.output)
    assert set(document["reliability"]) == {"compute", "expertise", "funding", "total"}
    assert set(document["reliability"]["total"]) >= {"krippendorff_alpha", "icc1"}
    assert {e["email"] for e in document["experts"]} == {
        a.expert.email for p in call.proposals for a in p.assignments
    }
    assert {"reference", "funded_probability", "rank_low", "rank_high"} <= set(
        document["proposals"][0]
    )
    assert (document["samples"], document["seed"]) == (300, 7)
    unknown = runner.invoke(args=["analytics", "no-such-call"])
    assert unknown.exit_code != 0 and "no-such-call" in unknown.output
