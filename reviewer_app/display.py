"""Numbers and dates as the reader's language writes them, for pages and e-mails: ``4.83``,
``3,500,000.00`` and ``30 Nov 2026, 20:40`` in English; ``4,83``, ``3.500.000,00`` and
``30.11.2026, 20:40`` in German (day, month, year and a 24-hour clock in both).

The values come from the scoring engine and are rounded by ``scoring.numbers.to_decimal`` (half
up, two decimals), so a page shows the same digits as the exports and the PDFs; only the
separators follow the language. Exports and the command line keep ``scoring.numbers``' machine
format (a dot, no grouping).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from babel.numbers import get_decimal_symbol
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from .languages import DEFAULT_LANGUAGE, date_pattern
from .scoring.numbers import format_change, to_decimal
from .scoring.scheme import Scheme


def display_score(value: Fraction | Decimal | None) -> str:
    """A score, total or threshold: two decimals, the reader's decimal sign; ``""`` for none."""
    if value is None:
        return ""
    return str(format_decimal(to_decimal(value, 2), format="#,##0.00"))


def display_money(value: Decimal | None) -> str:
    """An amount in euros: grouped, two decimals, in the reader's language; ``""`` for none.
    Written as scores are (one rule for every two-decimal number a page shows)."""
    return display_score(value)


def decimal_sign() -> str:
    """The reader's decimal sign ("." or ","), for the scripts that write numbers too."""
    return str(get_decimal_symbol(get_locale() or "en"))


def display_change(value: Fraction | Decimal | None) -> str:
    """A signed difference (``+0,17`` in German), as ``scoring.numbers.format_change`` rounds it
    and the consensus page's script writes it."""
    return format_change(value).replace(".", decimal_sign())


# Day month year and a 24-hour clock: Babel's "short" styles give 11/30/26, 8:40 PM in English.
def _date_pattern() -> str:
    return date_pattern(reader_language())


def display_date(value: date | None, _style: str | None = None) -> str:
    """A date: ``30 Nov 2026`` / ``30.11.2026``; ``""`` for none. (``_style`` is accepted
    and ignored: every date is written one way.)"""
    if value is None:
        return ""
    return str(format_date(value, format=_date_pattern()))


def display_datetime(value: datetime | None, _style: str | None = None) -> str:
    """A moment (stored in UTC, shown in the site's time zone): ``30 Nov 2026, 20:40``."""
    if value is None:
        return ""
    return str(format_datetime(value, format=_date_pattern() + ", HH:mm"))


def reader_language() -> str:
    """The language the page is read in (the user's, or the browser's)."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def scheme_for_reader(scheme: Scheme) -> Scheme:
    """The scheme's criteria, scale and title in the reader's language where the criteria file
    translates them (docs/criteria.md); numbers and rules are the same in every language."""
    return scheme.in_language(reader_language())


def criterion_titles(scheme: Scheme) -> dict[str, str]:
    """Each criterion's title in the reader's language, by key."""
    return {c.key: c.title for c in scheme_for_reader(scheme).criteria}


def language_name(language: str) -> str:
    """``de`` as the reader says it: "German", "Deutsch"."""
    from babel import Locale

    return str(Locale.parse(language).get_display_name(reader_language()) or language)
