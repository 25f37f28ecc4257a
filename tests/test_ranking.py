"""The bridge from the database to the engine: what counts, what not, in a constant number of
queries, and the CSV the command line prints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from reviewer_app.extensions import db
from reviewer_app.models import Phase, Review, ReviewStatus, Score
from reviewer_app.ranking import (
    evaluation_input,
    rank_call,
    ranking_csv,
    ranking_table,
    rows_with_scores,
    summary_input,
)
from reviewer_app.scoring.engine import EvaluationError, Status, evaluate

from .conftest import CRITERIA_DIR
from .factories import advance_call, declare_for, write_consensus, write_review


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


KEYS = ("compute", "expertise", "funding")


def add_review(assignment, values, *, submitted=True):
    """The expert's declaration and review through the services (the call in evaluation); a
    None leaves that criterion empty, as a draft may."""
    scores = {k: v for k, v in zip(KEYS, values, strict=True) if v is not None}
    return write_review(assignment, scores, submitted=submitted, comment="x" * 60)


def plant_conflicted_review(assignment, values):
    """A submitted review on an assignment whose expert declared a conflict. No service writes
    one (a conflict closes the review page for good); planted to show the loader leaves it out."""
    declare_for(assignment, conflict="Works with the applicant")
    criteria = {c.key: c for c in assignment.proposal.call.criteria}
    review = Review(
        assignment=assignment, status=ReviewStatus.SUBMITTED, submitted_at=datetime(2024, 11, 20)
    )
    review.scores = [
        Score(criterion=criteria[key], value=Decimal(v), comment="x" * 60)
        for key, v in zip(KEYS, values, strict=True)
    ]
    db.session.add(review)
    db.session.commit()
    return review


def add_consensus(proposal, values, *, final=True):
    """The rapporteur's consensus draft, finalised by a coordinator when ``final`` (the call in
    its consensus phase)."""
    write_consensus(proposal, values, final=final)


def panel_of(proposal, experts, make_assignment):
    """``experts`` assigned to ``proposal``, the first one its rapporteur."""
    return [
        make_assignment(proposal, expert, is_rapporteur=index == 0)
        for index, expert in enumerate(experts)
    ]


@pytest.fixture
def scene(make_call, make_proposal, make_user, make_assignment):
    """A call with four proposals: A fully reviewed, B with a draft and a conflict, C with a
    final consensus and one review, D with a draft consensus. Built in phase order by the
    services; the call ends in its consensus phase."""
    call = make_call(budget_eur=Decimal("2500000"))
    experts = [make_user("expert") for _ in range(4)]
    a = make_proposal(call, reference="A", title='=HYPERLINK("x")')
    b = make_proposal(call, reference="B", requested_funding_eur=None)
    c = make_proposal(call, reference="C", requested_funding_eur=Decimal("2000000"))
    d = make_proposal(call, reference="D")
    panels = {p.reference: panel_of(p, experts[:3], make_assignment) for p in (a, b, c, d)}
    conflicted = make_assignment(b, experts[3])
    drafting = make_assignment(b, make_user("expert"))
    advance_call(call, Phase.EVALUATION)
    a_scores = [("4", "4", "4"), ("4.5", "3", "4"), ("3", "3.5", "4")]
    for assignment, values in zip(panels["A"], a_scores, strict=True):
        add_review(assignment, values)
    for assignment in panels["B"]:
        add_review(assignment, ("5", "5", "5"))
    plant_conflicted_review(conflicted, ("0", "0", "0"))
    add_review(drafting, ("1", None, None), submitted=False)
    add_review(panels["C"][0], ("5", "5", "5"))  # C's other two experts never review
    for assignment in panels["D"]:
        add_review(assignment, ("3", "3", "3"))
    advance_call(call, Phase.CONSENSUS)
    add_consensus(c, {"compute": "4.5", "expertise": "4.5", "funding": "4.5"})
    # A draft that would lift D above every threshold, were a draft counted.
    add_consensus(d, {"compute": "5", "expertise": "5", "funding": "5"}, final=False)
    return call, experts


def test_evaluation_input_loads_only_what_counts_and_only_final_consensus(scene):
    """The loader reads only the reviews the engine counts (issue 11: at 10,000 proposals every
    row read costs): B's conflicted review and its draft are left out in the query."""
    call, experts = scene
    data = evaluation_input(call)
    assert [p.reference for p in data.proposals] == ["A", "B", "C", "D"]
    assert data.budget == Decimal("2500000")
    assert data.proposals[1].requested_funding is None
    b_reviews = [r for r in data.reviews if r.proposal == "B"]
    assert len(b_reviews) == 3 and all(r.counts for r in b_reviews)
    assert str(experts[3].id) not in {r.expert for r in b_reviews}  # the conflicted one
    assert sorted(dict(b_reviews[0].scores).items()) == [
        ("compute", Decimal(5)),
        ("expertise", Decimal(5)),
        ("funding", Decimal(5)),
    ]
    assert [c.proposal for c in data.consensus] == ["C"]  # D's consensus is still a draft


