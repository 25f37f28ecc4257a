"""Numbers as the reader's language writes them, for pages and e-mails: ``4.83`` and
``3,500,000.00`` in English, ``4,83`` and ``3.500.000,00`` in German.

The values come from the scoring engine and are rounded by ``scoring.numbers.to_decimal`` (half
up, two decimals), so a page shows the same digits as the exports and the PDFs; only the
separators follow the language. Exports and the command line keep ``scoring.numbers``' machine
format (a dot, no grouping).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale

from .scoring.numbers import format_change, to_decimal


def display_score(value: Fraction | Decimal | None) -> str:
    """A score, total or threshold: two decimals, the reader's decimal sign; ``""`` for none."""
    if value is None:
        return ""
    return str(format_decimal(to_decimal(value, 2), format="#,##0.00"))


def display_money(value: Decimal | None) -> str:
    """An amount in euros: grouped, two decimals, in the reader's language; ``""`` for none."""
    if value is None:
        return ""
    return str(format_decimal(to_decimal(value, 2), format="#,##0.00"))


def decimal_sign() -> str:
    """The reader's decimal sign ("." or ","), for the scripts that write numbers too."""
    return str(get_decimal_symbol(get_locale() or "en"))


def display_change(value: Fraction | Decimal | None) -> str:
    """A signed difference (``+0,17`` in German), as ``scoring.numbers.format_change`` rounds it
    and the consensus page's script writes it."""
    return format_change(value).replace(".", decimal_sign())
