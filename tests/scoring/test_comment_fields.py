"""Criteria with several comment boxes: read from the file, checked, translated, stored, and
composed into the one comment every reader sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer_app.scoring.comment_fields import compose, parts_for_form, too_short
from reviewer_app.scoring.scheme import CommentField, Scheme, SchemeError
from reviewer_app.scoring.scheme_parser import load_scheme_file, parse_scheme

HORIZON = Path(__file__).resolve().parents[2] / "criteria" / "horizon-europe-ria.toml"

BASE = """
key = "t"
title = "T"
[scale]
min = 0
max = 5
[[criteria]]
key = "a"
title = "A"
{fields}
"""

TWO = """
[[criteria.comment_fields]]
key = "strengths"
label = "Strengths"
min_chars = 20
[[criteria.comment_fields]]
key = "weaknesses"
label = "Weaknesses"
"""


def problems(fields: str) -> list[str]:
    with pytest.raises(SchemeError) as info:
        parse_scheme(BASE.format(fields=fields), "f.toml")
    return [str(p) for p in info.value.problems]


def test_the_boxes_are_read_in_order_with_their_minimums() -> None:
    scheme = parse_scheme(BASE.format(fields=TWO), "f.toml")
    assert scheme.criterion("a").comment_fields == (
        CommentField("strengths", "Strengths", 20),
        CommentField("weaknesses", "Weaknesses", 0),
    )
    # Stored with the call and read back the same.
    assert Scheme.from_json(scheme.to_json()) == scheme


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (TWO.split("[[criteria.comment_fields]]\nkey = \"weaknesses\"")[0],
         "f.toml: criteria[1] (a).comment_fields: give two or more fields, or none"),
        (TWO.replace('"weaknesses"', '"strengths"'),
         "f.toml: criteria[1] (a).comment_fields[2].key: duplicate comment field 'strengths'"),
        (TWO.replace('"weaknesses"', '"Weak ness"'),
         "f.toml: criteria[1] (a).comment_fields[2].key: use lowercase letters"),
        (TWO.replace('label = "Weaknesses"', ""),
         "f.toml: criteria[1] (a).comment_fields[2].label: is missing"),
        (TWO.replace("min_chars = 20", "min_chars = -1"),
         "f.toml: criteria[1] (a).comment_fields[1].min_chars: must not be negative"),
        (TWO.replace("min_chars = 20", "minimum = 20"),
         "f.toml: criteria[1] (a).comment_fields[1].minimum: unknown key"),
        ('comment_fields = "strengths"',
         "f.toml: criteria[1] (a).comment_fields: must be a list of [[criteria.comment_fields]]"),
    ],
)  # fmt: skip
def test_a_mistake_in_the_boxes_is_named_where_it_is(fields: str, expected: str) -> None:
    found = problems(fields)
    assert any(p.startswith(expected) for p in found), found


def test_the_labels_are_translated_and_a_missing_one_is_a_warning() -> None:
    scheme = load_scheme_file(HORIZON)
    german = scheme.in_language("de").criterion("excellence").comment_fields
    assert [f.label for f in german] == ["Stärken", "Schwächen"]
    assert [f.min_chars for f in german] == [50, 50]  # numbers are never translated
    assert not [m for m in scheme.untranslated() if "comment_fields" in m]
    source = BASE.format(fields=TWO) + '[translations.de.criteria.a]\ntitle = "A"\n'
    assert "de: criteria.a.comment_fields.strengths" in parse_scheme(source).untranslated()
    wrong = source + '[translations.de.criteria.a.comment_fields]\nstrenghts = "Stärken"\n'
    with pytest.raises(SchemeError) as info:
        parse_scheme(wrong, "f.toml")
    assert any("translates no comment field" in str(p) for p in info.value.problems)


FIELDS = (CommentField("strengths", "Strengths", 10), CommentField("weaknesses", "Weaknesses", 5))


def test_the_boxes_make_one_comment_and_come_back_apart() -> None:
    parts = {"strengths": " Clear plan.\nGood site. ", "weaknesses": "Thin budget."}
    assert compose(FIELDS, parts) == (
        "Strengths:\nClear plan.\nGood site.\n\nWeaknesses:\nThin budget."
    )
    assert compose(FIELDS, {"strengths": "", "weaknesses": "Only this."}) == (
        "Weaknesses:\nOnly this."
    )
    assert parts_for_form(FIELDS, parts, "ignored") == parts
    # A comment from before the boxes (or imported as one column) opens in the first box.
    assert parts_for_form(FIELDS, None, "One text.") == {"strengths": "One text.", "weaknesses": ""}
    assert too_short(FIELDS, {"strengths": "Long enough", "weaknesses": "1234"}) == [FIELDS[1]]
