"""The importers as functions (the web upload calls them too): reading tables, and the cases
the command-line round trip does not reach."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.importers import (
    ImportRejected,
    import_assignments,
    import_consensus,
    import_proposals,
    import_reviews,
    read_table,
)
from reviewer_app.models import (
    Assignment,
    AuditEvent,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Phase,
    Review,
    ReviewStatus,
)

from .factories import declare_for, plant_phase, write_consensus, write_review

COMMENT = "c" * 60
HEADER = (
    "proposal,expert,compute,compute_comment,expertise,expertise_comment,funding,funding_comment"
)


def csv_table(*lines: str):
    return read_table("\n".join(lines).encode(), filename="f.csv")


def review_line(proposal, expert, *scores):
    return ",".join([proposal.reference, expert.email, *(f"{s},{COMMENT}" for s in scores)])


def errors_of(info: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [str(e) for e in info.value.errors]


def test_read_csv_keeps_spreadsheet_row_numbers():
    table = read_table(
        '\ufeffreference,title\nP1,"A title\nover two lines"\n\n  P2 , B \n'.encode(),
        filename="x.csv",
    )
    assert table.columns == ("reference", "title")
    assert [(r.number, dict(r.values)) for r in table.rows] == [
        (2, {"reference": "P1", "title": "A title\nover two lines"}),
        (4, {"reference": "P2", "title": "B"}),  # the blank record 3 is skipped, not renumbered
    ]


def test_read_json_keeps_numbers_exact():
    table = read_table(b'[{"reference": "P1", "requested_funding_eur": 0.1}]', filename="x")
    assert table.rows[0].number == 1
    assert table.rows[0].values["requested_funding_eur"] == Decimal("0.1")


def test_short_csv_rows_are_padded_and_missing_required_values_reported(make_call):
    call = make_call()
    with pytest.raises(ImportRejected) as info:
        import_proposals(call, csv_table("reference,title,acronym", "P1"), actor=None)
    assert errors_of(info) == ["row 2, column 'title': must not be empty"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.345", "at most two decimals"),
        ("twelve", "must be a number such as 1234.50"),
        ("1e13", "must be less than"),
        ("NaN", "must be a number"),
    ],
)
def test_bad_amounts(make_call, value, message):
    call = make_call()
    with pytest.raises(ImportRejected) as info:
        import_proposals(
            call, csv_table("reference,title,requested_funding_eur", f"P1,T,{value}"), actor=None
        )
    assert message in str(info.value)
    assert info.value.errors[0].row == 2


def test_proposals_only_in_setup(evaluated_call):
    call = evaluated_call
    with pytest.raises(ImportRejected, match="only while the call is in the 'setup' phase"):
        import_proposals(call, csv_table("reference,title", "P1,T"), actor=None)


@pytest.mark.parametrize(
    ("expert", "message"),
    [
        ({"country": "ES"}, "is from the applicant's country (ES)"),
        # The same rule as the assignment matrix: codes compared regardless of case.
        ({"country": "es"}, "is from the applicant's country (ES)"),
        ({"organisation": " applicant 7 "}, "works for the applicant (Applicant 7)"),
    ],
)
def test_assignments_follow_the_conflict_rules(
    make_call, make_proposal, make_user, expert, message
):
    call = make_call()  # the AI Factories scheme: same_country and same_organisation
    proposal = make_proposal(call, country="ES", applicant="Applicant 7")
    user = make_user("expert", **expert)
    with pytest.raises(ImportRejected) as info:
        import_assignments(
            call, csv_table("proposal,expert", f"{proposal.reference},{user.email}"), actor=None
        )
    assert message in str(info.value)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


@pytest.fixture
def evaluation(evaluated_call):
    """A call opened for evaluation by the services; one of its proposal's assigned pairs."""
    proposal = evaluated_call.proposals[0]
    assignment = min(proposal.assignments, key=lambda a: a.id)
    return evaluated_call, proposal, assignment.expert, assignment


def test_reviews_import_overwrites_a_draft(evaluation):
    call, proposal, expert, assignment = evaluation
    draft = write_review(assignment, {"compute": "1"}, submitted=False, comment="first thoughts")
    draft_id = draft.id

    (review_id,) = import_reviews(
        call, csv_table(HEADER, review_line(proposal, expert, 4, 3.5, 5)), actor=None
    )
    db.session.commit()
    db.session.expire_all()
    assert review_id == draft_id
    review = db.session.get(Review, draft_id)
    assert review is not None and review.status is ReviewStatus.SUBMITTED
    assert review.submitted_at is not None
    by_key = {s.criterion.key: (s.value, s.comment) for s in review.scores}
    assert by_key == {
        "compute": (Decimal(4), COMMENT),
        "expertise": (Decimal("3.5"), COMMENT),
        "funding": (Decimal(5), COMMENT),
    }
    assert db.session.scalar(select(func.count()).select_from(ConflictDeclaration)) == 1


