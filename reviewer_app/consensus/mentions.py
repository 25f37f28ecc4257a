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


def mention_patterns(names: Iterable[str], letters: Iterable[str]) -> list[re.Pattern[str]]:
    """Patterns for the experts' ``names`` and their pseudonyms (``letters``: "A", "B" ...)."""
    words = {name.strip() for name in names if name.strip()}
    marks = list(letters)
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            words.update(_("Expert %(letter)s", letter=mark) for mark in marks)
    return [re.compile(rf"(?<!\w){re.escape(word)}(?!\w)") for word in sorted(words)]


def naming(texts: Mapping[K, str], patterns: list[re.Pattern[str]]) -> list[K]:
    """The keys of ``texts`` whose text names an expert, in the order given."""
    return [key for key, text in texts.items() if any(p.search(text) for p in patterns)]