def test_rank_call_counts_only_what_the_rules_say(scene):
    call, _ = scene
    ranking = rank_call(call)
    b = ranking.row("B")
    assert b.reviews == 3 and b.total == 15  # conflict and draft left out
    assert b.flags == ("no_funding_amount",)
    c = ranking.row("C")
    assert (c.reviews, c.total, c.status) == (1, Decimal("13.5"), Status.MAIN)  # consensus
    d = ranking.row("D")
    assert d.criterion("compute").source == "aggregate"
    assert d.status is Status.BELOW_THRESHOLD
    a = ranking.row("A")
    assert [r.reference for r in ranking.rows] == ["B", "C", "A", "D"]
    # B 0 + C 2,000,000 fit; A's 1,000,000 crosses 2,500,000
    assert (a.rank, a.status) == (3, Status.RESERVE)
    assert ranking.main_total == Decimal("2000000")


def test_ranking_csv_has_the_documented_columns(scene):
    call, _ = scene
    assert ranking_csv(rank_call(call)) == (
        "rank,reference,title,reviews,compute,expertise,funding,total,weighted_total,status,flags\n"
        "1,B,Proposal 2,3,5.00,5.00,5.00,15.00,15.00,main,no_funding_amount\n"
        "2,C,Proposal 3,1,4.50,4.50,4.50,13.50,13.50,main,\n"
        '3,A,"\'=HYPERLINK(""x"")",3,3.83,3.50,4.00,11.33,11.33,reserve,\n'
        ",D,Proposal 4,3,3.00,3.00,3.00,9.00,9.00,below_threshold,\n"
    )


def test_ranking_table_draws_the_funding_line(scene):
    call, _ = scene
    lines = ranking_table(rank_call(call)).splitlines()
    assert lines[0].split() == [
        "rank", "reference", "title", "rev", "compute", "expertise", "funding", "total",
        "weighted", "requested", "cumulative", "status", "flags",
    ]  # fmt: skip
    assert lines[4].startswith("---- funding line: budget 2500000.00 EUR")
    assert lines[3].split()[:2] == ["2", "C"]


def test_the_number_of_queries_does_not_grow_with_the_call(
    make_call, make_proposal, make_user, make_assignment
):
    def queries_for(proposals: int) -> int:
        call = make_call()
        experts = [make_user("expert") for _ in range(3)]
        panels = [panel_of(make_proposal(call), experts, make_assignment) for _ in range(proposals)]
        advance_call(call, Phase.EVALUATION)
        for panel in panels:
            for assignment in panel:
                add_review(assignment, ("4", "4", "4"))
        advance_call(call, Phase.CONSENSUS)
        for panel in panels:
            add_consensus(panel[0].proposal, {"compute": "4", "expertise": "4", "funding": "4"})
        db.session.expire_all()
        call = db.session.get(type(call), call.id)
        with count_queries() as statements:
            ranking = rank_call(call)
        assert len(ranking.rows) == proposals
        return len(statements)

    assert queries_for(1) == queries_for(6)
    assert queries_for(1) <= 8


