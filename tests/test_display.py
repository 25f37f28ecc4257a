"""Numbers and dates as each language writes them (reviewer_app/display.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from flask import Flask
from flask_babel import force_locale

from reviewer_app.display import (
    display_change,
    display_date,
    display_datetime,
    display_money,
    display_score,
)


@pytest.mark.parametrize(
    ("lang", "score", "money", "change", "day", "moment"),
    [
        ("en", "4.83", "3,500,000.00", "\u22120.33", "15 Jan 2030", "30 Nov 2026, 20:40"),
        ("de", "4,83", "3.500.000,00", "\u22120,33", "15.01.2030", "30.11.2026, 20:40"),
    ],
)
def test_each_language_writes_its_own_way(
    app: Flask, lang: str, score: str, money: str, change: str, day: str, moment: str
) -> None:
    with app.test_request_context(), force_locale(lang):
        assert display_score(Fraction(29, 6)) == score  # 4.8333... half up
        assert display_money(Decimal("3500000")) == money
        assert display_change(Fraction(-1, 3)) == change
        assert display_date(date(2030, 1, 15)) == day
        assert display_datetime(datetime(2026, 11, 30, 20, 40, 5)) == moment
        assert display_score(None) == display_date(None) == display_datetime(None) == ""
