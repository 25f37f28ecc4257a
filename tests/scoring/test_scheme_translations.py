"""Criteria files in several languages: the texts a translation gives, the fallback to the file's
own words, every mistake named with its key, and the warnings of ``criteria check``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reviewer_app.scoring.scheme import Scheme, SchemeError
from reviewer_app.scoring.scheme_parser import load_scheme_file, parse_scheme

from .test_scheme import CRITERIA, VALID

GERMAN = textwrap.dedent(
    """
    [translations.de]
    title = "T auf Deutsch"
    [translations.de.scale.labels]
    0 = "Ungenügend"
    [translations.de.criteria.a]
    title = "A auf Deutsch"
    question = "F?"
    [translations.de.criteria.b]
    title = "B auf Deutsch"
    """
)


def test_a_translation_gives_the_words_and_nothing_else() -> None:
    scheme = parse_scheme(VALID + GERMAN)
    assert scheme.languages == ("en", "de")
    german = scheme.in_language("de")
    assert german.title == "T auf Deutsch"
    assert [(c.key, c.title, c.question) for c in german.criteria] == [
        ("a", "A auf Deutsch", "F?"),
        ("b", "B auf Deutsch", ""),
    ]
    # A descriptor not translated keeps the file's own words.
    assert german.scale.labels == ((0, "Ungenügend"), (5, "Excellent"))
    # Numbers and rules are the scheme's own: the ranking is the same in every language.
    assert german.rules == scheme.rules and german.scale.values() == scheme.scale.values()
    assert [(c.weight, c.threshold) for c in german.criteria] == [
        (c.weight, c.threshold) for c in scheme.criteria
    ]
    # A regional variant takes the language; a language the file lacks, the file's own words.
    assert scheme.in_language("de_AT") == german
    assert scheme.in_language("fr") == scheme
    assert scheme.in_language("en") == scheme
    # Made once per language: a report asks for it once per proposal section.
    assert scheme.in_language("de") is german


def test_what_is_not_translated_is_listed() -> None:
    scheme = parse_scheme(VALID + GERMAN)
    assert scheme.untranslated() == ["de: scale.labels.5"]
    partial = parse_scheme(VALID + '[translations.de]\ntitle = "T"\n')
    assert partial.untranslated() == [
        "de: scale.labels.0",
        "de: scale.labels.5",
        "de: criteria.a.title",
        "de: criteria.a.question",
        "de: criteria.b.title",
    ]


def test_a_stored_scheme_keeps_its_translations() -> None:
    scheme = parse_scheme(VALID + GERMAN)
    assert Scheme.from_json(scheme.to_json()) == scheme
    other = parse_scheme('language = "de"\n' + VALID)
    assert other.language == "de" and Scheme.from_json(other.to_json()).language == "de"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[translations.deutsch]\ntitle = "T"', "translations.deutsch: use a language code"),
        ('[translations.en]\ntitle = "T"', "translations.en: is the file's own language (en)"),
        (
            '[translations.de.criteria.c]\ntitle = "C"',
            "translations.de.criteria.c: is no criterion",
        ),
        (
            '[translations.de.scale.labels]\n3 = "Gut"',
            "translations.de.scale.labels.3: translates no descriptor of [scale.labels]",
        ),
        ('[translations.de]\ntitel = "T"', "translations.de.titel: unknown key"),
        (
            "[translations.de.criteria.a]\nweight = 2",
            "translations.de.criteria.a.weight: unknown key",
        ),
        ("[translations.de]\ntitle = 3", "translations.de.title: must be a string"),
        (f'[translations.de]\ntitle = "{"x" * 301}"', "translations.de.title: at most 300"),
        ('translations = "de"', "translations: must be a table"),
        ('language = "German"', "language: use a language code"),
    ],
)
def test_each_mistake_is_named_with_its_key(extra: str, expected: str) -> None:
    text = VALID + extra if extra.startswith("[") else extra + "\n" + VALID
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "my.toml")
    assert any(expected in str(p) for p in caught.value.problems), caught.value.problems


def test_the_shipped_files_are_translated_into_every_language_of_the_application() -> None:
    from reviewer_app.languages import LANGUAGES

    for path in CRITERIA:
        scheme = load_scheme_file(path)
        assert set(LANGUAGES) <= set(scheme.languages), path.name
        assert scheme.untranslated() == [], path.name


def test_criteria_check_warns_about_what_is_missing(runner, tmp_path: Path) -> None:
    clean = runner.invoke(args=["criteria", "check", *map(str, CRITERIA)])
    assert clean.exit_code == 0 and "warning" not in clean.output, clean.output
    half = tmp_path / "half.toml"
    half.write_text(VALID + GERMAN)
    english = tmp_path / "english.toml"
    english.write_text(VALID)
    result = runner.invoke(args=["criteria", "check", str(half), str(english)])
    assert result.exit_code == 0, result.output  # warnings, not errors
    assert f"{half}: ok" in result.output
    assert (
        f"{half}: warning: translations.de.scale.labels.5 is missing; readers in de see it in en"
        in result.output
    )
    assert (
        f"{english}: warning: no [translations.de]; readers in de see the texts in en"
        in result.output
    )
