"""Numbers, money, dates and fixed labels written the way a language writes them, for the
reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import gettext as _

from ..labels import expert_letter_label
from ..languages import date_pattern
from ..scoring.numbers import format_score

# --------------------------------------------------------------------------------------------
# Formatting for a language


class Formatter:
    """Numbers, money, dates and fixed labels written the way ``lang`` writes them.

    A large call formats tens of thousands of numbers, nearly all of them repeats (scores are
    on a half-point scale), and Babel's formatting dominated the report's own time; so every
    formatted text is remembered per input.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._memo: dict[tuple[str, object], str] = {}

    def _remember(self, kind: str, key: object, make: Callable[[], str]) -> str:
        try:
            return self._memo[(kind, key)]
        except KeyError:
            text = self._memo[(kind, key)] = make()
            return text

    def label(self, kind: str, value: object, make: Callable[[], str]) -> str:
        """A translated label (status, outcome, flag ...), looked up once per value."""
        return self._remember(kind, value, make)

    def score(self, value: Fraction | Decimal | None) -> str:
        if value is None:
            return "–"
        return self._remember("score", value, lambda: self._score(value))

    def _score(self, value: Fraction | Decimal) -> str:
        # format_score rounds half-up exactly like the CSV; Babel only localises the digits.
        text = format_score(value)
        return babel_format_decimal(Decimal(text), format="0.00", locale=self.lang)

    def plain(self, value: Decimal | None) -> str:
        """A weight, threshold or scale value: as few decimals as it needs."""
        if value is None:
            return "–"
        return self._remember(
            "plain", value, lambda: babel_format_decimal(value, format="0.##", locale=self.lang)
        )

    def count(self, value: int) -> str:
        return babel_format_decimal(value, format="#,##0", locale=self.lang)

    def money(self, value: Decimal | None) -> str:
        if value is None:
            return "–"
        # Cents always, as every page writes money (one format: 50,000,000.00 EUR).
        return self._remember(
            "money", value, lambda: babel_format_decimal(value, format="#,##0.00", locale=self.lang)
        )

    def money_eur(self, value: Decimal | None) -> str:
        if value is None:
            return "–"
        return _("%(amount)s EUR", amount=self.money(value))

    def long_date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        day = value.date() if isinstance(value, datetime) else value
        return babel_format_date(day, format=date_pattern(self.lang, long=True), locale=self.lang)

    def short_date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        day = value.date() if isinstance(value, datetime) else value
        return babel_format_date(day, format=date_pattern(self.lang), locale=self.lang)


def expert_name(mark: str) -> str:
    return expert_letter_label(mark)
