"""Absurd input never answers 500 (issue 8, point 9).

An out-of-range id posted by a page is refused; an absurd amount or score gets an error naming
the field or the row; a deeply nested or huge JSON or TOML file gets one clear line, on the web and
on the command line alike; free text has one limit, in the form and in the import; and nothing is
half-saved. The limits themselves live in ``reviewer_app.limits`` and ``docs/limits.md``.
"""

from __future__ import annotations

import html
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from reviewer_app import limits
from reviewer_app.extensions import db
from reviewer_app.importers import ImportRejected, import_proposals, import_reviews, read_table
from reviewer_app.models import (
    Assignment,
    Call,
    ConflictDeclaration,
    ConsensusReport,
    ConsensusStatus,
    Proposal,
    Review,
    User,
)
from reviewer_app.reports.evaluation import EvaluationFormatError, evaluation_in_from_json
from reviewer_app.security import MAX_ID

from .conftest import DEMO_SCHEME
from .factories import declare_for, write_consensus

ROOT = Path(__file__).resolve().parent.parent
TWENTY_FIVE_DIGITS = "9" * 25
DEEP_JSON = b"[" * 100_000
DEEP_TOML = b"a = " + b"[" * 100_000
JSON_TOO_DEEP = "line 1: lists and objects nest more than 20 levels deep"
TOML_TOO_DEEP = "line 1: lists and tables nest more than 20 levels deep"


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def cli_fails(runner: Any, *args: str) -> list[str]:
    """Run the command; it must stop with exit status 1 by itself, not by an exception."""
    result = runner.invoke(args=list(args))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output.splitlines()


@pytest.fixture
def coordinator(make_user, login_as):
    user = make_user("coordinator")
    login_as(user)
    return user


# --- ids posted by forms ------------------------------------------------------------------------

# Each names no row: beyond the database's integer, negative, zero, or not a whole number at all.
ABSURD_IDS = [TWENTY_FIVE_DIGITS, str(MAX_ID + 1), "-1", "0", "1e3", "²", "1.5", ""]


@pytest.fixture
def matrix(make_call, make_proposal, make_user):
    call = make_call()
    return call, make_proposal(call), make_user("expert")


@pytest.mark.parametrize("action", ["toggle", "rapporteur"])
@pytest.mark.parametrize("field", ["proposal_id", "expert_id"])
@pytest.mark.parametrize("bad", ABSURD_IDS)
def test_the_assignment_matrix_refuses_absurd_ids(
    client, coordinator, matrix, action, field, bad
) -> None:
    call, proposal, expert = matrix
    data = {"proposal_id": str(proposal.id), "expert_id": str(expert.id), field: bad}
    response = client.post(f"/calls/{call.key}/assignments/{action}", data=data)
    assert response.status_code == 400
    assert count(Assignment) == 0


def test_the_assignment_matrix_answers_404_for_an_id_in_range_that_names_no_row(
    client, coordinator, matrix
) -> None:
    call, proposal, expert = matrix
    for data in (
        {"proposal_id": str(MAX_ID), "expert_id": str(expert.id)},
        {"proposal_id": str(proposal.id), "expert_id": str(MAX_ID)},
    ):
        assert client.post(f"/calls/{call.key}/assignments/toggle", data=data).status_code == 404
    assert count(Assignment) == 0


@pytest.mark.parametrize("bad", [b for b in ABSURD_IDS if b])  # empty: "remind everyone"
def test_reminders_refuse_absurd_expert_ids(client, coordinator, matrix, bad) -> None:
    call, _proposal, _expert = matrix
    response = client.post(f"/calls/{call.key}/reminders", data={"expert_id": bad})
    assert response.status_code == 400


@pytest.mark.parametrize("bad", ABSURD_IDS)
def test_due_dates_refuse_absurd_expert_ids(
    client, coordinator, matrix, make_assignment, bad
) -> None:
    call, proposal, expert = matrix
    assignment = make_assignment(proposal, expert)
    response = client.post(
        f"/calls/{call.key}/due-date", data={"expert_id": bad, "due_date": "2030-01-31"}
    )
    assert response.status_code == 400
    db.session.refresh(assignment)
    assert assignment.due_date is None


