"""Criteria files: every shipped file loads; every kind of mistake is reported with its key."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from reviewer_app.scoring.scheme import Scheme, SchemeError, load_scheme_file, parse_scheme

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
