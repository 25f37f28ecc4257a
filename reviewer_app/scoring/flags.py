"""The flags the engine sets on a ranked proposal, as typed values.

A flag is stored and exported as text (``ex_aequo``, ``no_funding_amount``,
``disagreement:<criterion key>``); ``Flag`` writes and reads that text in one place, so no
caller splits strings. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FlagKind(StrEnum):
    EX_AEQUO = "ex_aequo"  # shares its rank with another proposal
    NO_FUNDING_AMOUNT = "no_funding_amount"  # passes, but asks for no amount
    DISAGREEMENT = "disagreement"  # the individual scores of a criterion spread too far
    PANEL_ORDER = "panel_order"  # tied on merit; its place in the tie is the panel's


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    criterion: str | None = None  # the criterion key, for a disagreement

    def __str__(self) -> str:
        return f"{self.kind}:{self.criterion}" if self.criterion else str(self.kind)

    @classmethod
    def parse(cls, text: str) -> Flag:
        """The flag written as ``text``; ValueError for text no flag writes."""
        kind, _, criterion = text.partition(":")
        return cls(FlagKind(kind), criterion or None)


EX_AEQUO = Flag(FlagKind.EX_AEQUO)
NO_FUNDING_AMOUNT = Flag(FlagKind.NO_FUNDING_AMOUNT)
PANEL_ORDER = Flag(FlagKind.PANEL_ORDER)


def disagreement(criterion: str) -> Flag:
    return Flag(FlagKind.DISAGREEMENT, criterion)