def test_in_range_ids_that_name_nobody_answer_404(client, coordinator, matrix) -> None:
    call, _proposal, _expert = matrix
    url = f"/calls/{call.key}"
    assert client.post(f"{url}/reminders", data={"expert_id": str(MAX_ID)}).status_code == 404
    response = client.post(f"{url}/due-date", data={"expert_id": str(MAX_ID), "due_date": ""})
    assert response.status_code == 404


# --- versions posted by forms -------------------------------------------------------------------


@pytest.fixture
def consensus_draft(make_call, make_proposal, make_user, make_assignment):
    """A proposal in consensus with the rapporteur's draft report (version 1)."""
    from .consensus.helpers import build_panel

    proposal = build_panel(make_call, make_proposal, make_user, make_assignment).proposal
    report = write_consensus(
        proposal, {"compute": "4", "expertise": "3.5", "funding": "3"}, final=False
    )
    return proposal, report


def scores_of(report: ConsensusReport) -> list[tuple[int, Decimal | None, str]]:
    return sorted((s.criterion_id, s.value, s.comment) for s in report.scores)


@pytest.mark.parametrize("action", ["finalise", "reopen"])
@pytest.mark.parametrize("bad", [TWENTY_FIVE_DIGITS, "-1", "abc", "²", ""])
def test_finalise_and_reopen_refuse_absurd_versions(
    client, coordinator, consensus_draft, action, bad
) -> None:
    proposal, report = consensus_draft
    response = client.post(f"/consensus/proposals/{proposal.id}/{action}", data={"version": bad})
    assert response.status_code == 400
    db.session.refresh(report)
    assert (report.status, report.version) == (ConsensusStatus.DRAFT, 1)


@pytest.mark.parametrize("bad", [TWENTY_FIVE_DIGITS, "-1", "abc", "²"])
def test_the_consensus_draft_refuses_absurd_versions(
    client, coordinator, consensus_draft, bad
) -> None:
    proposal, report = consensus_draft
    saved = scores_of(report)
    data = {"version": bad}
    for key in ("compute", "expertise", "funding"):
        data[f"c_{key}-score"] = "3"
        data[f"c_{key}-comment"] = "Agreed."
    response = client.post(f"/consensus/proposals/{proposal.id}", data=data)
    assert response.status_code == 200  # the form again, not saved
    assert "The consensus draft is saved." not in page_text(response)
    db.session.refresh(report)
    assert report.version == 1 and scores_of(report) == saved


@pytest.fixture
def declared_expert(evaluated_call, login_as):
    """An expert signed in, with a declared assignment of a call in evaluation."""
    assignment = min(evaluated_call.proposals[0].assignments, key=lambda a: a.id)
    declare_for(assignment)
    login_as(assignment.expert)
    return assignment


def review_post(**overrides: str) -> dict[str, str]:
    data = {"version": "0", "save": "1"}
    for key in ("compute", "expertise", "funding"):
        data[f"score_{key}"] = "3"
        data[f"comment_{key}"] = "A clear plan, a credible team and a sound budget."
    data.update(overrides)
    return data


@pytest.mark.parametrize("bad", [TWENTY_FIVE_DIGITS, "-1", "abc"])
def test_the_review_form_refuses_absurd_versions(client, declared_expert, bad) -> None:
    response = client.post(
        f"/expert/assignments/{declared_expert.id}", data=review_post(version=bad)
    )
    assert response.status_code == 422
    assert count(Review) == 0


# --- amounts ------------------------------------------------------------------------------------

# Every amount below is refused with the message that says why.
ABSURD_AMOUNTS = [
    ("1e26", "less than a trillion euros"),
    ("1e999999999", "less than a trillion euros"),
    ("1000000000000", "less than a trillion euros"),
    ("-1", "must be 0 or more"),
    ("NaN", "Enter an amount in euros"),
    ("sNaN", "Enter an amount in euros"),
    ("Infinity", "Enter an amount in euros"),
    ("-Infinity", "Enter an amount in euros"),
    ("1.001", "Use at most two decimals (cents)."),
    ("1e-999999999", "Use at most two decimals (cents)."),
    ("twelve", "Not a valid decimal value."),
]


