"""Exact numbers and how they are shown. Pure: standard library only.

Scores are decided on exact values (``Fraction``) and only rounded when shown, always the same
way: half-up to two decimals, so the web page, the CSV and the PDF print the same digits.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

TWO_PLACES = Decimal("0.01")


def to_decimal(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """``value`` rounded half-up (away from zero on a tie) to ``places`` decimals, exactly."""
    if isinstance(value, Fraction):
        numerator, denominator = value.numerator, value.denominator
    else:
        numerator, denominator = value.as_integer_ratio()
    # Integer arithmetic: floor(scaled + 1/2) is half-up for non-negative numbers, with no
    # intermediate binary or limited-precision decimal rounding (and no Fraction made: a
    # 10,000-proposal export shows 50,000 numbers).
    units = (abs(numerator) * 10**places * 2 + denominator) // (denominator * 2)
    if numerator < 0:
        units = -units
    return Decimal(f"{units}E-{places}")  # from text: exact at any size, ``places`` decimals


def format_score(value: Fraction | Decimal | None) -> str:
    """A score or total for display and export: half-up, two decimals; ``""`` for no value."""
    if value is None:
        return ""
    return str(to_decimal(value, 2))


def format_change(value: Fraction | Decimal | None) -> str:
    """A difference for display: signed, its size half-up to two decimals (``+0.17``,
    ``−0.50``; ``0.00`` for none); ``""`` for no value. The consensus page's script writes
    the same text."""
    if value is None:
        return ""
    if value == 0:
        return "0.00"
    # U+2212 MINUS SIGN: a hyphen reads as a dash in running text.
    return ("+" if value > 0 else "\u2212") + str(to_decimal(abs(Fraction(value)), 2))


def format_money(value: Decimal | None) -> str:
    """Euros with two decimals and no grouping (machine-readable); ``""`` for no value."""
    if value is None:
        return ""
    return str(to_decimal(value, 2))


def mean(values: tuple[Decimal, ...]) -> Fraction | None:
    if not values:
        return None
    return sum((Fraction(v) for v in values), Fraction(0)) / len(values)


def median(values: tuple[Decimal, ...]) -> Fraction | None:
    """The middle value; with an even count, the mean of the two middle values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return (Fraction(ordered[middle - 1]) + Fraction(ordered[middle])) / 2


def population_stdev(values: tuple[Decimal, ...]) -> Decimal | None:
    """Population standard deviation (divides by n, not n - 1).

    The experts of a proposal are the whole population being described, not a sample of a larger
    one, and it is defined for a single review (0). The variance is exact; only the square root
    is rounded, to 28 significant digits, the same on every machine.
    """
    if not values:
        return None
    centre = mean(values)
    assert centre is not None
    variance = sum(((Fraction(v) - centre) ** 2 for v in values), Fraction(0)) / len(values)
    with localcontext() as ctx:
        ctx.prec = 28
        ctx.rounding = ROUND_HALF_UP
        as_decimal = Decimal(variance.numerator) / Decimal(variance.denominator)
        return +as_decimal.sqrt()
