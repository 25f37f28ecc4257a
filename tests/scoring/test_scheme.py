"""Criteria files: every shipped file loads; every kind of mistake is reported with its key."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from reviewer_app.scoring.scheme import Scheme, SchemeError
from reviewer_app.scoring.scheme_parser import load_scheme_file, parse_scheme

CRITERIA = sorted((Path(__file__).resolve().parents[2] / "criteria").glob("*.toml"))

VALID = textwrap.dedent(
    """
    key = "t"
    title = "T"
    [scale]
    min = 0
    max = 5
    step = 0.5
    [scale.labels]
    0 = "Fails"
    5 = "Excellent"
    [rules]
    aggregate = "median"
    min_reviews = 3
    overall_threshold = 10
    disagreement_spread = 2
    tie_break = ["a"]
    comment_min_chars = 20
    [[criteria]]
    key = "a"
    title = "A"
    question = "Q?"
    weight = 1.5
    threshold = 3
    [[criteria]]
    key = "b"
    title = "B"
    """
)


@pytest.mark.parametrize("path", CRITERIA, ids=lambda p: p.name)
def test_shipped_criteria_files_load(path: Path) -> None:
    scheme = load_scheme_file(path)
    assert scheme.criteria
    assert Scheme.from_json(scheme.to_json()) == scheme


def test_demo_scheme_has_the_three_ai_factory_criteria() -> None:
    scheme = load_scheme_file(Path(CRITERIA[0]).parent / "ai-factories-2024.toml")
    assert scheme.criterion_keys == ("compute", "expertise", "funding")
    assert scheme.scale.values()[1] == Decimal("0.5")
    assert len(scheme.scale.values()) == 11
    assert scheme.rules.overall_threshold == 10


def test_valid_scheme_reads_exact_numbers() -> None:
    scheme = parse_scheme(VALID, "t.toml")
    assert scheme.criterion("a").weight == Decimal("1.5")
    assert scheme.criterion("b").weight == 1
    assert scheme.criterion("b").threshold is None
    assert scheme.rules.aggregate == "median"
    assert scheme.scale.label_for(Decimal(5)) == "Excellent"
    assert scheme.scale.contains(Decimal("2.5"))
    assert not scheme.scale.contains(Decimal("2.4"))
    assert not scheme.scale.contains(Decimal("5.5"))


def _problems(source: str) -> list[str]:
    with pytest.raises(SchemeError) as info:
        parse_scheme(source, "bad.toml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('title = "T"', 'titel = "T"'), "bad.toml: titel: unknown key (did you mean 'title'?)"),
        (('title = "T"', ""), "bad.toml: title: is missing"),
        (
            ("step = 0.5", "step = 0.7"),
            "bad.toml: scale.step: 0.7 does not divide the range 0 to 5 evenly",
        ),
        (("step = 0.5", 'step = "half"'), "bad.toml: scale.step: must be a number, not a string"),
        (("max = 5", "max = 0"), "bad.toml: scale.max: must be greater than scale.min (0), got 0"),
        (
            ("threshold = 3", "threshold = 6"),
            "bad.toml: criteria[1] (a).threshold: 6 is off the scale 0 to 5",
        ),
        (('key = "b"', 'key = "a"'), "bad.toml: criteria[2] (a).key: duplicate criterion key 'a'"),
        (
            ('tie_break = ["a"]', 'tie_break = ["z"]'),
            "bad.toml: rules.tie_break: 'z' is not a criterion key",
        ),
        (
            ("weight = 1.5", "weight = -1"),
            "bad.toml: criteria[1] (a).weight: must not be negative, got -1",
        ),
        (
            ('aggregate = "median"', 'aggregate = "mode"'),
            'bad.toml: rules.aggregate: must be "mean" or "median", got \'mode\'',
        ),
        (
            ("min_reviews = 3", "min_reviews = 0"),
            "bad.toml: rules.min_reviews: must be at least 1, got 0",
        ),
        (
            ("min_reviews = 3", "min_reviews = 2.5"),
            "bad.toml: rules.min_reviews: must be a whole number, not a number",
        ),
        (
            ("overall_threshold = 10", "overall_threshold = 11"),
            "bad.toml: rules.overall_threshold: 11 is off the range of the total, 0 to 10",
        ),
        (
            ('0 = "Fails"', '7 = "Fails"'),
            "bad.toml: scale.labels.7: score 7 is off the scale 0 to 5",
        ),
        (
            ('key = "a"', 'key = "A b"'),
            "bad.toml: criteria[1] (A b).key: use lowercase letters, digits and '_', starting with a letter, at most 40 characters",
        ),
        (
            ('key = "a"', 'key = "total"'),
            "bad.toml: criteria[1] (total).key: 'total' is reserved for import and export columns",
        ),
        (
            # The reviews export has a "conflict" column: a criterion of that name would make
            # the CSV hold two and the JSON overwrite the declaration with the score.
            ('key = "a"', 'key = "conflict"'),
            "bad.toml: criteria[1] (conflict).key: 'conflict' is reserved for import and export columns",
        ),
        (
            ('question = "Q?"', "question = 3"),
            "bad.toml: criteria[1] (a).question: must be a string, not a number",
        ),
        (
            ("weight = 1.5", "weight = 1.555"),
            "bad.toml: criteria[1] (a).weight: at most 2 decimals are supported, got 1.555",
        ),
        (
            ("disagreement_spread = 2", "disagreement_spread = 0"),
            "bad.toml: rules.disagreement_spread: must be greater than 0, got 0",
        ),
        (
            ("comment_min_chars = 20", "comment_min_chars = -1"),
            "bad.toml: rules.comment_min_chars: must not be negative, got -1",
        ),
    ],
)
def test_each_mistake_is_named_with_file_and_key(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in VALID
    assert expected in _problems(VALID.replace(old, new, 1))


def test_all_problems_reported_at_once() -> None:
    source = VALID.replace('title = "T"', 'titel = "T"').replace("threshold = 3", "threshold = 9")
    problems = _problems(source)
    assert len(problems) >= 3  # unknown key, missing title, threshold off the scale


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    problems = _problems("key = ")
    assert problems[0].startswith("bad.toml: not valid TOML")
    with pytest.raises(SchemeError, match="file not found"):
        load_scheme_file(tmp_path / "nope.toml")


def test_no_criteria_and_no_scale() -> None:
    problems = _problems('key = "x"\ntitle = "X"\n')
    assert "bad.toml: scale: is missing (min, max and step)" in problems
    assert "bad.toml: criteria: is missing: add at least one [[criteria]] table" in problems


def test_criteria_check_command(runner, tmp_path: Path) -> None:
    good = runner.invoke(args=["criteria", "check", *map(str, CRITERIA)])
    assert good.exit_code == 0, good.output
    assert "ok (ai-factories-2024, 3 criteria)" in good.output
    bad = tmp_path / "bad.toml"
    bad.write_text(VALID.replace("step = 0.5", "step = 0.7"))
    result = runner.invoke(args=["criteria", "check", str(bad)])
    assert result.exit_code == 1
    assert "scale.step: 0.7 does not divide the range 0 to 5 evenly" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("weight = 1.5", "weight = 1e26"),
            "bad.toml: criteria[1] (a).weight: must be between -1,000,000 and 1,000,000, got 1E+26",
        ),
        (
            ("weight = 1.5", "weight = 1e-999999999"),
            "bad.toml: criteria[1] (a).weight: at most 2 decimals are supported, got 1E-999999999",
        ),
        (
            ("max = 5", "max = 1e999999999"),
            "bad.toml: scale.max: must be between -1,000,000 and 1,000,000, got 1E+999999999",
        ),
        (
            ("step = 0.5", "step = 0.01"),
            "bad.toml: scale.step: the scale 0 to 5 in steps of 0.01 has 501 values; at most 101",
        ),
        (
            ("min_reviews = 3", "min_reviews = 1" + "0" * 60),
            "bad.toml: rules.min_reviews: must be at most 100, got 1" + "0" * 38 + "…",
        ),
        (
            ("comment_min_chars = 20", "comment_min_chars = 20001"),
            "bad.toml: rules.comment_min_chars: must be at most 20000, got 20001",
        ),
        (
            ('title = "T"', f'title = "{"T" * 301}"'),
            "bad.toml: title: at most 300 characters, got 301",
        ),
        (
            ('question = "Q?"', f'question = "{"Q" * 2001}"'),
            "bad.toml: criteria[1] (a).question: at most 2000 characters, got 2001",
        ),
        (
            ('title = "A"', f'title = "{"A" * 301}"'),
            "bad.toml: criteria[1] (a).title: at most 300 characters, got 301",
        ),
        (
            ('0 = "Fails"', f'0 = "{"F" * 301}"'),
            "bad.toml: scale.labels.0: at most 300 characters, got 301",
        ),
        (
            ('0 = "Fails"', f'{"9" * 5000} = "Fails"'),
            f"bad.toml: scale.labels.{'9' * 39}…: label keys must be whole scores such as 0, 1, 2",
        ),
        (
            ('aggregate = "median"', f'aggregate = "{"m" * 100}"'),
            f'bad.toml: rules.aggregate: must be "mean" or "median", got \'{"m" * 38}…',
        ),
    ],
)
def test_absurd_values_are_named_with_their_limit(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in VALID
    assert expected in _problems(VALID.replace(old, new, 1))


def test_at_most_fifty_criteria() -> None:
    extra = "".join(f'\n[[criteria]]\nkey = "c{n}"\ntitle = "C{n}"\n' for n in range(49))
    assert "bad.toml: criteria: at most 50 criteria, got 51" in _problems(VALID + extra)
    assert len(parse_scheme(VALID + extra.rsplit("\n[[criteria]]", 1)[0]).criteria) == 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a = " + "[" * 100_000,
            "bad.toml: line 1: lists and tables nest more than 20 levels deep",
        ),
        (
            "a = " + "{b = " * 5_000,
            "bad.toml: line 1: lists and tables nest more than 20 levels deep",
        ),
        (
            VALID + "x = [\n" + "[" * 20 + "\n]",
            f"bad.toml: line {VALID.count(chr(10)) + 2}: lists and tables nest more than 20 "
            "levels deep",
        ),
        ("a" + ".a" * 100_000 + " = 1", "bad.toml: line 1: a key has more than 20 dotted parts"),
        (
            '"a"' + '. "a"' * 100_000 + " = 1",
            "bad.toml: line 1: a key has more than 20 dotted parts",
        ),
        ("[" + "a." * 100_000 + "a]", "bad.toml: line 1: a key has more than 20 dotted parts"),
        ("a = 1" + "0" * 5000, "bad.toml: not valid TOML: a number has more than 4300 digits"),
        ("# " + "x" * 1024 * 1024, "bad.toml: the file is larger than 1 MB; a scheme has a few KB"),
    ],
)
def test_absurd_files_are_one_clear_problem(text: str, expected: str) -> None:
    assert _problems(text) == [expected]


def test_brackets_and_dots_inside_strings_and_comments_do_not_count() -> None:
    deep = "[" * 50 + "]" * 50
    source = VALID.replace(
        'question = "Q?"', f'question = "{deep} a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v"'
    )
    source = source.replace('title = "B"', f"title = '''{deep}\n{deep}'''  # {deep}")
    scheme = parse_scheme(source, "ok.toml")
    assert scheme.criterion("a").question.startswith(deep)
    assert scheme.criterion("b").title == f"{deep}\n{deep}"


def test_a_folder_or_a_huge_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(SchemeError) as info:
        load_scheme_file(tmp_path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path}: Is a directory"]
    big = tmp_path / "big.toml"
    big.write_bytes(VALID.encode() + b"#" * (1024 * 1024))
    with pytest.raises(SchemeError) as info:
        load_scheme_file(big)
    assert [str(p) for p in info.value.problems] == [
        f"{big}: the file is larger than 1 MB; a scheme has a few KB"
    ]


def test_a_stored_scheme_beyond_todays_limits_still_loads() -> None:
    """A call created before a limit existed keeps working: its stored scheme is not refused."""
    data = parse_scheme(VALID, "t.toml").to_json()
    data["scale"]["step"] = "0.01"  # 501 values
    data["criteria"][0]["question"] = "Q" * 3000
    data["rules"]["comment_min_chars"] = 30_000
    scheme = Scheme.from_json(data)
    assert len(scheme.scale.values()) == 501
    assert len(scheme.criterion("a").question) == 3000
    assert scheme.rules.comment_min_chars == 30_000
    source = VALID.replace("step = 0.5", "step = 0.01")
    assert (
        "bad.toml: scale.step: the scale 0 to 5 in steps of 0.01 has 501 values; at most 101"
        in (_problems(source))
    )
