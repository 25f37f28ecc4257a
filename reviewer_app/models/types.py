"""Column types that keep money and scores exact on every database.

SQLite has no decimal type (SQLAlchemy would round-trip through float), so amounts are stored as
integer cents and scores as integer hundredths, and presented to Python as ``Decimal``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Naive UTC: every timestamp column holds UTC, the same on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class _ScaledDecimal(TypeDecorator[Decimal]):
    impl: Any = Integer
    cache_ok = True
    scale = 100

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.scale
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more precision than 1/{self.scale}")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self.scale).normalize() + Decimal("0.00")


class Cents(_ScaledDecimal):
    """Euros with two decimals, stored as integer cents."""

    impl = BigInteger
    cache_ok = True


class Hundredths(_ScaledDecimal):
    """A score or weight with at most two decimals, stored as integer hundredths."""

    impl = Integer
    cache_ok = True