def test_reviews_import_writes_new_reviews_as_a_save_would(evaluated_call, monkeypatch):
    """New reviews are written in bulk (a file of 100,000 rows); the rows must be those a save
    writes: declaration, submitted review, scores, first version, audit event, chain intact."""
    from reviewer_app.audit.chain import verify
    from reviewer_app.importers import checks
    from reviewer_app.models import ReviewVersion, SavedThrough
    from reviewer_app.models.audit import chain_of
    from reviewer_app.ranking import evaluation_input

    monkeypatch.setattr(checks, "IN_CHUNK", 1)  # every lookup in several statements
    call = evaluated_call
    proposal = call.proposals[0]
    drafted, declared, untouched = sorted(proposal.assignments, key=lambda a: a.id)
    draft_id = write_review(drafted, {"compute": "1"}, submitted=False, comment="first").id
    declare_for(declared)
    padded = f"  {COMMENT}  "
    lines = [
        ",".join([proposal.reference, a.expert.email, *(f"{s},{padded}" for s in (4, 3.5, 5))])
        for a in (drafted, untouched, declared)
    ]
    ids = import_reviews(call, csv_table(HEADER, *lines), actor=None)
    db.session.commit()
    db.session.expire_all()

    reviews = {r.assignment_id: r for r in db.session.scalars(select(Review))}
    assert ids == [draft_id, reviews[untouched.id].id, reviews[declared.id].id]
    for assignment in (untouched, declared):
        review = reviews[assignment.id]
        assert (review.status, review.version) == (ReviewStatus.SUBMITTED, 1)
        assert review.submitted_at is not None
        by_key = {s.criterion.key: (s.value, s.comment) for s in review.scores}
        assert by_key == {
            "compute": (Decimal(4), COMMENT),
            "expertise": (Decimal("3.5"), COMMENT),
            "funding": (Decimal(5), COMMENT),
        }
        declaration = db.session.scalar(
            select(ConflictDeclaration).where(ConflictDeclaration.assignment_id == assignment.id)
        )
        assert declaration is not None
        assert (declaration.has_conflict, declaration.confidentiality_accepted) == (False, True)
        (version,) = db.session.scalars(
            select(ReviewVersion).where(ReviewVersion.review_id == review.id)
        ).all()
        assert (version.number, version.path, version.status, version.saved_by_id) == (
            1,
            SavedThrough.IMPORT,
            ReviewStatus.SUBMITTED,
            None,
        )
        assert {(s.criterion_id, s.value, s.comment) for s in version.scores} == {
            (s.criterion_id, s.value, s.comment) for s in review.scores
        }
        (event,) = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "review.import", AuditEvent.object_id == review.id
            )
        ).all()
        assert event.object_type == "review"
        assert event.data["version"] == 1 and event.data["replaced"] is False
        assert event.data["expert_id"] == assignment.expert_id
    assert reviews[drafted.id].version > 1  # the draft moved on through the page's path
    assert verify(db.session, chain_of(call.id)).problem is None
    assert len(evaluation_input(call).reviews) == 3


def test_reviews_import_refuses_an_expert_with_a_conflict(evaluation):
    call, proposal, expert, assignment = evaluation
    declare_for(assignment, conflict="Former")
    with pytest.raises(ImportRejected) as info:
        import_reviews(call, csv_table(HEADER, review_line(proposal, expert, 4, 4, 4)), actor=None)
    assert errors_of(info) == [
        f"row 2, column 'expert': {expert.email} declared a conflict of interest on "
        f"{proposal.reference}"
    ]


def test_reviews_import_lists_every_problem_of_every_row(evaluation, make_user):
    call, proposal, expert, _ = evaluation
    observer = make_user("observer")
    table = csv_table(
        HEADER,
        review_line(proposal, expert, 7, 4, 4),
        f"P-999,{expert.email},4,{COMMENT},4,{COMMENT},4,short",
        review_line(proposal, observer, 4, 4, 4),
    )
    with pytest.raises(ImportRejected) as info:
        import_reviews(call, table, actor=None)
    assert errors_of(info) == [
        "row 2, column 'compute': 7 is off the scale: 0 to 5 in steps of 0.5",
        "row 3, column 'funding_comment': at least 50 characters, got 5",
        "row 3, column 'proposal': 'P-999' is not a proposal of this call",
        f"row 4, column 'expert': {observer.email} is a observer, not an expert",
    ]


@pytest.fixture
def panel_factory(make_call, make_proposal, make_user, make_assignment):
    """A proposal in the consensus phase with three submitted reviews (tests/consensus)."""
    from functools import partial

    from .consensus.helpers import build_panel

    return partial(build_panel, make_call, make_proposal, make_user, make_assignment)


def consensus_line(proposal, *scores):
    return ",".join([proposal.reference, *(f"{s},{COMMENT}" for s in scores)])


CONSENSUS_HEADER = HEADER.replace("expert,", "")


