"""The panel review (issue 13, point 3): a step inside the ranking phase of a call that enables
it (``Call.panel_review``).

The panel sees the ranked list with the ex aequo groups the scheme's rules leave, orders the
members of a group with a reason for each place, comments on proposals and writes its report.
The scoring engine takes the places after the scheme's tie-break and before the funding line
(``EvaluationIn.panel_order``); every page, export and report reads them through
``panel_order`` and ``panel_record`` below, so none can disagree. Coordinators record what the
panel decided (as the EU's moderator does); observers read it. Services flush; the caller
commits once. Every change is audited, so a ranking cached for the call's audit state is
never one from before the panel moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import limits
from .audit.events import PanelCommented, PanelPlaced, PanelReportSaved
from .errors import DomainError
from .extensions import db
from .locks import lock_call
from .models import Call, PanelEntry, Phase, Proposal, User
from .models.audit import record
from .scoring.engine import ProposalResult, Ranking, tie_groups


class PanelClosed(DomainError):
    """The call has no panel review, or is not in the ranking phase."""


class PanelOrderInvalid(DomainError, ValueError):
    """The places given are not an order of one ex aequo group; nothing was saved."""


@dataclass(frozen=True)
class PanelPlace:
    reference: str
    place: int
    reason: str


@dataclass(frozen=True)
class PanelRecord:
    """What the panel recorded for a call: read by the pages and the reports alike."""

    places: tuple[PanelPlace, ...]  # by reference
    comments: dict[str, str]  # reference -> the panel's comment (non-empty only)
    report: str

    def place_of(self, reference: str) -> PanelPlace | None:
        return self._by_reference.get(reference)

    @cached_property
    def _by_reference(self) -> dict[str, PanelPlace]:
        # Looked up once per row of a group: a tie of hundreds must not cost its square.
        return {place.reference: place for place in self.places}


def panel_order(call: Call) -> tuple[tuple[str, int], ...]:
    """The engine's ``panel_order`` for ``call``: empty when the call has no panel review."""
    if not call.panel_review:
        return ()
    rows = db.session.execute(
        select(Proposal.reference, PanelEntry.place)
        .join(PanelEntry.proposal)
        .where(Proposal.call_id == call.id, PanelEntry.place.is_not(None))
        .order_by(Proposal.reference)
    ).tuples()
    return tuple((reference, place) for reference, place in rows if place is not None)


def panel_record(call: Call) -> PanelRecord | None:
    """The panel's places, comments and report; None when the call has no panel review."""
    if not call.panel_review:
        return None
    places: list[PanelPlace] = []
    comments: dict[str, str] = {}
    for reference, place, reason, comment in db.session.execute(
        select(Proposal.reference, PanelEntry.place, PanelEntry.reason, PanelEntry.comment)
        .join(PanelEntry.proposal)
        .where(Proposal.call_id == call.id)
        .order_by(Proposal.reference)
    ):
        if place is not None:
            places.append(PanelPlace(reference, place, reason))
        if comment:
            comments[reference] = comment
    return PanelRecord(places=tuple(places), comments=comments, report=call.panel_report)


def groups_at_the_line(ranking: Ranking) -> list[tuple[tuple[ProposalResult, ...], bool]]:
    """Every ex aequo group, each with whether the funding line falls at it: some member is on
    the reserve list while the proposal ranked just above the group (or, if the panel split it,
    a member) is on the main list, or nothing is above it."""
    ranked = ranking.ranked
    before: dict[str, str | None] = {}
    for index, row in enumerate(ranked):
        before[row.reference] = ranked[index - 1].status.value if index else None
    out = []
    for group in tie_groups(ranking):
        statuses = {row.status.value for row in group}
        above = before[group[0].reference]
        at_line = "reserve" in statuses and (above in (None, "main") or "main" in statuses)
        out.append((group, at_line))
    return out


def _check_open(call: Call) -> None:
    if not call.panel_review:
        raise PanelClosed(_l("This call has no panel review."))
    if lock_call(call) is not Phase.RANKING:
        raise PanelClosed(_l("The panel works only while the call is in the ranking phase."))


def _entries(call: Call, references: list[str]) -> dict[str, tuple[Proposal, PanelEntry | None]]:
    rows = db.session.execute(
        select(Proposal, PanelEntry)
        .outerjoin(PanelEntry, PanelEntry.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id, Proposal.reference.in_(references))
    ).all()
    return {proposal.reference: (proposal, entry) for proposal, entry in rows}


