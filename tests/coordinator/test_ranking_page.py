"""The ranking page shows the engine's result: the same digits as the CSV export."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from reviewer_app.coordinator.decisions import DecisionEntry, record_decisions
from reviewer_app.extensions import db
from reviewer_app.models import DecisionOutcome, Phase, Role
from reviewer_app.ranking import rank_call, ranking_csv
from reviewer_app.scoring.numbers import format_score
from tests.consensus.helpers import build_scenario
from tests.factories import advance_call, in_setup, write_consensus


class _Cells(HTMLParser):
    """Collect ``data-col`` cell texts per ``data-ref`` row, plus the row's data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        self._row: str | None = None
        self._col: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-ref" in a:
            self._row = a["data-ref"]
            self.order.append(self._row)
            self.rows[self._row] = {"status": a["data-status"], "flags": a["data-flags"]}
        if self._col is not None:
            self._depth += 1
        elif self._row and "data-col" in a:
            self._col, self._depth = a["data-col"], 0
            self.rows[self._row][self._col] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._col is not None:
            if self._depth == 0:
                self._col = None
            else:
                self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._row and self._col is not None and self._depth == 0:
            self.rows[self._row][self._col] += data


@pytest.fixture
def scenario(make_call, make_proposal, make_user, make_assignment):
    return build_scenario(make_call, make_proposal, make_user, make_assignment)


def page_cells(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def test_page_numbers_equal_the_csv_export(scenario, make_user, login_as) -> None:
    call, _proposals = scenario
    html = (
        login_as(make_user(Role.COORDINATOR))
        .get(f"/calls/{call.key}/ranking")
        .get_data(as_text=True)
    )
    cells = page_cells(html)
    expected = list(csv.DictReader(io.StringIO(ranking_csv(rank_call(call)))))
    assert cells.order == [row["reference"] for row in expected]
    for row in expected:
        shown = cells.rows[row["reference"]]
        for column, value in row.items():
            got = shown[column].strip()
            if column == "rank":
                got = got.rstrip("=")
            assert got == value, (row["reference"], column)


def test_funding_line_status_and_flags(scenario, make_user, login_as) -> None:
    call, _proposals = scenario
    html = (
        login_as(make_user(Role.COORDINATOR))
        .get(f"/calls/{call.key}/ranking")
        .get_data(as_text=True)
    )
    cells = page_cells(html)
    statuses = {ref: row["status"] for ref, row in cells.rows.items()}
    assert statuses == {
        "AIF-01": "main",
        "AIF-02": "main",
        "AIF-03": "main",
        "AIF-04": "reserve",
        "AIF-07": "reserve",
        "AIF-05": "below_threshold",
        "AIF-06": "incomplete",
    }
    # The funding line sits between the last main proposal (AIF-03) and the first reserve one.
    line = html.index('class="funding-line"')
    assert html.index('data-ref="AIF-03"') < line < html.index('data-ref="AIF-04"')
    assert "Funding line: budget 3,500,000.00 EUR" in html
    # Ex aequo marked on both, flags translated to words.
    assert re.search(r'data-col="rank">2<span title="ex aequo">=</span>', html)
    assert "experts disagree on Compute" in html
    assert "no funding amount" in html
    assert "Main list" in html and "Reserve list" in html and "Below threshold" in html


def test_individual_scores_are_anonymised_behind_each_number(scenario, make_user, login_as) -> None:
    call, proposals = scenario
    html = (
        login_as(make_user(Role.OBSERVER)).get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    )
    details = html[html.index('id="details-4"') :]
    details = details[: details.index("</table>")]
    assert "Expert A" in details and "Expert B" in details and "Expert C" in details
    for assignment in proposals["AIF-04"].assignments:
        assert assignment.expert.name not in html
    # AIF-04 compute: 2, 4.5, 4 behind the mean 3.50, with min, max and spread.
    assert re.search(
        r"Compute</th>\s*<td[^>]*>2.00</td>\s*<td[^>]*>4.50</td>\s*<td[^>]*>4.00", details
    )


def test_names_shown_when_the_call_does_not_anonymise(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, anonymise_experts=False
    )
    html = (
        login_as(make_user(Role.COORDINATOR))
        .get(f"/calls/{call.key}/ranking")
        .get_data(as_text=True)
    )
    assert proposals["AIF-01"].assignments[0].expert.name in html
    assert "Expert A" not in html


def test_consensus_scores_are_marked(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call, proposals = build_scenario(
        make_call, make_proposal, make_user, make_assignment, phase=Phase.CONSENSUS
    )
    # AIF-05 fails compute (2) in the reviews; the panel agrees on 4 everywhere.
    write_consensus(
        proposals["AIF-05"],
        {"compute": "4", "expertise": "4", "funding": "4"},
        justification="The panel found the compute plan stronger than one review read it.",
    )
    advance_call(call, Phase.RANKING)
    html = (
        login_as(make_user(Role.COORDINATOR))
        .get(f"/calls/{call.key}/ranking")
        .get_data(as_text=True)
    )
    row = html[
        html.index('data-ref="AIF-05"') : html.index(
            'id="details-', html.index('data-ref="AIF-05"')
        )
    ]
    assert row.count('title="consensus score">C</span>') == 3
    assert page_cells(html).rows["AIF-05"]["status"] == "main"


def test_decisions_show_on_the_ranking(scenario, make_user, login_as) -> None:
    call, proposals = scenario
    coordinator = make_user(Role.COORDINATOR)
    record_decisions(
        call, [DecisionEntry(proposals["AIF-01"], DecisionOutcome.FUNDED)], coordinator
    )
    db.session.commit()
    html = login_as(coordinator).get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    assert 'title="Decision">Funded</span>' in html


def test_experts_cannot_open_the_ranking(scenario, login_as) -> None:
    call, _ = scenario
    assert login_as(Role.EXPERT).get(f"/calls/{call.key}/ranking").status_code == 403


def test_unknown_call_is_404(login_as) -> None:
    assert login_as(Role.COORDINATOR).get("/calls/nope/ranking").status_code == 404


def test_empty_call_and_provisional_note(make_call, login_as) -> None:
    # Deliberately empty: a call without proposals cannot be moved, so its phase is set.
    call = make_call(phase=Phase.EVALUATION)
    html = login_as(Role.COORDINATOR).get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    assert "This call has no proposals yet." in html
    assert "Provisional" in html


@pytest.mark.parametrize(
    "path", ["/calls/{key}/ranking", "/calls/{key}/decisions", "/consensus/calls/{key}"]
)
def test_query_count_does_not_grow_with_proposals(
    app, make_call, make_proposal, make_user, make_assignment, login_as, path
) -> None:
    coordinator = make_user(Role.COORDINATOR)
    client = login_as(coordinator)

    def queries_for(call) -> int:
        count = 0

        def count_query(*_args) -> None:
            nonlocal count
            count += 1

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count_query)
        try:
            assert client.get(path.format(key=call.key)).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count_query)
        return count

    small, small_proposals = build_scenario(make_call, make_proposal, make_user, make_assignment)
    large, large_proposals = build_scenario(make_call, make_proposal, make_user, make_assignment)
    extra_experts = [make_user(Role.EXPERT) for _ in range(3)]
    # Planted: eight more (unreviewed) proposals in the ranking phase, which no service adds
    # after set-up; the query count needs only more rows of every kind.
    with in_setup(large):
        for n in range(8):
            p = make_proposal(large, reference=f"EXTRA-{n}")
            large_proposals[p.reference] = p
            for e in extra_experts:
                make_assignment(p, e, is_rapporteur=e is extra_experts[0])
    for call, proposals in ((small, small_proposals), (large, large_proposals)):
        entries = [
            DecisionEntry(p, DecisionOutcome.REJECTED, "Rejected by the board.")
            for p in proposals.values()
        ]
        record_decisions(call, entries, coordinator)
    db.session.commit()
    baseline = queries_for(small)
    assert baseline > 3  # the counter sees the page's queries
    assert queries_for(large) == baseline


