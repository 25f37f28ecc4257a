"""A whole call through the command line: create, import everything, rank; and each import with
one bad row exits non-zero, names the row and leaves the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    AuditEvent,
    Call,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusStatus,
    Proposal,
    Review,
    ReviewStatus,
    Role,
    Score,
    User,
)

from ..conftest import DEMO_SCHEME
from .test_backup import planner_rows

DATA = Path(__file__).parent / "data"
KEY = "aif-1"
COUNTED = (
    Call,
    Proposal,
    User,
    Assignment,
    ConflictDeclaration,
    Review,
    Score,
    ConsensusReport,
    AuditEvent,
)


def ok(runner, *args: str, input: str | None = None) -> str:
    result = runner.invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def fails(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    return result.output


def snapshot(app) -> dict[str, int]:
    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def set_up_call(runner, budget: str = "5000000") -> None:
    ok(runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", KEY,
       "--title", "AI Factories", "--budget", budget, "--deadline", "2024-12-01")  # fmt: skip
    ok(runner, "proposals", "import", KEY, str(DATA / "proposals.csv"))
    ok(runner, "users", "import", str(DATA / "users.csv"))
    ok(runner, "assign", KEY, str(DATA / "assignments.csv"))


def test_round_trip_ends_in_the_expected_ranking(app, runner):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    out = ok(runner, "reviews", "import", KEY, str(DATA / "reviews.csv"))
    assert "Imported 14 submitted reviews" in out
    # A bulk import refreshes the planner's statistics: they count the imported scores.
    with app.app_context():
        scores = db.session.scalar(select(func.count()).select_from(Score))
        assert planner_rows("scores") == scores > 0
    refused = fails(runner, "call", "phase", KEY, "consensus")
    assert "Reviews still open: 1" in refused
    ok(runner, "call", "phase", KEY, "consensus", "--confirm-open-reviews")
    ok(runner, "consensus", "import", KEY, str(DATA / "consensus.csv"))

    result = runner.invoke(args=["ranking", KEY, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output == (DATA / "expected_ranking.csv").read_text(encoding="utf-8")

    table = ok(runner, "ranking", KEY)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["rank", "reference", "title"]
    funding_line = next(i for i, line in enumerate(lines) if "funding line" in line)
    assert "P1" in lines[funding_line - 1]  # the line sits between P1 (main) and P2 (reserve)
    assert "3=" in lines[funding_line + 1]

    data = json.loads(ok(runner, "ranking", KEY, "--format", "json"))
    assert [p["reference"] for p in data["proposals"]] == ["P5", "P1", "P2", "P3", "P4"]
    assert data["proposals"][0]["scores"] == {"compute": "4.50", "expertise": "4.50",
                                              "funding": "4.50"}  # fmt: skip
    assert data["main_total_eur"] == "2000000.00"

    with app.app_context():
        proposal = db.session.scalar(select(Proposal).where(Proposal.reference == "P1"))
        assert proposal.extra == {"topic": "LLM training"}
        assert proposal.requested_funding_eur == 2000000
        p5 = db.session.scalar(select(Proposal).where(Proposal.reference == "P5"))
        assert p5.requested_funding_eur is None
        assert p5.consensus.status is ConsensusStatus.FINAL
        assert p5.consensus.rapporteur_id is not None  # ana, the rapporteur of the file
        reviews = db.session.scalars(select(Review)).all()
        assert all(r.status is ReviewStatus.SUBMITTED and r.submitted_at for r in reviews)
        declarations = db.session.scalars(select(ConflictDeclaration)).all()
        assert len(declarations) == 14
        assert all(not d.has_conflict and d.confidentiality_accepted for d in declarations)
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions.count("review.import") == 14
        assert actions.count("consensus.import") == 1
        assert {"call.create", "proposal.import", "user.create", "assignment.add"} <= set(actions)


def test_call_create_refuses_bad_options(runner):
    create = ("call", "create", "--criteria", str(DEMO_SCHEME), "--title", "T", "--key")
    ok(runner, *create, KEY)
    assert f"a call with key '{KEY}' already exists" in fails(runner, *create, KEY)
    assert "--key: letters, digits" in fails(runner, *create, "two words")
    out = fails(runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", "x",
                "--title", "T", "--budget", "12.345")  # fmt: skip
    assert "--budget" in out
    out = fails(runner, "call", "create", "--criteria", str(DATA / "users.csv"), "--key", "y",
                "--title", "T")  # fmt: skip
    assert "not valid TOML" in out


def test_call_phase_refuses_moves_that_make_no_sense(runner):
    ok(runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", KEY, "--title", "T")
    assert "no proposals" in fails(runner, "call", "phase", KEY, "evaluation")
    assert "one step at a time" in fails(runner, "call", "phase", KEY, "ranking")
    assert "no call with key 'nope'" in fails(runner, "call", "phase", "nope", "evaluation")


BAD_ROWS = [
    # (command, file name, content, message expected in the output)
    (
        ["proposals", "import", KEY],
        "proposals.csv",
        "reference,title,requested_funding_eur\nP9,Fine,10\nP1,Already there,5\nP10,,-3\n",
        [
            "row 3, column 'reference': 'P1' is already a proposal of this call",
            "row 4, column 'requested_funding_eur': must not be negative",
            "row 4, column 'title': must not be empty",
        ],
    ),
    (
        ["proposals", "import", KEY],
        "proposals.json",
        '[{"reference": "P9", "title": "Fine"}, {"reference": "P9", "title": "Twice"}]',
        ["row 2, column 'reference': 'P9' already appears in row 1"],
    ),
    (
        ["users", "import"],
        "users.csv",
        "email,name,role\nnew@example.org,New,expert\nana@example.org,Ana,expert\n"
        "bad-address,X,expert\nz@example.org,Z,admin\n",
        [
            "row 3, column 'email': ana@example.org already has an account",
            "row 4, column 'email': 'bad-address' is not a valid e-mail address",
            "row 5, column 'role': must be expert, coordinator or observer, got 'admin'",
        ],
    ),
    (
        ["assign", KEY],
        "assign.csv",
        "proposal,expert\nP1,coord@example.org\nP9,ana@example.org\nP1,ana@example.org\n"
        "P2,nobody@example.org\n",
        [
            "row 2, column 'expert': coord@example.org is a coordinator, not an expert",
            "row 3, column 'proposal': 'P9' is not a proposal of this call",
            "row 4, column 'expert': ana@example.org is already assigned to P1",
            "row 5, column 'expert': no user with e-mail nobody@example.org",
        ],
    ),
]


@pytest.mark.parametrize(("command", "name", "content", "messages"), BAD_ROWS)
def test_an_import_with_bad_rows_changes_nothing(
    app, runner, tmp_path, command, name, content, messages
):
    set_up_call(runner)
    before = snapshot(app)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = fails(runner, *command, str(path))
    for message in messages:
        assert message in out
    assert "nothing was imported" in out
    assert snapshot(app) == before


def review_row(proposal: str, expert: str, *scores: str, comment: str = "c" * 60) -> str:
    cells = [proposal, expert]
    for score in scores:
        cells += [score, comment]
    return ",".join(cells)


REVIEW_HEADER = (
    "proposal,expert,compute,compute_comment,expertise,expertise_comment,funding,funding_comment"
)


@pytest.mark.parametrize(
    ("rows", "messages"),
    [
        (
            [review_row("P1", "ana@example.org", "5.5", "4", "0.25")],
            [
                "row 3, column 'compute': 5.5 is off the scale: 0 to 5 in steps of 0.5",
                "row 3, column 'funding': 0.25 is off the scale",
            ],
        ),
        (
            [review_row("P1", "ana@example.org", "4", "4", "4", comment="too short")],
            ["row 3, column 'compute_comment': at least 50 characters, got 9"],
        ),
        (
            [review_row("P1", "ana@example.org", "4", "", "4")],
            ["row 3, column 'expertise': must not be empty"],
        ),
        (
            [
                review_row("P1", "ana@example.org", "4", "4", "4"),
                review_row("P1", "ana@example.org", "4", "4", "4"),
            ],
            ["row 4, column 'expert': 'P1 / ana@example.org' already appears in row 3"],
        ),
        (
            [review_row("P1", "new@example.org", "4", "4", "4")],
            ["row 3, column 'expert': new@example.org is not assigned to P1"],
        ),
    ],
)
def test_reviews_import_refuses_bad_rows(app, runner, tmp_path, rows, messages):
    set_up_call(runner)
    ok(runner, "users", "add", "new@example.org", "--name", "New", "--role", "expert")
    ok(runner, "call", "phase", KEY, "evaluation")
    before = snapshot(app)
    path = tmp_path / "reviews.csv"
    # a good row first: a file with one bad row imports nothing
    good = review_row("P2", "ben@example.org", "4", "4", "4")
    path.write_text("\n".join([REVIEW_HEADER, good, *rows]) + "\n", encoding="utf-8")
    out = fails(runner, "reviews", "import", KEY, str(path))
    for message in messages:
        assert message in out
    assert snapshot(app) == before


def test_reviews_import_needs_replace_for_a_submitted_review(app, runner, tmp_path):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    path = tmp_path / "r.csv"
    path.write_text(REVIEW_HEADER + "\n" + review_row("P1", "ana@example.org", "3", "3", "3"))
    ok(runner, "reviews", "import", KEY, str(path))
    path.write_text(REVIEW_HEADER + "\n" + review_row("P1", "ana@example.org", "5", "5", "5"))
    out = fails(runner, "reviews", "import", KEY, str(path))
    assert "row 2, column 'expert': ana@example.org already submitted a review of P1" in out
    ok(runner, "reviews", "import", KEY, str(path), "--replace")
    with app.app_context():
        values = db.session.scalars(select(Score.value)).all()
        assert sorted(values) == [5, 5, 5]


def test_reviews_import_refuses_unknown_and_missing_columns(app, runner, tmp_path):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    path = tmp_path / "r.csv"
    path.write_text("proposal,expert,compute,compute_comment,impact\nP1,ana@example.org,4,x,4\n")
    out = fails(runner, "reviews", "import", KEY, str(path))
    assert "column 'impact': unknown column" in out
    assert "missing columns: 'expertise', 'expertise_comment', 'funding'" in out


def test_reviews_import_only_during_evaluation(runner, tmp_path):
    set_up_call(runner)
    path = tmp_path / "r.csv"
    path.write_text(REVIEW_HEADER + "\n" + review_row("P1", "ana@example.org", "3", "3", "3"))
    out = fails(runner, "reviews", "import", KEY, str(path))
    assert "only while the call is in the 'evaluation' phase" in out


def test_consensus_import_refuses_bad_rows(app, runner, tmp_path):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    ok(runner, "reviews", "import", KEY, str(DATA / "reviews.csv"))
    ok(runner, "call", "phase", KEY, "consensus", "--confirm-open-reviews")
    before = snapshot(app)
    path = tmp_path / "c.csv"
    header = REVIEW_HEADER.replace("expert,", "")
    good = review_row("P1", "x", "4", "4", "4").replace(",x,", ",")
    bad = review_row("P9", "x", "6", "4", "4").replace(",x,", ",")
    path.write_text("\n".join([header, good, bad]) + "\n")
    out = fails(runner, "consensus", "import", KEY, str(path))
    assert "row 3, column 'proposal': 'P9' is not a proposal of this call" in out
    assert "row 3, column 'compute': 6 is off the scale" in out
    assert snapshot(app) == before


def test_files_that_are_not_tables(runner, tmp_path):
    set_up_call(runner)
    cases = {
        "latin1.csv": ("reference,title\nP9,Caf\xe9\n".encode("latin-1"), "not UTF-8"),
        "broken.json": (b'[{"reference": "P9",', "not valid JSON"),
        "object.json": (b'{"reference": "P9"}', "must be a list of objects"),
        "empty.csv": (b"", "the file is empty"),
        "cols.csv": (b"reference,title,title\nP9,A,B\n", "column 'title': the column appears"),
        "wide.csv": (b"reference,title\nP9,A,B\n", "row 2: 3 cells but the header has 2"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        assert message in fails(runner, "proposals", "import", KEY, str(path)), name
    assert "No such file" in fails(runner, "proposals", "import", KEY, str(tmp_path / "nope.csv"))


def test_csv_with_bom_and_json_import(app, runner, tmp_path):
    ok(runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", KEY, "--title", "T")
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeffreference,title\nP1,Caf\u00e9 Factory\n".encode())
    ok(runner, "proposals", "import", KEY, str(path))
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps([{"reference": "P2", "title": "J", "requested_funding_eur": 12.5, "n": 3}])
    )
    ok(runner, "proposals", "import", KEY, str(path))
    with app.app_context():
        proposals = db.session.scalars(select(Proposal).order_by(Proposal.reference)).all()
        assert [p.title for p in proposals] == ["Caf\u00e9 Factory", "J"]
        assert proposals[1].requested_funding_eur == 12.5
        assert proposals[1].extra == {"n": 3}


def test_users_add_with_invitation_or_password(app, runner):
    out = ok(runner, "users", "add", "Eva@Example.org", "--name", "Eva", "--role", "observer")
    assert "/invitation/" in out
    out = ok(
        runner,
        *("users", "add", "max@example.org", "--name", "Max", "--role", "coordinator"),
        "--password-stdin",
        input="a long enough password\n",
    )
    assert "/invitation/" not in out
    assert "already has an account" in fails(
        runner, "users", "add", "eva@example.org", "--name", "E", "--role", "expert"
    )
    result = runner.invoke(
        args=["users", "add", "x@example.org", "--name", "X", "--role", "expert",
              "--password-stdin"],
        input="short\n",
    )  # fmt: skip
    assert result.exit_code != 0 and "at least" in result.output
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(select(User))}
        assert set(users) == {"eva@example.org", "max@example.org"}
        assert users["eva@example.org"].password_hash is None
        assert users["max@example.org"].role is Role.COORDINATOR
        assert users["max@example.org"].password_hash


def test_export_escapes_formulas(app, runner, tmp_path):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    ok(runner, "reviews", "import", KEY, str(DATA / "reviews.csv"))
    out = ok(runner, "export", KEY, "--what", "ranking", "--format", "csv")
    assert ",'=cmd|' /C calc'!A0," in out
    assert out.splitlines()[0].endswith("status,flags,requested_funding_eur,cumulative_funding_eur")
    out = ok(runner, "export", KEY, "--what", "reviews", "--format", "csv")
    assert out.splitlines()[0].startswith("proposal,acronym,title,expert,expert_name")
    assert len(out.splitlines()) == 1 + 15  # one row per assignment
    target = tmp_path / "reviews.xlsx"
    ok(runner, "export", KEY, "--what", "reviews", "--format", "xlsx", "-o", str(target))
    from openpyxl import load_workbook

    sheet = load_workbook(target).active
    titles = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert "'=cmd|' /C calc'!A0" in titles
    assert all(row[2].data_type == "s" for row in sheet.iter_rows(min_row=2))


def test_ranking_and_export_of_an_unknown_call(runner):
    assert "no call with key 'nope' (there are no calls yet)" in fails(runner, "ranking", "nope")
    assert "no call with key 'nope'" in fails(runner, "export", "nope", "--what", "ranking")


def test_xlsx_export_to_standard_output(runner):
    set_up_call(runner)
    result = runner.invoke(args=["export", KEY, "--what", "ranking", "--format", "xlsx"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"PK")  # a zip container, as XLSX is


def test_reviews_import_streams_the_file_in_batches(app, runner, tmp_path, monkeypatch):
    """A CSV is read and written a batch at a time; a bad row in a later batch still leaves
    nothing written (the earlier batches are rolled back), and a good file lands whole."""
    from reviewer_app.importers import reviews

    monkeypatch.setattr(reviews, "BATCH", 2)
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    before = snapshot(app)
    good = [
        review_row("P1", "ana@example.org", "4", "4", "4"),
        review_row("P1", "ben@example.org", "3", "3", "3"),
        review_row("P2", "ana@example.org", "2", "2", "2"),
        review_row("P2", "ben@example.org", "5", "5", "5"),
    ]
    path = tmp_path / "reviews.csv"
    bad = review_row("P1", "ana@example.org", "9", "4", "4")  # twice, and off the scale
    path.write_text("\n".join([REVIEW_HEADER, *good, bad, "P2,x,y,z"]) + "\n", encoding="utf-8")
    out = fails(runner, "reviews", "import", KEY, str(path))
    assert "row 6, column 'compute': 9 is off the scale" in out
    assert "already appears in row 2" in out
    assert "row 7: 4 cells but the header has 8" not in out  # 4 cells is short, not wide
    assert snapshot(app) == before

    path.write_text("\n".join([REVIEW_HEADER, *good]) + "\n", encoding="utf-8")
    assert "Imported 4 submitted reviews" in ok(runner, "reviews", "import", KEY, str(path))
    with app.app_context():
        values = db.session.scalars(select(Score.value)).all()
        assert sorted(values) == [2] * 3 + [3] * 3 + [4] * 3 + [5] * 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\nP1,x\n", "the file is empty: no header row"),
        (b"proposal,proposal\n", "column 'proposal': the column appears twice"),
        (
            "\n".join([REVIEW_HEADER, "P1,ana@example.org", "P1,Caf\xe9"]).encode("latin-1"),
            "row 3: the file is not UTF-8 text",
        ),
        ((REVIEW_HEADER + "\nP1,a\x00b\n").encode(), "row 2: a NUL character"),
        ((REVIEW_HEADER + "\nP1,a,1,2,3,4,5,6,7\n").encode(), "row 2: 9 cells but the header"),
        ((REVIEW_HEADER + "\n\n").encode(), "the file has no reviews"),
    ],
)
def test_a_streamed_reviews_file_that_is_not_a_table(app, runner, tmp_path, content, message):
    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    path = tmp_path / "reviews.csv"
    path.write_bytes(content)
    assert message in fails(runner, "reviews", "import", KEY, str(path))


def test_a_streamed_reviews_file_has_at_most_the_rows_allowed(runner, tmp_path, monkeypatch):
    from reviewer_app import limits

    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    monkeypatch.setattr(limits, "CLI_IMPORT_ROWS", 1)
    path = tmp_path / "reviews.csv"
    rows = [review_row("P1", "ana@example.org", "4", "4", "4")] * 2
    path.write_text("\n".join([REVIEW_HEADER, *rows]) + "\n", encoding="utf-8")
    assert "more than 1 rows; at most 1 per file" in fails(
        runner, "reviews", "import", KEY, str(path)
    )


def test_a_streamed_reviews_file_is_refused_past_its_size_and_keeps_earlier_problems(
    runner, tmp_path, monkeypatch
):
    from reviewer_app import limits

    set_up_call(runner)
    ok(runner, "call", "phase", KEY, "evaluation")
    path = tmp_path / "reviews.csv"
    bad = review_row("P1", "ana@example.org", "9", "4", "4")
    path.write_bytes((REVIEW_HEADER + "\n" + bad + "\n" + "P2,x" * 400 + "\n").encode())
    monkeypatch.setattr(limits, "CLI_IMPORT_BYTES", len(REVIEW_HEADER) + len(bad) + 100)
    out = fails(runner, "reviews", "import", KEY, str(path))
    assert "the file is larger than" in out
    assert "row 2, column 'compute': 9 is off the scale" in out  # found before the stop
    assert "the file has no reviews" not in out
    # A header that is not CSV at all says so, without a traceback.
    monkeypatch.setattr(limits, "CLI_IMPORT_BYTES", 10**6)
    path.write_bytes(b'proposal,"' + b"x" * 200_000 + b'"\n')  # beyond csv's field limit
    assert "not valid CSV" in fails(runner, "reviews", "import", KEY, str(path))


def test_an_import_stands_when_refreshing_the_statistics_fails(app, runner, monkeypatch) -> None:
    """The import is committed before the planner's statistics are refreshed: a refresh that
    fails (a busy database) is a warning, never "nothing was imported"."""
    from sqlalchemy.exc import OperationalError

    from reviewer_app import extensions
    from reviewer_app.models import Proposal

    def busy() -> None:
        raise OperationalError("ANALYZE", {}, Exception("database is locked"))

    ok(runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", KEY,
       "--title", "AI Factories", "--budget", "5000000", "--deadline", "2024-12-01")  # fmt: skip
    monkeypatch.setattr(extensions, "refresh_planner_statistics", busy)
    result = runner.invoke(args=["proposals", "import", KEY, str(DATA / "proposals.csv")])
    assert result.exit_code == 0, result.output
    assert "Imported 5 proposals" in result.output and "nothing was imported" not in result.output
    assert "planner statistics were not refreshed" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 5
