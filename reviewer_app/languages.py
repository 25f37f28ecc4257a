"""The languages the application speaks: its pages, e-mails and reports, and the ones a
criteria file is checked for. Pure, so the command line and the scoring package can read it."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "de")
DEFAULT_LANGUAGE = "en"

# Dates are written day month year in every language (Babel's English default is American):
# pages, e-mails and the PDFs read these patterns (display.py, reports/formatting.py).
DATE_PATTERNS = {"en": "d MMM yyyy", "de": "dd.MM.yyyy"}
LONG_DATE_PATTERNS = {"en": "d MMMM yyyy", "de": "d. MMMM yyyy"}


def date_pattern(language: str, *, long: bool = False) -> str:
    """The date pattern of ``language`` (English's for a language without one)."""
    patterns = LONG_DATE_PATTERNS if long else DATE_PATTERNS
    return patterns.get(language.split("_")[0], patterns[DEFAULT_LANGUAGE])
