"""The languages the application speaks: its pages, e-mails and reports, and the ones a
criteria file is checked for. Pure, so the command line and the scoring package can read it."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "de")
DEFAULT_LANGUAGE = "en"
