"""The analytics page and its downloads (issue 14): the same figures as the command."""

from __future__ import annotations

import json
import threading

from reviewer_app import call_analytics
from reviewer_app.models import Role
from reviewer_app.reports import jobs
from tests.consensus.helpers import build_tie_at_the_line


def test_the_page_shows_agreement_leniency_and_the_uncertain_proposals(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    client = login_as(make_user(Role.OBSERVER))
    answer = client.get(f"/calls/{call.key}/analytics")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    for key in ("compute", "expertise", "funding", "total"):
        assert f'data-key="{key}"' in html
    assert 'class="chart intervals"' in html and 'class="chart offsets"' in html
    # The experts of each proposal agree but on AIF-04's compute (2, 4.5 and 4): alpha
    # 1 - D_o/D_e = 0.6661 by hand, just under Krippendorff's bound of 0.667.
    compute = html[html.index('data-key="compute"') :]
    compute = compute[: compute.index("</tr>")]
    assert ">0.666<" in compute and "Low: one expert" in compute
    expertise = html[html.index('data-key="expertise"') :]
    assert "Good: the experts largely agree." in expertise[: expertise.index("</tr>")]
    # AIF-02 and AIF-03 tie at the line (the tie goes to the reserve whole): every sample
    # puts them on the same side, so neither is funded in any sample.
    document = json.loads(client.get(f"/calls/{call.key}/analytics.json").get_data(as_text=True))
    probability = {p["reference"]: p["funded_probability"] for p in document["proposals"]}
    assert probability["AIF-01"] == 1.0 and probability["AIF-05"] == 0.0
    assert 0.0 <= probability["AIF-04"] <= 1.0


def test_the_downloads_are_what_the_command_prints(
    make_call, make_proposal, make_user, make_assignment, login_as, runner
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    client = login_as(make_user(Role.COORDINATOR))
    for fmt in ("json", "csv"):
        download = client.get(f"/calls/{call.key}/analytics.{fmt}")
        assert download.status_code == 200
        assert f"{call.key}-analytics.{fmt}" in download.headers["Content-Disposition"]
        printed = runner.invoke(args=["analytics", call.key, "--format", fmt])
        assert printed.exit_code == 0, printed.output
        assert printed.output == download.get_data(as_text=True)


def _read_again(*_args: object) -> None:
    raise AssertionError("a finished job's figures were read again")


def test_a_large_calls_figures_come_from_a_background_job_with_the_same_digits(
    make_call, make_proposal, make_user, make_assignment, login_as, runner, app, monkeypatch
) -> None:
    call, _proposals = build_tie_at_the_line(make_call, make_proposal, make_user, make_assignment)
    client = login_as(make_user(Role.COORDINATOR))
    app.config.update(ANALYTICS_INLINE_PROPOSALS=3, REPORT_JOBS="thread")
    try:
        # Seven proposals, more than three: the first visit finds the job queued (the one
        # worker thread is kept busy until the page has answered: no race with the clock).
        gate = threading.Event()
        jobs._threads.submit(gate.wait)
        try:
            first = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
        finally:
            gate.set()
        assert '<meta http-equiv="refresh" content="2">' in first
        assert "its figures are being computed on the server" in first
        jobs.drain()
        page = client.get(f"/calls/{call.key}/analytics").get_data(as_text=True)
        assert 'http-equiv="refresh"' not in page and 'data-key="total"' in page
        # The job's figures are read once: the page and the download reuse them.
        monkeypatch.setattr(call_analytics, "from_document", _read_again)
        again = client.get(f"/calls/{call.key}/analytics")
        assert again.status_code == 200 and 'data-key="total"' in again.get_data(as_text=True)
        download = client.get(f"/calls/{call.key}/analytics.csv").get_data(as_text=True)
    finally:
        app.config.update(ANALYTICS_INLINE_PROPOSALS=1000, REPORT_JOBS="inline")
    printed = runner.invoke(args=["analytics", call.key, "--format", "csv"])
    assert download == printed.output
