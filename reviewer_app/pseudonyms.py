"""How an expert is named where their identity is withheld: one definition for the consensus
page, the exports and the decision report, so that "Expert A" is the same person everywhere.

A proposal's panel is its assignments without a conflict, in the order they were made
(assignment id); the n-th gets the n-th letter: A, B, ... Z, AA, AB ... An expert whose review
is not counted keeps their letter, so a report may list A and C without B. Pure: no Flask, no
SQLAlchemy.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import TypeVar

K = TypeVar("K")


def letter(index: int) -> str:
    """A, B, ... Z, AA, AB ... for index 0, 1, ...: a large panel never runs out of letters."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = string.ascii_uppercase[rest] + out
    return out


def panel_letters(assignments: Iterable[tuple[int, K, bool]]) -> dict[K, str]:
    """``(assignment id, expert, conflict declared before opening)`` of one proposal -> expert
    -> letter. An expert who finds a conflict later keeps their letter, so that the panel's
    letters (in the discussion, the consensus, the reports) never shift under it."""
    panel = sorted((a for a in assignments if not a[2]), key=lambda a: a[0])
    return {expert: letter(index) for index, (_id, expert, _conflict) in enumerate(panel)}
