"""The panel review in the decision report: the panel's report and, for every ex aequo group
the rules left, the places the panel gave with their reasons (issue 13, point 3)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from ..panel import groups_at_the_line
from ..scoring.engine import Ranking
from .records import CallRecords


@dataclass(frozen=True)
class PlacedMember:
    place: str  # "1", or "–" when the panel left it tied
    rank: str
    reference: str
    acronym: str
    status_label: str
    reason: str


@dataclass(frozen=True)
class PanelGroup:
    at_the_line: bool
    members: tuple[PlacedMember, ...]


@dataclass(frozen=True)
class PanelSection:
    report: str
    groups: tuple[PanelGroup, ...]
    comments: int  # proposals with a panel comment (shown in their sections)


def panel_section(
    records: CallRecords, ranking: Ranking, status_label: dict[str, str]
) -> PanelSection | None:
    """The panel's part of the report; None when the call has no panel review.
    ``status_label`` gives each status value its label in the report's language."""
    panel = records.panel
    if panel is None:
        return None
    groups = []
    for group, at_line in groups_at_the_line(ranking):
        members = []
        for row in group:
            placed = panel.place_of(row.reference) if row.panel_place is not None else None
            info = records.proposals.get(row.reference)
            members.append(
                PlacedMember(
                    place=str(placed.place) if placed else "–",
                    rank=f"{row.rank}=" if row.ex_aequo else str(row.rank),
                    reference=row.reference,
                    acronym=info.acronym if info else "",
                    status_label=status_label[row.status.value],
                    reason=placed.reason if placed else _("left ex aequo"),
                )
            )
        groups.append(PanelGroup(at_the_line=at_line, members=tuple(members)))
    return PanelSection(report=panel.report, groups=tuple(groups), comments=len(panel.comments))