@pytest.mark.parametrize(("amount", "message"), ABSURD_AMOUNTS)
def test_the_call_forms_refuse_absurd_budgets(client, coordinator, make_call, amount, message):
    response = client.post(
        "/calls/new",
        data={
            "key": "absurd",
            "title": "T",
            "scheme_file": DEMO_SCHEME.name,
            "budget_eur": amount,
        },
    )
    assert response.status_code == 400
    assert message in page_text(response)
    assert count(Call) == 0

    call = make_call(budget_eur=Decimal("100.00"))
    response = client.post(f"/calls/{call.key}/edit", data={"title": "T", "budget_eur": amount})
    assert response.status_code == 400
    assert message in page_text(response)
    db.session.refresh(call)
    assert call.budget_eur == Decimal("100.00")


@pytest.mark.parametrize(("amount", "message"), ABSURD_AMOUNTS)
def test_the_proposal_form_refuses_absurd_funding(
    client, coordinator, make_call, make_proposal, amount, message
):
    call = make_call()
    data = {"reference": "P-1", "title": "T", "requested_funding_eur": amount}
    response = client.post(f"/calls/{call.key}/proposals/new", data=data)
    assert response.status_code == 400
    assert message in page_text(response)
    assert count(Proposal) == 0

    proposal = make_proposal(call)
    data["reference"] = proposal.reference
    response = client.post(f"/calls/{call.key}/proposals/{proposal.id}/edit", data=data)
    assert response.status_code == 400
    db.session.refresh(proposal)
    assert proposal.requested_funding_eur == Decimal("1000000.00")


def test_the_largest_amount_in_cents_is_accepted(client, coordinator, make_call) -> None:
    call = make_call()
    response = client.post(
        f"/calls/{call.key}/edit", data={"title": "T", "budget_eur": str(limits.MAX_EUR)}
    )
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.budget_eur == limits.MAX_EUR


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e26", "row 2, column 'requested_funding_eur': must be less than 1,000,000,000,000"),
        ("1e999999999", "must be less than 1,000,000,000,000, got 1e999999999"),
        ("NaN", "row 2, column 'requested_funding_eur': must be a number, got 'NaN'"),
        ("sNaN", "must be a number, got 'sNaN'"),
        ("-Infinity", "must be a number, got '-Infinity'"),
        ("-5", "must not be negative, got -5"),
        ("1.001", "at most two decimals, got 1.001"),
        ("1e-999999999", "at most two decimals, got 1e-999999999"),
    ],
)
def test_the_proposal_import_refuses_absurd_funding_in_csv(make_call, amount, message) -> None:
    call = make_call()
    table = read_table(
        f"reference,title,requested_funding_eur\nP1,T,{amount}\n".encode(), filename="p.csv"
    )
    with pytest.raises(ImportRejected) as info:
        import_proposals(call, table, actor=None)
    assert message in str(info.value)
    assert count(Proposal) == 0


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("1e26", "row 1, column 'requested_funding_eur': must be less than 1,000,000,000,000"),
        ("NaN", "row 1, column 'requested_funding_eur': must be a number, got nan"),
        ("-Infinity", "must be a number, got -inf"),
        ("1" + "0" * 5000, "must be less than 1,000,000,000,000, got 1000000000"),
        ("0.001", "at most two decimals, got 0.001"),
    ],
)
def test_the_proposal_import_refuses_absurd_funding_in_json(make_call, literal, message) -> None:
    call = make_call()
    data = f'[{{"reference": "P1", "title": "T", "requested_funding_eur": {literal}}}]'
    with pytest.raises(ImportRejected) as info:
        import_proposals(call, read_table(data.encode(), filename="p.json"), actor=None)
    assert message in str(info.value)
    assert len(str(info.value)) < 200  # a 5,000-digit number is not repeated whole
    assert count(Proposal) == 0


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("1e26", "--budget: 1e26 is implausibly large"),
        ("NaN", "--budget: a non-negative amount with at most two decimals, got 'NaN'"),
        ("sNaN", "--budget: a non-negative amount with at most two decimals, got 'sNaN'"),
        ("-1", "--budget: a non-negative amount with at most two decimals, got '-1'"),
        ("1e-999999999", "--budget: a non-negative amount with at most two decimals"),
    ],
)
def test_the_cli_refuses_absurd_budgets(runner, app_ctx, budget, message) -> None:
    lines = cli_fails(
        runner,
        "call",
        "create",
        "--criteria",
        str(DEMO_SCHEME),
        "--key",
        "k",
        "--title",
        "T",
        "--budget",
        budget,
    )
    assert any(message in line for line in lines), lines
    assert count(Call) == 0


