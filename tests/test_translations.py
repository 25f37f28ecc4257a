"""Every string the interface shows has a German translation with the same placeholders."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from reviewer_app.i18n import AREAS, TRANSLATIONS_DIR, extract_messages

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _german() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in sorted((TRANSLATIONS_DIR / "de" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="de"):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    value = message.string if isinstance(message.string, str) else message.string[0]
                    merged[key] = value
    return merged


@pytest.mark.parametrize("area", [a for a in AREAS if a != "cli"])
def test_every_string_is_translated_to_german(area: str) -> None:
    german = _german()
    missing = {m: places[0] for m, places in extract_messages(area).items() if m not in german}
    assert not missing, (
        "untranslated (python -m reviewer_app.i18n --update adds them):\n"
        + "\n".join(
            f"  {place}: {msgid!r}" for msgid, place in sorted(missing.items(), key=lambda i: i[1])
        )
    )


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in _german().items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def test_listing_what_is_missing_changes_no_catalogue() -> None:
    """``python -m reviewer_app.i18n`` only reads (it used to rewrite four tracked files)."""
    import subprocess
    import sys

    catalogues = sorted((TRANSLATIONS_DIR / "de" / "LC_MESSAGES").glob("*.po"))
    before = {po: po.read_bytes() for po in catalogues}
    listed = subprocess.run(
        [sys.executable, "-m", "reviewer_app.i18n"], capture_output=True, text=True, check=True
    )
    assert "base: 0 untranslated" in listed.stdout
    assert {po: po.read_bytes() for po in catalogues} == before


def test_the_check_changes_nothing_and_fails_on_a_missing_string(monkeypatch, capsys) -> None:
    from reviewer_app import i18n

    catalogues = sorted((TRANSLATIONS_DIR / "de" / "LC_MESSAGES").glob("*.po"))
    before = {po: po.read_bytes() for po in catalogues}
    assert i18n.main(["--check"]) == 0
    assert {po: po.read_bytes() for po in catalogues} == before
    monkeypatch.setattr(
        i18n, "missing_translations", lambda area: ["A new string"] if area == "expert" else []
    )
    assert i18n.main(["--check"]) == 1
    assert "expert: 1 untranslated\n  'A new string'" in capsys.readouterr().out
    assert i18n.main([]) == 0  # listing alone never fails
    assert i18n.main(["--check", "nowhere"]) == 2


def test_a_plural_string_keeps_its_plural_in_the_catalogue(tmp_path, monkeypatch) -> None:
    """ngettext strings go into the catalogue with both forms; one form translated is still
    missing (German readers would get the English plural)."""
    from reviewer_app import i18n

    source = tmp_path / "area.py"
    source.write_text(
        "from flask_babel import ngettext\n"
        "ngettext('%(num)d review', '%(num)d reviews', 2)\n"
        "_('A single string')\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(i18n.AREAS, "sample", (str(source),))
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    assert sorted(i18n.update_catalog("sample")) == ["%(num)d review", "A single string"]
    po = tmp_path / "translations" / "de" / "LC_MESSAGES" / "sample.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    plural = catalog.get("%(num)d review")
    assert plural.id == ("%(num)d review", "%(num)d reviews")
    plural.string = ("%(num)d Gutachten", "")  # one form only: still missing
    catalog.get("A single string").string = "Eine einzelne Zeichenkette"
    from babel.messages.pofile import write_po

    with po.open("wb") as fh:
        write_po(fh, catalog)
    assert i18n.missing_translations("sample") == ["%(num)d review"]
    assert i18n.update_catalog("sample") == ["%(num)d review"]  # kept, not lost
    with po.open("rb") as fh:
        kept = read_po(fh, locale="de").get("%(num)d review")
    assert kept.string == ("%(num)d Gutachten", "")
