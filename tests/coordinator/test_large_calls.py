"""Pages of a large call (issue 11, point 3): a page of rows, a filter, the funding line always
in sight on the ranking, and the same work whatever the size of the call."""

from __future__ import annotations

import re

from reviewer_app.demo.synthetic import seed_synthetic
from reviewer_app.extensions import db

from .test_queries import _count_queries


def _call(key: str, proposals: int) -> str:
    seed_synthetic(key=key, proposals=proposals, experts=12, reviews_per_proposal=3, seed=3)
    db.session.commit()
    return key


def _table(html: str, table: str = "ranking") -> str:
    body = html[html.index(f'id="{table}"') :]
    end = re.search(r"</tbody>\s*</table>\s*</div>", body)  # the table's own end, not a detail's
    assert end is not None
    return body[: end.start()]


def _rows(html: str, table: str = "ranking") -> list[str]:
    return re.findall(r'<tr data-ref="([^"]+)"', _table(html, table))


def test_a_large_ranking_comes_in_pages_with_the_line_in_sight(
    app_ctx, client, make_user, login_as
) -> None:
    key = _call("paged", 120)
    login_as(make_user("coordinator"))
    first = client.get(f"/calls/{key}/ranking").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "Page 1 of 3" in first
    last = client.get(f"/calls/{key}/ranking?page=3").get_data(as_text=True)
    assert len(_rows(last)) == 20
    assert not set(_rows(first)) & set(_rows(last))
    beyond = client.get(f"/calls/{key}/ranking?page=99").get_data(as_text=True)
    assert _rows(beyond) == _rows(last)  # a page past the end shows the last one

    # Wherever the funding line is, a page without it shows the rows around it and a link.
    pages = [client.get(f"/calls/{key}/ranking?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    with_line = [n for n, html in enumerate(pages, 1) if 'id="funding-line"' in html]
    assert len(with_line) == 1
    for n, html in enumerate(pages, 1):
        if n == with_line[0]:
            assert 'id="ranking-line"' not in html
        else:
            around = _rows(html, "ranking-line")
            assert 2 <= len(around) <= 6 and "Around the funding line" in html
            assert f"Go to the funding line (page {with_line[0]})" in html


def test_the_ranking_filters_by_status_and_text(app_ctx, client, make_user, login_as) -> None:
    key = _call("filtered", 80)
    login_as(make_user("coordinator"))
    main = client.get(f"/calls/{key}/ranking?status=main").get_data(as_text=True)
    statuses = re.findall(r'<tr data-ref="[^"]+" data-status="([a-z_]+)"', _table(main))
    assert statuses and set(statuses) == {"main"}
    found = client.get(f"/calls/{key}/ranking?q=syn-00007").get_data(as_text=True)
    assert _rows(found) == ["SYN-00007"] and "1 of 80 proposals" in found
    none = client.get(f"/calls/{key}/ranking?q=nothing-like-this").get_data(as_text=True)
    assert "No proposal matches this filter." in none
    odd = client.get(f"/calls/{key}/ranking?status=bogus&page=x")
    assert odd.status_code == 200 and len(_rows(odd.get_data(as_text=True))) == 50


def test_the_ranking_page_does_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    login_as(make_user("coordinator"))
    queries, sizes = [], []
    for key, proposals in (("small", 60), ("large", 240)):
        _call(key, proposals)
        queries.append(_count_queries(app, client, f"/calls/{key}/ranking"))
        sizes.append(len(client.get(f"/calls/{key}/ranking").get_data()))
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15  # the same 50 rows (and the line's neighbours)


def test_progress_comes_in_pages_and_filters(app_ctx, client, make_user, login_as) -> None:
    key = _call("progress", 120)
    login_as(make_user("coordinator"))
    page = client.get(f"/calls/{key}/progress").get_data(as_text=True)
    proposals = re.findall(r'href="/calls/progress/proposals/\d+">(SYN-\d+)', page)
    assert len(proposals) == 50 and proposals == sorted(proposals)
    assert "Page 1 of 3" in page
    last = client.get(f"/calls/{key}/progress?pp=3").get_data(as_text=True)
    assert len(re.findall(r'href="/calls/progress/proposals/\d+">SYN', last)) == 20
    # Conflicts are listed with their proposal; the filter finds exactly those.
    conflicts = client.get(f"/calls/{key}/progress?pstate=conflicts").get_data(as_text=True)
    rows = re.findall(r'href="/calls/progress/proposals/\d+">(SYN-\d+)', conflicts)
    assert rows and conflicts.count("Former colleague of the coordinator (simulated)") >= len(rows)
    # Filtered on the counts, pages still add up, and a page past the end shows the last one.
    complete = client.get(f"/calls/{key}/progress?pstate=complete").get_data(as_text=True)
    pages = int(re.findall(r"Page 1 of (\d+)", complete)[0])
    assert pages > 1
    shown = [
        re.findall(r'proposals/\d+">(SYN-\d+)', client.get(url).get_data(as_text=True))
        for url in (
            *(f"/calls/{key}/progress?pstate=complete&pp={n}" for n in range(1, pages + 1)),
            f"/calls/{key}/progress?pstate=complete&pp=99",
            f"/calls/{key}/progress?pstate=complete&pp={10**30}",  # past any OFFSET a database takes
        )
    ]
    listed = [ref for page_rows in shown[:-2] for ref in page_rows]
    assert len(listed) == len(set(listed)) and listed == sorted(listed)
    assert all(len(rows) == 50 for rows in shown[:-3]) and shown[-1] == shown[-2] == shown[-3]
    found = client.get(f"/calls/{key}/progress?pq=syn-00042").get_data(as_text=True)
    assert re.findall(r'proposals/\d+">(SYN-\d+)', found) == ["SYN-00042"]
    # Experts: 12 in all, every review submitted in this call, so none has open work.
    experts = client.get(f"/calls/{key}/progress?estate=done").get_data(as_text=True)
    assert "12 found" in experts
    none_open = client.get(f"/calls/{key}/progress?estate=open").get_data(as_text=True)
    assert "No expert matches this filter." in none_open


def test_the_progress_page_does_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    login_as(make_user("coordinator"))
    queries, sizes = [], []
    for key, proposals in (("psmall", 60), ("plarge", 240)):
        _call(key, proposals)
        queries.append(_count_queries(app, client, f"/calls/{key}/progress"))
        sizes.append(len(client.get(f"/calls/{key}/progress").get_data()))
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15


def test_every_progress_filter_has_a_label(app_ctx) -> None:
    from reviewer_app.coordinator.progress_page import EXPERT_STATES, PROPOSAL_STATES
    from reviewer_app.labels import progress_state_label

    for state in (*PROPOSAL_STATES, *EXPERT_STATES):
        assert progress_state_label(state) not in ("", state)


def test_decisions_are_recorded_a_page_at_a_time(app_ctx, client, make_user, login_as) -> None:
    from sqlalchemy import func, select

    from reviewer_app.models import Decision

    key = _call("decide", 120)
    login_as(make_user("coordinator"))
    page = client.get(f"/calls/{key}/decisions?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page and "0 of 120 proposals decided" in page
    assert 'action="/calls/decide/decisions?page=2"' in page
    fields = re.findall(
        r'name="(d_\d+-outcome)"[^>]*data-suggested="([a-z]*)"|'
        r'data-suggested="([a-z]*)"[^>]*name="(d_\d+-outcome)"',
        page,
    )
    suggested = {a or d: b or c for a, b, c, d in fields}
    assert len(suggested) == 50
    data = {name: value or "rejected" for name, value in suggested.items()}
    data.update(
        {
            name.replace("outcome", "rationale"): "Incomplete evaluation."
            for name, v in suggested.items()
            if not v
        }
    )
    saved = client.post(f"/calls/{key}/decisions?page=2", data=data)
    assert saved.status_code == 302 and saved.location.endswith("/calls/decide/decisions?page=2")
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 50
    after = client.get(f"/calls/{key}/decisions?page=2").get_data(as_text=True)
    assert "50 of 120 proposals decided" in after
    assert "and 50 more" in after  # the 70 still missing, listed 20 at a time


def test_the_decisions_page_lists_those_without_a_decision_a_page_at_a_time(
    app_ctx, client, make_user, login_as
) -> None:
    """With the filter "no decision yet", each saved page leaves the list and the next
    undecided proposals take its place: the filter survives the save."""
    from sqlalchemy import func, select

    from reviewer_app.models import Decision

    key = _call("undecided", 120)
    login_as(make_user("coordinator"))
    # The list of those still missing (20 named, then a count) leads to them.
    unfiltered = client.get(f"/calls/{key}/decisions").get_data(as_text=True)
    still = unfiltered.split('id="still-missing"', 1)[1].split("</p>", 1)[0]
    assert f'href="/calls/{key}/decisions?decision=none">Show only these</a>' in still
    page = client.get(f"/calls/{key}/decisions?decision=none").get_data(as_text=True)
    assert "120 of 120 proposals" in page and '<option value="none" selected>' in page
    assert "Show only these" not in page
    first = _rows(page, "decisions")
    fields = set(re.findall(r'name="(d_\d+-outcome)"', page))
    assert len(fields) == 50
    data = dict.fromkeys(fields, "rejected")
    data.update({n.replace("outcome", "rationale"): "Simulated rationale." for n in fields})
    saved = client.post(f"/calls/{key}/decisions?decision=none", data=data)
    assert saved.status_code == 302 and saved.location.endswith("decisions?decision=none")
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 50
    after = client.get(saved.location).get_data(as_text=True)
    assert "70 of 120 proposals" in after
    assert not set(_rows(after, "decisions")) & set(first)


def test_the_decisions_page_does_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    login_as(make_user("coordinator"))
    queries, sizes = [], []
    for key, proposals in (("dsmall", 60), ("dlarge", 240)):
        _call(key, proposals)
        queries.append(_count_queries(app, client, f"/calls/{key}/decisions"))
        sizes.append(len(client.get(f"/calls/{key}/decisions").get_data()))
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15


def test_the_closing_page_does_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    """Closing the call confirms every decision; its table shows them a page at a time (at
    10,000 proposals the whole table was 3.3 MB and took a second)."""
    from sqlalchemy import select

    from reviewer_app.models import Call
    from reviewer_app.ranking import rank_call

    login_as(make_user("coordinator"))
    queries, sizes = [], []
    for key, proposals in (("csmall", 60), ("clarge", 240)):
        _call(key, proposals)
        queries.append(_count_queries(app, client, f"/calls/{key}/decide"))
        sizes.append(len(client.get(f"/calls/{key}/decide").get_data()))
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15
    page = client.get("/calls/clarge/decide?page=2").get_data(as_text=True)
    assert "Page 2 of 5" in page and "240 of 240 proposals" in page
    assert len(_rows(page, "closing-decisions")) == 50
    ranking = rank_call(db.session.scalar(select(Call).where(Call.key == "clarge")))
    below = [row.reference for row in ranking.rows if row.status.value == "below_threshold"]
    assert below
    filtered = client.get("/calls/clarge/decide?status=below_threshold").get_data(as_text=True)
    assert f"{len(below)} of 240 proposals" in filtered
    assert _rows(filtered, "closing-decisions") == below[:50]
    # Nothing is decided yet: the page says why the call cannot close, whatever page it shows,
    # and a refused close comes back to the same page of the same filter.
    assert 'id="close-error"' in page
    refused = client.post("/calls/clarge/decide?page=2", data={"confirm": "y"})
    assert refused.status_code == 400 and "Page 2 of 5" in refused.get_data(as_text=True)


def test_consensus_progress_comes_in_pages(app, app_ctx, client, make_user, login_as) -> None:
    login_as(make_user("coordinator"))
    key = _call("cons", 120)
    page = client.get(f"/consensus/calls/{key}").get_data(as_text=True)
    assert len(re.findall(r'<tr data-ref="SYN-', page)) == 50 and "Page 1 of 3" in page
    final = client.get(f"/consensus/calls/{key}?state=final").get_data(as_text=True)
    shown = re.findall(r'<tr data-ref="(SYN-\d+)"', final)
    assert shown and len(shown) == int(re.search(r"(\d+) of 120 final", final).group(1))
    queries, sizes = [], []
    for other, proposals in (("csmall", 60), ("clarge", 240)):
        _call(other, proposals)
        queries.append(_count_queries(app, client, f"/consensus/calls/{other}"))
        sizes.append(len(client.get(f"/consensus/calls/{other}").get_data()))
    assert queries[0] == queries[1] and sizes[1] < sizes[0] * 1.15


def test_the_assignment_matrix_shows_a_window_of_a_large_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    """The matrix's HTML grew with proposals x experts (62.6 MB at 1,000 proposals): now a
    page of 50 proposals by 25 experts, the same for a larger call."""
    login_as(make_user("coordinator"))
    sizes = []
    for key, proposals, experts in (("msmall", 60, 30), ("mlarge", 240, 90)):
        seed_synthetic(
            key=key, proposals=proposals, experts=experts, reviews_per_proposal=3, seed=4
        )
        db.session.commit()
        page = client.get(f"/calls/{key}/assignments").get_data(as_text=True)
        sizes.append(len(page))
        assert f"Proposals 1 to 50 of {proposals}" in page
        assert "Experts 1 to 25 of" in page
    assert sizes[1] < sizes[0] * 1.15
    second = client.get("/calls/mlarge/assignments?rows=5&columns=2").get_data(as_text=True)
    assert "Proposals 201 to 240 of 240" in second and "Experts 26 to 50 of" in second


def test_the_matrix_and_the_overview_do_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    """At 10,000 proposals the matrix took 12 s (every proposal loaded with its reviews) and the
    overview 0.6 s with a 115 KB message naming every undecided proposal."""
    login_as(make_user("coordinator"))
    queries: dict[str, list[int]] = {"assignments": [], "": []}
    sizes: dict[str, list[int]] = {"assignments": [], "": []}
    for key, proposals in (("wsmall", 60), ("wlarge", 240)):
        _call(key, proposals)
        for page in queries:
            queries[page].append(_count_queries(app, client, f"/calls/{key}/{page}"))
            sizes[page].append(len(client.get(f"/calls/{key}/{page}").get_data()))
    assert queries["assignments"][0] == queries["assignments"][1]  # sizes: the test above
    assert queries[""][0] == queries[""][1] and sizes[""][1] < sizes[""][0] * 1.15
    overview = client.get("/calls/wlarge/").get_data(as_text=True)
    assert "Proposals without a decision: " in overview and "and 220 more" in overview


def test_one_experts_page_does_the_same_work_for_a_larger_call(
    app, app_ctx, client, make_user, login_as
) -> None:
    """A large call is staffed expert by expert: a page of the expert's assignments and a page
    of the other proposals, whatever the size of the call."""
    from sqlalchemy import select

    from reviewer_app.models import Assignment, Call, Proposal

    login_as(make_user("coordinator"))
    queries, sizes = [], []
    # Six experts, three reviews a proposal: from 100 proposals an expert has more than a page
    # of assignments, so both sizes show full pages.
    for key, proposals in (("esmall", 120), ("elarge", 240)):
        seed_synthetic(key=key, proposals=proposals, experts=6, reviews_per_proposal=3, seed=3)
        db.session.commit()
        expert_id = db.session.scalar(
            select(Assignment.expert_id)
            .join(Assignment.proposal)
            .join(Proposal.call)
            .where(Call.key == key)
            .limit(1)
        )
        path = f"/calls/{key}/experts/{expert_id}"
        queries.append(_count_queries(app, client, path))
        page = client.get(path).get_data(as_text=True)
        sizes.append(len(page))
        assert page.count('name="proposal_id"') <= 100  # two pages of 50 at most
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15


def test_a_pager_ignores_arguments_that_url_for_reads_itself(
    app_ctx, client, make_user, login_as
) -> None:
    """ "?endpoint=x" on a paged page made url_for() fail (500); "_external" made absolute
    links. The pager keeps only the page's own arguments."""
    key = _call("pagerargs", 120)
    login_as(make_user("coordinator"))
    for path in (f"/calls/{key}/progress", f"/calls/{key}/ranking", f"/calls/{key}/decisions"):
        response = client.get(f"{path}?endpoint=x&_external=1&_scheme=https")
        assert response.status_code == 200, path
        links = re.findall(r'class="page-link" href="([^"]+)"', response.get_data(as_text=True))
        assert links and all(
            link.startswith("/") and "endpoint" not in link and "_external" not in link
            for link in links
        ), links


TIES = {
    "scores": "SELECT a.proposal_id FROM reviews r JOIN assignments a ON a.id = r.assignment_id"
    " WHERE r.id = scores.review_id",
    "consensus_scores": "SELECT c.proposal_id FROM consensus_reports c"
    " WHERE c.id = consensus_scores.report_id",
}


def test_the_panel_page_shows_ten_ties_a_page_from_the_one_at_the_line(
    app, app_ctx, client, make_user, login_as
) -> None:
    from sqlalchemy import text

    from reviewer_app.models import Call
    from reviewer_app.panel import groups_at_the_line
    from reviewer_app.ranking import rank_call

    login_as(make_user("coordinator"))
    queries, sizes = [], []
    for key, proposals in (("small", 60), ("large", 240)):
        _call(key, proposals)
        # Every proposal's scores made one of a few patterns (stored in hundredths, on the
        # scale's steps of 0.5): 14 ex aequo groups at either size, one at the funding line.
        for table, owner in TIES.items():
            pattern = f"((({owner}) % 16) / (1 + criterion_id % 3)) % 4"
            db.session.execute(text(f"UPDATE {table} SET value = 300 + 50 * ({pattern})"))
        call = db.session.query(Call).filter_by(key=key).one()
        call.panel_review = True
        db.session.commit()
        groups = groups_at_the_line(rank_call(call))
        at_line = [number for number, (_g, line) in enumerate(groups, start=1) if line]
        assert len(groups) == 14 and len(at_line) == 1
        for asked, shown in (("", (at_line[0] - 1) // 10), ("?page=1", 0), ("?page=2", 1)):
            html = client.get(f"/calls/{key}/panel{asked}").get_data(as_text=True)
            numbers = [int(n) for n in re.findall(r'data-group="(\d+)"', html)]
            # Ten groups a page; without a page asked, the one with the group at the line.
            assert numbers == list(range(shown * 10 + 1, min(shown * 10 + 10, 14) + 1))
            assert "14 groups, 10 a page" in html
        queries.append(_count_queries(app, client, f"/calls/{key}/panel"))
        html = client.get(f"/calls/{key}/panel?page=1").get_data(as_text=True)
        # A group lists its members to be ordered: the page grows with the ties shown, not
        # with the call.
        sizes.append(len(html) / html.count('data-reference="'))
    assert queries[0] == queries[1]
    assert sizes[1] < sizes[0] * 1.15


def test_the_closing_page_filters_by_decision(app_ctx, client, make_user, login_as) -> None:
    """Before closing, the coordinator lists the proposals without a decision, or those with
    one outcome; a stale value lists them all."""
    from sqlalchemy import select

    from reviewer_app.coordinator.decisions import DecisionEntry, record_decisions
    from reviewer_app.models import Call, DecisionOutcome, Proposal
    from reviewer_app.ranking import rank_call

    key = _call("cdecided", 120)
    coordinator = make_user("coordinator")
    login_as(coordinator)
    call = db.session.scalar(select(Call).where(Call.key == key))
    order = [row.reference for row in rank_call(call).rows]
    proposals = {
        p.reference: p
        for p in db.session.scalars(select(Proposal).where(Proposal.call_id == call.id))
    }
    record_decisions(
        call,
        [
            DecisionEntry(proposals[r], DecisionOutcome.REJECTED, "Simulated rationale.")
            for r in order[:3]
        ],
        coordinator,
    )
    db.session.commit()

    rejected = client.get(f"/calls/{key}/decide?decision=rejected").get_data(as_text=True)
    assert _rows(rejected, "closing-decisions") == order[:3]
    assert "3 of 120 proposals" in rejected and '<option value="rejected" selected>' in rejected
    missing = client.get(f"/calls/{key}/decide?decision=none&page=3").get_data(as_text=True)
    assert "117 of 120 proposals" in missing and "Page 3 of 3" in missing
    assert _rows(missing, "closing-decisions") == order[3:][100:]
    assert "decision=none" in missing  # the pager keeps the filter
    stale = client.get(f"/calls/{key}/decide?decision=granted").get_data(as_text=True)
    assert "120 of 120 proposals" in stale


def test_the_closing_page_of_a_call_without_proposals_says_so(
    make_call, make_user, login_as
) -> None:
    from reviewer_app.models import Phase

    call = make_call(phase=Phase.RANKING)
    client = login_as(make_user("coordinator"))
    page = client.get(f"/calls/{call.key}/decide").get_data(as_text=True)
    assert "This call has no proposals yet." in page
    assert "No proposal matches this filter." not in page and 'id="closing-q"' not in page