# --- scores -------------------------------------------------------------------------------------

REVIEW_HEADER = (
    "proposal,expert,compute,compute_comment,expertise,expertise_comment,funding,funding_comment"
)
COMMENT = "A clear plan with a credible team and a sound budget."  # no comma: a CSV cell


@pytest.fixture
def review_import(evaluated_call):
    """A call in evaluation with an assigned pair, and a function that imports one review row
    of that pair whose compute score is the given text."""
    call = evaluated_call
    proposal = call.proposals[0]
    expert = min(proposal.assignments, key=lambda a: a.id).expert

    def run(compute: str, comment: str = COMMENT) -> list[Review]:
        line = ",".join(
            [proposal.reference, expert.email, compute, comment, "3", COMMENT, "3", COMMENT]
        )
        table = read_table(f"{REVIEW_HEADER}\n{line}\n".encode(), filename="r.csv")
        return import_reviews(call, table, actor=None)

    return run


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("1e26", "row 2, column 'compute': must be less than 1,000,000,000,000, got 1e26"),
        ("1e999999999", "row 2, column 'compute': must be less than"),
        ("NaN", "row 2, column 'compute': must be a number, got 'NaN'"),
        ("Infinity", "row 2, column 'compute': must be a number, got 'Infinity'"),
        ("4.555", "row 2, column 'compute': at most two decimals, got 4.555"),
        ("1e-999999999", "row 2, column 'compute': at most two decimals"),
        ("-1", "row 2, column 'compute': -1 is off the scale: 0 to 5 in steps of 0.5"),
        ("4.25", "row 2, column 'compute': 4.25 is off the scale"),
    ],
)
def test_the_review_import_refuses_absurd_scores(review_import, score, message) -> None:
    with pytest.raises(ImportRejected) as info:
        review_import(score)
    assert message in str(info.value)
    assert count(Review) == 0
    assert count(ConflictDeclaration) == 0


@pytest.mark.parametrize("score", ["1e26", "1e999999999", "sNaN", "9" * 5000, "-0.5", "5.5"])
def test_the_review_form_refuses_absurd_scores(client, declared_expert, score) -> None:
    response = client.post(
        f"/expert/assignments/{declared_expert.id}", data=review_post(score_compute=score)
    )
    assert response.status_code == 422
    assert "Choose a score on the scale." in page_text(response)
    assert count(Review) == 0


# --- deeply nested and huge files: JSON ---------------------------------------------------------


def test_a_deeply_nested_json_file_is_one_clear_error() -> None:
    with pytest.raises(ImportRejected) as info:
        read_table(DEEP_JSON, filename="deep.json")
    assert [str(e) for e in info.value.errors] == [JSON_TOO_DEEP]


def test_nesting_that_json_can_read_is_still_refused_at_its_line() -> None:
    rows = [{"reference": "P1", "title": "T"}, {"reference": "P2", "title": "T", "x": 1}]
    text = json.dumps(rows, indent=1).replace('"x": 1', '"x": ' + "[" * 30 + "]" * 30)
    with pytest.raises(ImportRejected) as info:
        read_table(text.encode(), filename="p.json")
    line = text.splitlines().index(next(t for t in text.splitlines() if '"x"' in t)) + 1
    assert [str(e) for e in info.value.errors] == [
        f"line {line}: lists and objects nest more than 20 levels deep"
    ]


