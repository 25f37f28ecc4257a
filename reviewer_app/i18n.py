"""Languages: English and German, the user's choice first, then the browser's."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import Babel
from flask_login import current_user

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
# One catalogue per area, so that each area's strings are kept (and reviewed) beside each other.
DOMAINS = ("base", "expert", "coordinator", "reports", "cli")


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and services called from it: the default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = session.get("language")
    if chosen in languages:
        return str(chosen)
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return str(current_user.language)
    return request.accept_languages.best_match(languages) or languages[0]


def init_i18n(app: Flask, babel: Babel) -> None:
    compile_catalogs()
    # Flask-Babel pairs directories with domains by position: one directory entry per domain,
    # else only the first domain ("base") is ever loaded.
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([str(TRANSLATIONS_DIR)] * len(DOMAINS))
    app.config["BABEL_DOMAIN"] = ";".join(DOMAINS)
    babel.init_app(app, locale_selector=select_locale)


def compile_catalogs(force: bool = False) -> None:
    """Compile every .po that is newer than its .mo (the .mo files are build output)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name, domain=po_path.stem)
        # A name of its own per process: parallel test workers compile at the same moment.
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo_path)


# Which files feed which catalogue (domain). A string found in several areas needs translating once.
AREAS: dict[str, tuple[str, ...]] = {
    "base": ("templates", "auth", "web.py", "i18n.py", "labels.py", "models"),
    "expert": ("expert",),
    "coordinator": (
        "coordinator",
        "consensus",
        "audit",
        "mail.py",
        "importers",
        "panel.py",
        "analytics_display.py",
        "call_analytics.py",
    ),
    "reports": ("reports",),
    "cli": ("cli", "demo"),
}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "pgettext": ((1, "c"), 2),
    "lazy_ngettext": (1, 2),
}


def extract_messages(domain: str) -> dict[str, list[str]]:
    """Every translatable string of an area: msgid -> places it is used."""
    return _extract(domain)[0]


def _extract(domain: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The area's strings with the places they are used, and the plural form of those written
    with ngettext (singular msgid -> plural msgid): a catalogue must carry both, or German
    readers get the English plural."""
    from babel.messages.extract import extract_from_file

    package = Path(__file__).parent
    found: dict[str, list[str]] = {}
    plurals: dict[str, str] = {}
    for entry in AREAS[domain]:
        root = package / entry
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.suffix == ".py":
                method = "python"
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                method = "jinja2"
            else:
                continue
            for lineno, message, _comments, _context in extract_from_file(
                method,
                str(path),
                keywords=KEYWORDS,
                options={"extensions": "jinja2.ext.do", "trimmed": "true"}
                if method == "jinja2"
                else {},
            ):
                msgid = message[0] if isinstance(message, tuple) else message
                if msgid:
                    place = path.relative_to(package) if path.is_relative_to(package) else path
                    found.setdefault(msgid, []).append(f"{place}:{lineno}")
                    if isinstance(message, tuple) and len(message) > 1 and message[1]:
                        plurals[msgid] = message[1]
    return found, plurals


def _singular(msgid: str | Sequence[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _is_translated(message: Any) -> bool:
    """A catalogue entry with every form translated (both of a plural) and not fuzzy."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(strings) and not message.fuzzy


def update_catalog(domain: str, locale: str = "de") -> list[str]:
    """Add the area's new strings to its .po (empty translations), drop unused ones.

    Returns the msgids that still have no translation.
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    old: Catalog
    if po_path.exists():
        with po_path.open("rb") as fh:
            old = read_po(fh, locale=locale, domain=domain)
    else:
        old = Catalog(locale=locale, domain=domain)
    new = Catalog(locale=locale, domain=domain, project="reviewer_app", fuzzy=False)
    found, plurals = _extract(domain)
    for msgid, places in sorted(found.items()):
        previous = old.get(msgid)
        kept = previous.string if previous and previous.string else ""
        string: str | tuple[str, ...]
        key: str | tuple[str, str] = msgid
        if msgid in plurals:
            key = (msgid, plurals[msgid])
            string = tuple(kept) if not isinstance(kept, str) else ("", "")
        else:
            string = kept if isinstance(kept, str) else kept[0]
        new.add(
            key,
            string,
            locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places],
        )
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fh:
        write_po(fh, new, width=100, omit_header=False, sort_output=True)
    return [_singular(m.id) for m in new if m.id and not _is_translated(m)]


def missing_translations(domain: str, locale: str = "de") -> list[str]:
    """The area's strings that its catalogue does not translate yet (the .po is only read)."""
    from babel.messages.pofile import read_po

    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    translated: set[str] = set()
    if po_path.exists():
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=domain)
        translated = {_singular(m.id) for m in catalog if m.id and _is_translated(m)}
    return sorted(set(extract_messages(domain)) - translated)


def main(args: list[str]) -> int:
    """``python -m reviewer_app.i18n [--check | --update] [domain ...]``: list the strings each
    area's German catalogue lacks. ``--check`` changes nothing and exits 1 when a string is
    missing (for CI and a pre-commit hook); ``--update`` rewrites the catalogues (new strings
    in, unused ones out) and lists what is still to translate."""
    update = "--update" in args
    check = "--check" in args
    names = [a for a in args if not a.startswith("--")] or list(AREAS)
    unknown = [n for n in names if n not in AREAS]
    if unknown:
        print(f"unknown area {', '.join(unknown)}; the areas are {', '.join(AREAS)}")
        return 2
    total = 0
    for name in names:
        missing = update_catalog(name) if update else missing_translations(name)
        total += len(missing)
        print(f"{name}: {len(missing)} untranslated")
        for msgid in missing:
            print(f"  {msgid!r}")
    return 1 if check and total else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
