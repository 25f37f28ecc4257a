"""Reading a criteria file's translations: ``[translations.<language>]`` tables that give the
title, description, scale descriptors and each criterion's title and question in one more
language (docs/criteria.md).

Pure: standard library only. Only words are translated: a translation cannot carry a number or
a rule, so the ranking is the same in every language. A missing text is no error; the readers
of that language see the scheme's own words there, and ``criteria check`` warns about it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import limits  # pure, like this package
from ..languages import DEFAULT_LANGUAGE
from .scheme import CriterionSpec, CriterionText, Scale, SchemeText

if TYPE_CHECKING:
    from .scheme_parser import _Checker

LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")


def read_language(check: _Checker, data: Mapping[str, Any]) -> str:
    """The language of the file's own texts (``language``, English when not given)."""
    language = check.text(data, "language", "language", required=False, default=DEFAULT_LANGUAGE)
    if not LANGUAGE.fullmatch(language):
        check.add("language", f"use a language code such as en, de or pt_BR, got {language!r}")
        return DEFAULT_LANGUAGE
    return language


def read_translations(
    check: _Checker,
    raw: Any,
    *,
    language: str,
    scale: Scale | None,
    criteria: list[CriterionSpec],
) -> tuple[tuple[str, SchemeText], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        check.add("translations", "must be a table of [translations.<language>] tables")
        return ()
    if check.limited and len(raw) > limits.SCHEME_LANGUAGES:
        check.add("translations", f"at most {limits.SCHEME_LANGUAGES} languages, got {len(raw)}")
        return ()
    found = []
    for lang, table in raw.items():
        where = f"translations.{limits.excerpt(str(lang))}"
        if not LANGUAGE.fullmatch(str(lang)):
            check.add(where, "use a language code such as de, fr or pt_BR")
            continue
        if lang == language:
            check.add(where, f"is the file's own language ({language}): write its texts above")
            continue
        if not isinstance(table, Mapping):
            check.add(where, "must be a table")
            continue
        found.append((str(lang), _read_text(check, table, where, scale, criteria)))
    return tuple(found)


def _read_text(
    check: _Checker,
    table: Mapping[str, Any],
    where: str,
    scale: Scale | None,
    criteria: list[CriterionSpec],
) -> SchemeText:
    check.unknown(table, {"title", "description", "scale", "criteria"}, f"{where}.")
    title = check.text(
        table, "title", f"{where}.title", required=False, max_length=limits.SCHEME_TITLE
    )
    description = check.text(
        table,
        "description",
        f"{where}.description",
        required=False,
        max_length=limits.SCHEME_DESCRIPTION,
    )
    scale_table = check.table(table, "scale", f"{where}.scale")
    check.unknown(scale_table, {"labels"}, f"{where}.scale.")
    labels = []
    raw_labels = check.table(scale_table, "labels", f"{where}.scale.labels")
    described = dict(scale.labels) if scale is not None else {}
    for name in raw_labels:
        at = f"{where}.scale.labels.{limits.excerpt(str(name))}"
        if not re.fullmatch(r"[0-9]{1,7}", str(name)) or int(name) not in described:
            check.add(at, "translates no descriptor of [scale.labels]")
            continue
        label = check.text(raw_labels, name, at, required=True, max_length=limits.SCALE_LABEL)
        if label.strip():
            labels.append((int(name), label))
    keys = [c.key for c in criteria]
    raw_criteria = check.table(table, "criteria", f"{where}.criteria")
    texts = []
    for key, item in raw_criteria.items():
        at = f"{where}.criteria.{limits.excerpt(str(key))}"
        if key not in keys:
            check.add(at, "is no criterion of this file")
            continue
        if not isinstance(item, Mapping):
            check.add(at, "must be a table with title and question")
            continue
        check.unknown(item, {"title", "question", "comment_fields"}, f"{at}.")
        own = {f.key for c in criteria if c.key == key for f in c.comment_fields}
        field_labels: list[tuple[str, str]] = []
        for name, label in check.table(item, "comment_fields", f"{at}.comment_fields").items():
            field_at = f"{at}.comment_fields.{limits.excerpt(str(name))}"
            if name not in own:
                check.add(field_at, "translates no comment field of this criterion")
                continue
            text = check.text(
                {name: label}, name, field_at, required=True, max_length=limits.CRITERION_TITLE
            )
            if text.strip():
                field_labels.append((str(name), text))
        words = CriterionText(
            title=check.text(
                item, "title", f"{at}.title", required=False, max_length=limits.CRITERION_TITLE
            )
            or None,
            question=check.text(
                item,
                "question",
                f"{at}.question",
                required=False,
                max_length=limits.CRITERION_QUESTION,
            )
            or None,
            comment_fields=tuple(field_labels),
        )
        texts.append((str(key), words))
    return SchemeText(
        title=title or None,
        description=description or None,
        scale_labels=tuple(sorted(labels)),
        criteria=tuple(sorted(texts, key=lambda kv: keys.index(kv[0]))),
    )