def _entry(proposal: Proposal, entry: PanelEntry | None) -> PanelEntry:
    if entry is None:
        entry = PanelEntry(proposal=proposal, reason="", comment="")
        db.session.add(entry)
    return entry


def order_group(
    call: Call, ranking: Ranking, *, actor: User, places: Mapping[str, tuple[int, str]]
) -> list[str]:
    """Record the panel's order of one ex aequo group of ``ranking`` (the call's ranking as it
    stands): ``places`` gives every member its place (1 to the group's size, each once) and
    the reason for it. Returns the references whose place or reason changed.

    :raises PanelClosed: no panel review, or not the ranking phase.
    :raises PanelOrderInvalid: not exactly the members of one group, places not 1..n, or a
        reason missing or too long.
    """
    _check_open(call)
    wanted = set(places)
    group = next((g for g in tie_groups(ranking) if {row.reference for row in g} == wanted), None)
    if group is None:
        raise PanelOrderInvalid(
            _l("These proposals are not one ex aequo group of the ranking as it stands.")
        )
    if sorted(place for place, _reason in places.values()) != list(range(1, len(group) + 1)):
        raise PanelOrderInvalid(
            _l("Give each proposal of the group its own place, from 1 to %(n)s.", n=len(group))
        )
    for reference, (_given, reason) in places.items():
        if not reason.strip():
            raise PanelOrderInvalid(
                _l("Give the panel's reason for the place of %(reference)s.", reference=reference)
            )
        if len(reason) > limits.PANEL_REASON:
            raise PanelOrderInvalid(
                _l(
                    "The reason for %(reference)s is longer than %(n)s characters.",
                    reference=reference,
                    n=limits.PANEL_REASON,
                )
            )
    return [
        reference
        for reference, (proposal, entry) in sorted(_entries(call, sorted(wanted)).items())
        if _place(call, actor, proposal, entry, places[reference][0], places[reference][1])
    ]


def clear_group(call: Call, *, actor: User, references: list[str]) -> list[str]:
    """Take the panel's places off these proposals (they are tied again by the rules)."""
    _check_open(call)
    return [
        reference
        for reference, (proposal, entry) in sorted(_entries(call, references).items())
        if _place(call, actor, proposal, entry, None, "")
    ]


def _place(
    call: Call,
    actor: User,
    proposal: Proposal,
    entry: PanelEntry | None,
    place: int | None,
    reason: str,
) -> bool:
    """Give ``proposal`` its place (None: none) and reason, audited; False when unchanged."""
    reason = reason.strip()
    before = (entry.place, entry.reason) if entry is not None else (None, "")
    if before == (place, reason):
        return False
    entry = _entry(proposal, entry)
    entry.place, entry.reason, entry.updated_by = place, reason, actor
    record(
        PanelPlaced(proposal=proposal.reference, place=place, reason=reason),
        proposal,
        call_id=call.id,
        actor_id=actor.id,
    )
    db.session.flush()
    return True


def save_comment(call: Call, reference: str, *, actor: User, text: str) -> bool:
    """The panel's comment on the proposal ``reference`` (empty: none); False when nothing
    changed.

    :raises PanelOrderInvalid: no such proposal in the call, or the text is too long.
    """
    _check_open(call)
    text = text.strip()
    if len(text) > limits.PANEL_COMMENT:
        raise PanelOrderInvalid(
            _l("The comment is longer than %(n)s characters.", n=limits.PANEL_COMMENT), "comment"
        )
    found = _entries(call, [reference]).get(reference)
    if found is None:
        raise PanelOrderInvalid(_l("The call has no proposal %(ref)s.", ref=reference), "reference")
    proposal, existing = found
    if (existing.comment if existing else "") == text:
        return False
    entry = _entry(proposal, existing)
    entry.comment, entry.updated_by = text, actor
    record(
        PanelCommented(proposal=reference, comment=text),
        proposal,
        call_id=call.id,
        actor_id=actor.id,
    )
    db.session.flush()
    return True


def save_report(call: Call, *, actor: User, text: str) -> bool:
    """The panel's report on the call; False when nothing changed."""
    _check_open(call)
    text = text.strip()
    if len(text) > limits.PANEL_REPORT:
        raise PanelOrderInvalid(
            _l("The report is longer than %(n)s characters.", n=limits.PANEL_REPORT), "report"
        )
    if call.panel_report == text:
        return False
    call.panel_report = text
    record(PanelReportSaved(text=text), call, call_id=call.id, actor_id=actor.id)
    db.session.flush()
    return True
