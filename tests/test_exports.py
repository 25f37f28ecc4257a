"""Exports: formula injection escaped in every format a spreadsheet opens, numbers exact."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from reviewer_app.exports import (
    Sheet,
    csv_text,
    export_call,
    reviews_sheet,
    safe_cell,
    sheet_csv,
    sheet_json,
    sheet_xlsx,
)
from reviewer_app.models import Phase
from reviewer_app.ranking import rank_call, ranking_json

from .factories import advance_call, declare_for, write_review


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=SUM(A1:A3)", "'=SUM(A1:A3)"),
        ("+33 1 23 45", "'+33 1 23 45"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Plain title", "Plain title"),
        ("A = B", "A = B"),  # only a leading sign is dangerous
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_safe_cell(value, escaped):
    assert safe_cell(value) == escaped


def test_csv_text_escapes_every_cell_and_quotes_as_needed():
    assert csv_text(["a", "=b"], [["1,5", "@x"], ['say "hi"', "-"]]) == (
        'a,\'=b\n"1,5",\'@x\n"say ""hi""",\'-\n'
    )


SHEET = Sheet(
    "Test",
    ("name", "score", "amount", "count", "none"),
    (('=HYPERLINK("http://x")', Decimal("3.335"), Decimal("1500000"), 3, None),),
)


def test_sheet_csv_and_json_show_two_decimals():
    assert sheet_csv(SHEET) == (
        'name,score,amount,count,none\n"\'=HYPERLINK(""http://x"")",3.34,1500000.00,3,\n'
    )
    assert sheet_json(SHEET) == [
        {
            "name": '=HYPERLINK("http://x")',  # JSON is data, not a spreadsheet: kept as is
            "score": "3.34",
            "amount": "1500000.00",
            "count": 3,
            "none": None,
        }
    ]


def test_sheet_xlsx_stores_text_as_text_and_numbers_as_numbers():
    book = load_workbook(io.BytesIO(sheet_xlsx(SHEET)))
    sheet = book["Test"]
    header, row = list(sheet.iter_rows())
    assert [c.value for c in header] == ["name", "score", "amount", "count", "none"]
    assert row[0].value == '\'=HYPERLINK("http://x")'
    assert row[0].data_type == "s"
    assert row[1].value == pytest.approx(3.335) and row[1].number_format == "0.00"
    assert row[2].value == 1500000 and row[3].value == 3 and row[4].value is None


# Each criterion's comment starts with a sign a spreadsheet would take for a formula.
COMMENTS = {
    key: f"+{key} comment that is long enough for the scheme's minimum"
    for key in ("compute", "expertise", "funding")
}


@pytest.fixture
def call_with_reviews(make_call, make_proposal, make_user, make_assignment):
    """P-1 with a submitted review (Ana), a draft (Ben) and a conflict (Cleo); P-2 not started.
    Built as users build it: assigned in set-up, then declared and written in evaluation."""
    call = make_call(budget_eur=Decimal("1000000"))
    proposal = make_proposal(call, reference="P-1", title="-1 good idea")
    experts = [make_user("expert", name=n) for n in ("Ana", "Ben", "Cleo")]
    submitted, draft, conflicted = (make_assignment(proposal, e) for e in experts)
    other = make_proposal(call, reference="P-2")
    for expert in experts:  # not started (three, so that the call can open)
        make_assignment(other, expert)
    advance_call(call, Phase.EVALUATION)
    declare_for(conflicted, conflict="=boss")
    values = dict.fromkeys(COMMENTS, "4.5")
    with time_machine.travel(datetime(2024, 11, 20, 9, 30, tzinfo=UTC), tick=False):
        write_review(submitted, values, comment=COMMENTS)
    write_review(draft, values, submitted=False, comment=COMMENTS)
    return call


def test_reviews_sheet_has_one_row_per_assignment(call_with_reviews):
    sheet = reviews_sheet(call_with_reviews)
    assert sheet.header[:10] == (
        "proposal", "acronym", "title", "expert", "expert_name", "rapporteur", "conflict",
        "conflict_reason", "review_status", "submitted_at",
    )  # fmt: skip
    assert sheet.header[10:] == (
        "compute", "compute_comment", "expertise", "expertise_comment", "funding",
        "funding_comment",
    )  # fmt: skip
    rows = {(r[0], r[4]): r for r in sheet.rows}
    assert rows[("P-1", "Ana")][6:12] == (
        "no", "", "submitted", "2024-11-20T09:30:00", Decimal("4.5"), COMMENTS["compute"]
    )  # fmt: skip
    assert rows[("P-1", "Ben")][8] == "draft"
    assert rows[("P-1", "Cleo")][6:9] == ("yes", "=boss", "not started")
    assert rows[("P-2", "Ana")][6:11] == ("", "", "not started", "", None)
    csv_out = export_call(call_with_reviews, "reviews", "csv").decode()
    assert ",'-1 good idea," in csv_out
    assert ",'=boss," in csv_out
    assert f",'{COMMENTS['compute']}," in csv_out


def test_ranking_exports_agree_with_the_ranking(call_with_reviews):
    ranking = rank_call(call_with_reviews, with_scores=True)  # the JSON lists every score
    as_json = json.loads(export_call(call_with_reviews, "ranking", "json"))
    assert as_json == json.loads(json.dumps(ranking_json(ranking)))
    lines = export_call(call_with_reviews, "ranking", "csv").decode().splitlines()
    assert lines[0] == (
        "rank,reference,title,reviews,compute,expertise,funding,total,weighted_total,status,"
        "flags,requested_funding_eur,cumulative_funding_eur"
    )
    # one submitted review of three needed: incomplete, but the scores it has are shown
    assert lines[1] == ",P-1,'-1 good idea,1,4.50,4.50,4.50,13.50,13.50,incomplete,,1000000.00,"
    book = load_workbook(io.BytesIO(export_call(call_with_reviews, "ranking", "xlsx")))
    rows = list(book["Ranking"].iter_rows(values_only=True))
    assert rows[1][:4] == (None, "P-1", "'-1 good idea", 1)


def test_export_refuses_unknown_kinds(call_with_reviews):
    with pytest.raises(ValueError, match="unknown export"):
        export_call(call_with_reviews, "votes", "csv")
    with pytest.raises(ValueError, match="unknown format"):
        export_call(call_with_reviews, "ranking", "pdf")


def test_no_criterion_key_can_take_a_fixed_column_of_an_export(app_ctx, make_call, make_proposal):
    """The names the scheme loader refuses are the ones the exports write (scoring/columns.py),
    read here off real exports."""
    from reviewer_app.exports import ranking_sheet
    from reviewer_app.scoring.scheme import RESERVED_KEYS

    call = make_call()
    make_proposal(call)
    keys = set(call.scheme.criterion_keys)
    criterion_cells = keys | {f"{k}_comment" for k in keys}
    fixed = set(reviews_sheet(call).header) | set(ranking_sheet(rank_call(call)).header)
    assert fixed - criterion_cells <= RESERVED_KEYS
    assert {"conflict", "conflict_reason", "review_status", "expert_name"} <= RESERVED_KEYS


def test_a_streamed_csv_is_the_same_file_in_chunks():
    from reviewer_app.exports import csv_chunks, csv_text

    rows = [[f"P{n}", "=1+1" if n == 3 else f"text, with comma {n}"] for n in range(7)]
    chunks = list(csv_chunks(["reference", "note"], rows, rows_per_chunk=3))
    assert len(chunks) == 3  # header and rows 0-2, rows 3-5, row 6
    assert "".join(chunks) == csv_text(["reference", "note"], rows)
    assert "'=1+1" in chunks[1]