def test_the_ranking_is_computed_once_per_state_of_the_data(scene):
    """The pages of a large call rank once per change (ranking.rank_call): the same audit
    state gives the same ranking in one query; a change (here the move to ranking, and a
    consensus reopened) gives a new one."""
    from reviewer_app.consensus.finalising import reopen

    call, _ = scene
    first = rank_call(call)
    with count_queries() as statements:
        again = rank_call(call)
    assert again is first and len(statements) == 1  # the audit state, nothing else
    c = next(p for p in call.proposals if p.reference == "C")
    reopen(c, _coordinator(), version=c.consensus.version)
    db.session.commit()
    changed = rank_call(call)
    assert changed is not first
    # C's consensus no longer counts: its one review does (incomplete), as ranked afresh.
    assert first.row("C").status is Status.MAIN and changed.row("C").status is Status.INCOMPLETE
    advance_call(call, Phase.RANKING)
    assert rank_call(call) is not changed


def _coordinator():
    from reviewer_app.models import Role

    from .factories import add_users

    (user,) = add_users(
        {"email": "reopener@example.org", "name": "Reopener", "role": Role.COORDINATOR}
    )
    return user


def test_the_ranking_from_the_sums_is_the_ranking_from_the_scores(scene):
    """Issue 11: the pages rank on what the database sums up, one row per proposal; the result
    is the one the scores give, every figure but the scores themselves."""
    from .scoring.test_summaries import without_scores

    call, experts = scene
    summed = summary_input(call)
    assert summed is not None and not summed.reviews
    assert evaluate(summed) == without_scores(evaluate(evaluation_input(call)))
    # B's conflicted review and its draft are left out of the sums, as out of the scores.
    (b,) = [s for s in summed.summaries if s.proposal == "B"]
    assert b.reviews == 3 and [(c.key, c.n, c.total) for c in b.criteria] == [
        (key, 3, Decimal(15)) for key in KEYS
    ]
    a = rank_call(call).row("A").criterion("compute")
    assert (a.n, a.min, a.max, a.has_scores) == (3, 3, Decimal("4.5"), False)
    with_scores = rank_call(call, with_scores=True).row("A").criterion("compute")
    assert sorted(v for _e, v in with_scores.by_expert) == [3, 4, Decimal("4.5")]
    assert rows_with_scores(call, ["A"])["A"].criterion("compute") == with_scores


def test_a_score_edited_in_the_database_off_the_scale_is_named_review_by_review(scene):
    """A sum cannot say which review holds a score off a step of the scale; the ranking then
    reads the scores and names it (the edited row never ranks)."""
    call, experts = scene
    a = next(p for p in call.proposals if p.reference == "A")
    review = next(x.review for x in a.assignments if x.expert_id == experts[1].id)
    score = next(s for s in review.scores if s.criterion.key == "funding")
    db.session.execute(update(Score).where(Score.id == score.id).values(value=Decimal("4.25")))
    db.session.commit()
    summed = summary_input(call)
    assert summed is not None
    with pytest.raises(EvaluationError, match="scores of A: a score of funding is off the scale"):
        evaluate(summed)
    with pytest.raises(EvaluationError) as refused:
        rank_call(call)
    assert refused.value.problems == [
        f"review of A by {experts[1].id}: funding = 4.25 is off the scale 0 to 5 in steps of 0.5"
    ]


def test_a_median_is_ranked_from_the_scores(make_call, make_proposal, make_user, make_assignment):
    """A median needs the scores: a Horizon Europe call is never ranked on sums, and its
    ranking shows the numbers behind each median."""
    call = make_call(CRITERIA_DIR / "horizon-europe-ria.toml")
    assert call.scheme.rules.aggregate == "median"
    proposal = make_proposal(call, reference="H")
    panel = panel_of(proposal, [make_user("expert") for _ in range(4)], make_assignment)
    advance_call(call, Phase.EVALUATION)
    keys = call.scheme.criterion_keys
    for assignment, value in zip(panel, ("1", "3", "4", "5"), strict=True):
        write_review(assignment, dict.fromkeys(keys, value), comment="x" * 60)
    assert summary_input(call) is None
    excellence = rank_call(call).row("H").criterion(keys[0])
    assert excellence.has_scores and excellence.individual == (1, 3, 4, 5)
    assert excellence.score == Decimal("3.5") == excellence.median  # not the mean, 3.25
    assert rank_call(call, with_scores=True) is rank_call(call)  # one ranking, kept once