def test_consensus_import_finalises_a_draft_and_needs_replace_for_a_final(panel_factory):
    p = panel_factory()  # means 3.83, 3.17, 3.33: every threshold met
    call, proposal = p.call, p.proposal
    write_consensus(proposal, {"compute": "2", "expertise": "3", "funding": "3"}, final=False)

    import_consensus(
        call, csv_table(CONSENSUS_HEADER, consensus_line(proposal, 4, 4, 4.5)), actor=None
    )
    db.session.commit()
    db.session.expire_all()
    report = db.session.scalars(select(ConsensusReport)).one()
    assert report.status is ConsensusStatus.FINAL and report.finalised_at is not None
    assert sorted(s.value for s in report.scores) == [4, 4, Decimal("4.5")]

    table = csv_table(CONSENSUS_HEADER, consensus_line(proposal, 5, 5, 5))
    with pytest.raises(ImportRejected, match="already has a final consensus"):
        import_consensus(call, table, actor=None)
    import_consensus(call, table, replace=True, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert {s.value for s in db.session.scalars(select(ConsensusScore))} == {5}


def test_consensus_import_applies_the_rules_of_finalising(panel_factory):
    """A consensus crossing a threshold needs a justification; a comment naming an expert is
    refused: the import makes the report final, as the consensus page's "Mark final" does."""
    p = panel_factory()  # means 3.83, 3.17, 3.33: every threshold met, total 10.33
    header = f"{CONSENSUS_HEADER},justification"
    named = ",".join(
        [p.proposal.reference, "4", COMMENT, "3.5", f"{COMMENT} Expert B said so.", "3.5", COMMENT]
    )
    crossing = consensus_line(p.proposal, 2.5, 4, 4) + ","  # compute below its threshold
    with pytest.raises(ImportRejected) as info:
        import_consensus(p.call, csv_table(header, named), actor=None)
    assert errors_of(info) == [
        "row 2, column 'expertise_comment': names an expert: the consensus comments go to the "
        "applicant"
    ]
    with pytest.raises(ImportRejected) as info:
        import_consensus(p.call, csv_table(header, crossing), actor=None)
    assert errors_of(info) == [
        "row 2, column 'justification': the consensus crosses a threshold that the reviews' "
        "aggregate does not (or the other way round): say why"
    ]
    assert db.session.scalar(select(func.count(ConsensusReport.id))) == 0

    why = "The panel met the applicant; compute is not yet procured."
    import_consensus(p.call, csv_table(header, crossing + why), actor=None)
    db.session.commit()
    db.session.expire_all()
    report = db.session.scalars(select(ConsensusReport)).one()
    assert report.status is ConsensusStatus.FINAL and report.justification == why
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.import")
    ).one()
    assert event.data["crossed"] == ["compute"] and event.data["justification"] == why


def test_consensus_import_only_in_the_consensus_phase(evaluation):
    call, proposal, _, _ = evaluation
    with pytest.raises(ImportRejected, match="only while the call is in the 'consensus' phase"):
        import_consensus(
            call, csv_table(CONSENSUS_HEADER, consensus_line(proposal, 4, 4, 4)), actor=None
        )


def test_reviews_import_reads_with_a_constant_number_of_queries(
    make_call, make_proposal, make_user, make_assignment
):
    from sqlalchemy import event

    def selects_for(proposals: int) -> int:
        call = make_call()
        expert = make_user("expert")
        lines = []
        for _ in range(proposals):
            proposal = make_proposal(call)
            make_assignment(proposal, expert)
            lines.append(review_line(proposal, expert, 4, 4, 4))
        plant_phase(call, Phase.EVALUATION)  # one expert each: the import needs the phase
        table = csv_table(HEADER, *lines)
        db.session.expire_all()
        statements: list[str] = []

        def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            call = db.session.get(type(call), call.id)
            import_reviews(call, table, actor=None)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        db.session.rollback()
        return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    one, five = selects_for(1), selects_for(5)
    assert 0 < one == five


@pytest.mark.parametrize(
    "content",
    [
        "reference,title,requested_funding_eur\r\nP1,Alpha,1500.5\r\n",
        "reference;title;requested_funding_eur\nP1;Alpha;1500,5\n",  # Excel in a German locale
        'reference,title,requested_funding_eur\nP1,Alpha,"1500,50"\n',
        "reference\ttitle\trequested_funding_eur\nP1\tAlpha\t1500.50\n",
    ],
)
def test_csv_dialects_that_spreadsheets_write(make_call, content):
    call = make_call()
    (proposal,) = import_proposals(call, read_table(content.encode(), filename="p.csv"), actor=None)
    assert (proposal.reference, proposal.title) == ("P1", "Alpha")
    assert proposal.requested_funding_eur == Decimal("1500.50")


def test_a_comma_that_may_separate_thousands_is_refused(make_call):
    with pytest.raises(ImportRejected, match="row 2, column 'requested_funding_eur'"):
        import_proposals(
            make_call(),
            csv_table("reference;title;requested_funding_eur", "P1;Alpha;1,500"),
            actor=None,
        )