def test_a_json_file_as_deep_as_allowed_is_read() -> None:
    value: Any = "deep"
    for _ in range(limits.NESTING - 2):  # the list of rows and the row are two levels
        value = [value]
    table = read_table(json.dumps([{"reference": "P1", "x": value}]).encode(), filename="p.json")
    assert table.rows[0].values["x"] == value


def test_a_too_large_import_file_is_refused_before_it_is_read(monkeypatch) -> None:
    monkeypatch.setattr(limits, "IMPORT_BYTES", 1024 * 1024)
    with pytest.raises(ImportRejected) as info:
        read_table(b"reference,title\n" + b"P,T\n" * 300_000, filename="big.csv")
    assert [str(e) for e in info.value.errors] == [
        "the file is larger than 1 MB; split it into smaller files"
    ]


def test_the_web_import_says_the_json_is_nested_too_deeply(client, coordinator, make_call):
    call = make_call()
    response = client.post(
        f"/calls/{call.key}/proposals/import",
        data={"file": (io.BytesIO(DEEP_JSON), "deep.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert JSON_TOO_DEEP in page_text(response)
    assert count(Proposal) == 0


@pytest.mark.parametrize(
    "command",
    [
        ("proposals", "import", "{key}"),
        ("users", "import"),
        ("assign", "{key}"),
        ("reviews", "import", "{key}"),
        ("consensus", "import", "{key}"),
    ],
)
def test_every_cli_import_says_the_json_is_nested_too_deeply(
    runner, make_call, tmp_path, command
) -> None:
    call = make_call()
    path = tmp_path / "deep.json"
    path.write_bytes(DEEP_JSON)
    args = [part.format(key=call.key) for part in command]
    lines = cli_fails(runner, *args, str(path))
    assert lines == [f"{path}: {JSON_TOO_DEEP}", "Error: 1 problem; nothing was imported."]


def test_the_cli_refuses_a_too_large_import_file(runner, make_call, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "CLI_IMPORT_BYTES", 1024 * 1024)
    call = make_call()
    path = tmp_path / "big.csv"
    path.write_bytes(b"reference,title\n" + b"P,T\n" * 300_000)
    lines = cli_fails(runner, "proposals", "import", call.key, str(path))
    assert lines[0] == f"{path}: the file is larger than 1 MB; split it into smaller files"
    assert count(Proposal) == 0


def test_a_deeply_nested_evaluation_json_is_not_a_report() -> None:
    with pytest.raises(EvaluationFormatError, match="not valid JSON: nested too deeply"):
        evaluation_in_from_json(DEEP_JSON)


# --- deeply nested and huge files: TOML ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (DEEP_TOML, TOML_TOO_DEEP),
        (b"a = " + b"{b = " * 5000, TOML_TOO_DEEP),
        (b"a" + b".a" * 100_000 + b" = 1", "line 1: a key has more than 20 dotted parts"),
        (b"[" + b"a." * 100_000 + b"a]", "line 1: a key has more than 20 dotted parts"),
        (b"a = 1" + b"0" * 5000, "not valid TOML: a number has more than 4300 digits"),
        (b"# " + b"x" * (2 * 1024 * 1024), "the file is larger than 1 MB"),
    ],
)
def test_an_absurd_scheme_upload_is_one_clear_error(client, coordinator, content, message):
    response = client.post(
        "/calls/new",
        data={"key": "k", "title": "T", "scheme_upload": (io.BytesIO(content), "bad.toml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert f"bad.toml: {message}" in page_text(response)
    assert count(Call) == 0


@pytest.mark.parametrize("command", [("criteria", "check"), ("call", "create")])
def test_the_cli_says_the_toml_is_nested_too_deeply(runner, app_ctx, tmp_path, command) -> None:
    path = tmp_path / "deep.toml"
    path.write_bytes(DEEP_TOML)
    if command == ("call", "create"):
        args = [*command, "--criteria", str(path), "--key", "k", "--title", "T"]
        expected = [f"Error: {path}: {TOML_TOO_DEEP}"]
    else:
        args = [*command, str(path)]
        expected = [f"{path}: {TOML_TOO_DEEP}"]
    assert cli_fails(runner, *args) == expected
    assert count(Call) == 0


def test_criteria_check_of_a_folder_says_so(runner, tmp_path) -> None:
    assert cli_fails(runner, "criteria", "check", str(tmp_path)) == [f"{tmp_path}: Is a directory"]


# --- free text ----------------------------------------------------------------------------------

PROPOSAL_TEXT = [
    ("reference", limits.PROPOSAL_REFERENCE),
    ("acronym", limits.PROPOSAL_ACRONYM),
    ("title", limits.PROPOSAL_TITLE),
    ("applicant", limits.PROPOSAL_APPLICANT),
    ("summary", limits.PROPOSAL_SUMMARY),
]


def too_long(limit: int) -> str:
    return f"Field cannot be longer than {limit} characters."


@pytest.mark.parametrize(("field", "limit"), PROPOSAL_TEXT)
def test_proposal_text_has_one_limit_in_the_form_and_the_import(
    client, coordinator, make_call, field, limit
) -> None:
    call = make_call()

    def values(reference: str, text: str) -> dict[str, str]:
        return {"reference": reference, "title": "T", field: text}

    # One character over: the form and the import refuse it, each naming the field.
    response = client.post(
        f"/calls/{call.key}/proposals/new", data=values("P-1", "x" * (limit + 1))
    )
    assert response.status_code == 400
    assert too_long(limit) in page_text(response)
    row = values("P-2", "y" * (limit + 1))
    upload = json.dumps([row]).encode()
    response = client.post(
        f"/calls/{call.key}/proposals/import",
        data={"file": (io.BytesIO(upload), "p.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    expected = f"row 1, column '{field}': at most {limit} characters, got {limit + 1}"
    assert expected in page_text(response)
    assert count(Proposal) == 0
    # Exactly at the limit: both accept it.
    response = client.post(f"/calls/{call.key}/proposals/new", data=values("P-1", "x" * limit))
    assert response.status_code == 302
    upload = json.dumps([values("P-2", "y" * limit)]).encode()
    response = client.post(
        f"/calls/{call.key}/proposals/import",
        data={"file": (io.BytesIO(upload), "p.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    lengths = db.session.scalars(select(func.length(getattr(Proposal, field)))).all()
    assert sorted(lengths) == [limit, limit]


def test_extra_fields_of_an_import_have_limits_too(make_call) -> None:
    call = make_call()
    long_name = "n" * (limits.EXTRA_FIELD_NAME + 1)
    table = read_table(f"reference,title,{long_name}\nP1,T,v\n".encode(), filename="p.csv")
    with pytest.raises(ImportRejected) as info:
        import_proposals(call, table, actor=None)
    assert [str(e) for e in info.value.errors] == [
        f"column '{'n' * (limits.ECHO_CHARS - 1)}…': the name of an extra column has at most "
        f"{limits.EXTRA_FIELD_NAME} characters, got {limits.EXTRA_FIELD_NAME + 1}"
    ]
    value = ["x" * 1000, "y" * 1000]  # as stored: JSON text of more than 2,000 characters
    table = read_table(json.dumps([{"reference": "P1", "title": "T", "partners": value}]).encode())
    with pytest.raises(ImportRejected, match="row 1, column 'partners': at most 2000 characters"):
        import_proposals(call, table, actor=None)
    assert count(Proposal) == 0


def test_user_text_has_one_limit_in_the_invitation_and_the_import(
    client, coordinator, make_call
) -> None:
    from reviewer_app.importers import import_users

    call = make_call()
    cases = [("name", limits.USER_NAME), ("organisation", limits.USER_ORGANISATION)]
    for field, limit in cases:
        data = {"name": "N", "email": "n@example.org", "language": "en", field: "x" * (limit + 1)}
        response = client.post(f"/calls/{call.key}/experts/invite", data=data)
        assert response.status_code == 400
        assert too_long(limit) in page_text(response)
        row = {"email": "n@example.org", "name": "N", "role": "expert", field: "x" * (limit + 1)}
        with pytest.raises(ImportRejected) as info:
            import_users(read_table(json.dumps([row]).encode()), actor=None)
        assert [str(e) for e in info.value.errors] == [
            f"row 1, column '{field}': at most {limit} characters, got {limit + 1}"
        ]
    assert count(User) == 1  # the coordinator


def test_review_comments_have_one_limit_in_the_form_and_the_import(
    client, declared_expert, review_import
) -> None:
    over = "c" * (limits.COMMENT + 1)
    response = client.post(
        f"/expert/assignments/{declared_expert.id}", data=review_post(comment_compute=over)
    )
    assert response.status_code == 422
    assert too_long(limits.COMMENT) in page_text(response)
    with pytest.raises(ImportRejected) as info:
        review_import("3", comment=over)
    assert [str(e) for e in info.value.errors] == [
        f"row 2, column 'compute_comment': at most {limits.COMMENT} characters, "
        f"got {limits.COMMENT + 1}"
    ]
    assert count(Review) == 0
    (review_id,) = review_import("3", comment="c" * limits.COMMENT)
    review = db.session.get(Review, review_id)
    assert review is not None and len(review.scores[0].comment) == limits.COMMENT


def test_the_cli_refuses_a_too_long_call_title(runner) -> None:
    title = "t" * (limits.CALL_TITLE + 1)
    lines = cli_fails(
        runner, "call", "create", "--criteria", str(DEMO_SCHEME), "--key", "k", "--title", title
    )
    assert lines == [f"Error: --title: 1 to {limits.CALL_TITLE} characters"]


def test_a_refused_value_is_not_repeated_whole_in_the_error(make_call) -> None:
    call = make_call()
    table = read_table(
        json.dumps([{"reference": "P1", "title": "T", "country": "D" * 1_000_000}]).encode()
    )
    with pytest.raises(ImportRejected) as info:
        import_proposals(call, table, actor=None)
    (message,) = [str(e) for e in info.value.errors]
    assert message.startswith("row 1, column 'country': a two-letter country code such as DE")
    assert len(message) < 150


# --- the limits are documented ------------------------------------------------------------------


def test_docs_limits_names_every_limit_with_its_value() -> None:
    doc = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for line in doc.splitlines():
        if line.startswith("|"):
            for name in re.findall(r"`limits\.([A-Z_]+)`", line):
                rows.setdefault(name, []).append(line)
    constants = {
        name: value
        for name, value in vars(limits).items()
        if name.isupper() and isinstance(value, int | Decimal)
    }
    assert sorted(rows) == sorted(constants)
    for name, value in constants.items():
        assert any(f"{value:,}" in line for line in rows[name]), (name, value)
    assert f"{MAX_ID:,}" in doc


def test_a_nul_character_in_a_form_is_a_clear_400(client, make_user, login_as) -> None:
    user = make_user("expert")
    response = client.post("/login", data={"email": user.email, "password": "a\x00b"})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert client.get("/login", query_string={"next": "/expert/\x00"}).status_code == 400


def test_a_nul_character_in_an_import_is_refused_with_its_line(app_ctx) -> None:
    from reviewer_app.importers import ImportRejected, read_table

    data = b"reference,title\nP1,Good\nP2,Bad\x00title\n"
    with pytest.raises(ImportRejected) as refused:
        read_table(data, filename="proposals.csv")
    assert refused.value.errors[0].row == 3
    assert "NUL character" in refused.value.errors[0].message


def test_the_cli_takes_files_larger_than_the_web_does(runner, make_call, tmp_path) -> None:
    """A call of 10,000 proposals comes in one file on the command line (issue 11); the web's
    upload keeps its smaller limit."""
    call = make_call()
    rows = limits.IMPORT_ROWS + 1
    path = tmp_path / "many.csv"
    path.write_text(
        "reference,title\n" + "".join(f"P{n:05d},Proposal {n}\n" for n in range(rows)),
        encoding="utf-8",
    )
    result = runner.invoke(args=["proposals", "import", call.key, str(path)])
    assert result.exit_code == 0, result.output
    assert count(Proposal) == rows
    with pytest.raises(ImportRejected, match="at most 10000 per file|at most 10,000 per file"):
        read_table(path.read_bytes(), filename="many.csv")
