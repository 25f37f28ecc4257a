"""How a text could name an expert: by name, or by the pseudonym ("Expert A") in any language
of the application. One definition for the consensus form, which refuses to make such a text
final, and the feedback report, which refuses to send one (reports finalised before that rule)
to an applicant."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

K = TypeVar("K")


def pseudonym_forms() -> tuple[str, ...]:
    """How "Expert A" reads in every language of the application, as format strings
    ("Expert {}", "Gutachter {}"): one translation per language, for a whole batch."""
    forms = set()
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            forms.add(_("Expert %(letter)s", letter="{}"))
    return tuple(sorted(forms))


def mention_pattern(
    names: Iterable[str], letters: Iterable[str], forms: tuple[str, ...] | None = None
) -> re.Pattern[str] | None:
    """One pattern for the experts' ``names`` and their pseudonyms (``letters``: "A", "B" ...)
    in every language (``forms`` from ``pseudonym_forms``, made here when not given); None when
    there is nothing to look for."""
    forms = pseudonym_forms() if forms is None else forms
    words = {name.strip() for name in names if name.strip()}
    words.update(form.format(mark) for form in forms for mark in letters)
    if not words:
        return None
    # Longest first, so "Expert AB" is not cut short at "Expert A".
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


# The consensus report's overall comment among its criterion comments, where a text check
# needs them all: never a criterion key (scoring.scheme.CRITERION_KEY starts with a letter).
OVERALL_COMMENT = "_overall"


def naming(texts: Mapping[K, str], pattern: re.Pattern[str] | None) -> list[K]:
    """The keys of ``texts`` whose text names an expert, in the order given."""
    if pattern is None:
        return []
    return [key for key, text in texts.items() if pattern.search(text)]