def test_ranking_in_german(scenario, login_as) -> None:
    call, _ = scenario
    client = login_as(Role.COORDINATOR)
    client.post("/language", data={"language": "de", "next": "/"})
    html = client.get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    assert "Hauptliste" in html and "Förderlinie: Budget 3.500.000,00 EUR" in html
    # Scores, totals and thresholds as German writes them (issue 12), the same digits as the
    # ranking's CSV (which keeps the machine's dot).
    ranking = rank_call(call)
    row = ranking.rows[0]
    cells = re.findall(r'data-col="weighted_total">([^<]*)<', html)
    assert cells[0] == format_score(row.weighted_total).replace(".", ",")
    assert "≥ 3,00" in html
    score_cells = re.findall(r'<span data-col="[a-z_]+">([^<]*)</span>', html)
    assert score_cells and not [c for c in score_cells if re.fullmatch(r"\d+\.\d\d", c)]
    decisions = client.get(f"/calls/{call.key}/decisions").get_data(as_text=True)
    assert format_score(row.weighted_total).replace(".", ",") in decisions


def test_csv_download_is_the_command_line_csv(scenario, make_user, login_as, runner) -> None:
    call, _ = scenario
    response = login_as(make_user(Role.OBSERVER)).get(f"/calls/{call.key}/ranking.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == ranking_csv(rank_call(call))
    result = runner.invoke(args=["ranking", call.key, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output == response.get_data(as_text=True)


def test_feedback_links_only_for_coordinators(scenario, make_user, login_as) -> None:
    call, _ = scenario
    html = (
        login_as(make_user(Role.OBSERVER)).get(f"/calls/{call.key}/ranking").get_data(as_text=True)
    )
    assert "feedback.pdf" not in html
    html = (
        login_as(make_user(Role.COORDINATOR))
        .get(f"/calls/{call.key}/ranking")
        .get_data(as_text=True)
    )
    assert "feedback.pdf" in html
