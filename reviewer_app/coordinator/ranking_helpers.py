"""What the ranking and the decisions pages share: the call as they load it, and the labels and
formatters their templates read."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..display import criterion_titles, display_money, display_score
from ..extensions import db
from ..loaders import call_or_404
from ..models import Assignment, Call, Proposal, Role
from ..paging import window
from ..scoring.engine import ProposalResult, Ranking, Status


def load_ranked_call(key: str) -> Call:
    return call_or_404(key, selectinload(Call.criteria))


def proposals_by_reference(
    call: Call, references: Collection[str] | None = None
) -> dict[str, Proposal]:
    """The call's proposals (or only ``references``) with their experts and decisions, as the
    ranking rows show them."""
    statement = select(Proposal).where(Proposal.call_id == call.id)
    if references is not None:
        statement = statement.where(Proposal.reference.in_(list(references)))
    proposals = {
        p.reference: p
        for p in db.session.scalars(
            statement.options(
                selectinload(Proposal.assignments).selectinload(Assignment.expert),
                selectinload(Proposal.assignments).selectinload(Assignment.declaration),
                selectinload(Proposal.decision),
            )
        )
    }
    for proposal in proposals.values():
        proposal.call = call  # already loaded: spares one query per proposal
    return proposals


def page_helpers(call: Call) -> dict[str, Any]:
    return {
        # The page's numbers in the reader's language (display.py); exports keep the machine's.
        "format_score": display_score,
        "format_money": display_money,
        "titles": criterion_titles(call.scheme),
        "reports": {
            name: name in current_app.view_functions
            for name in (
                "reports.decision_report",
                "reports.feedback_report",
                "reports.feedback_reports_zip",
            )
        },
        "is_coordinator_user": current_user.role is Role.COORDINATOR,
    }


PER_PAGE = 50
NEIGHBOURS = 3  # rows shown on each side of the funding line, whatever page is open


@dataclass(frozen=True)
class RankingPage:
    """One page of a ranking: its rows with their position in the whole ranking, and the rows
    around the funding line, so the line is in sight on every page."""

    rows: list[tuple[int, ProposalResult]]  # (index in the whole ranking, row)
    page: int
    pages: int
    matching: int  # rows that pass the filter
    status: str
    query: str
    last_main: int | None  # index of the last main-list row in the whole ranking
    line_page: int | None  # the page the funding line is on, unfiltered
    neighbourhood: list[tuple[int, ProposalResult]]  # shown apart when not on this page

    @property
    def references(self) -> set[str]:
        return {row.reference for _i, row in (*self.rows, *self.neighbourhood)}


def ranking_page(
    ranking: Ranking,
    *,
    page: int = 1,
    status: str = "",
    query: str = "",
    only: Collection[str] | None = None,
    per: int = PER_PAGE,
) -> RankingPage:
    """The rows of ``page`` among those with ``status`` (a Status value, or all) whose
    reference, acronym-free title or reference contains ``query`` (and, with ``only``, whose
    reference is one of those)."""
    rows = list(enumerate(ranking.rows))
    last_main = max((i for i, row in rows if row.status is Status.MAIN), default=None)
    status = status if status in {s.value for s in Status} else ""
    needle = query.strip().casefold()
    matching = [
        (i, row)
        for i, row in rows
        if (not status or row.status.value == status)
        and (not needle or needle in row.reference.casefold() or needle in row.title.casefold())
        and (only is None or row.reference in only)
    ]
    at = window(len(matching), page, per)
    page, pages = at.page, at.pages
    shown = matching[at.offset : at.offset + per]
    filtered = bool(status or needle or only is not None)
    line_page = None if last_main is None or filtered else last_main // per + 1
    neighbourhood: list[tuple[int, ProposalResult]] = []
    if ranking.budget is not None and last_main is not None and line_page != page:
        neighbourhood = rows[max(0, last_main - NEIGHBOURS + 1) : last_main + NEIGHBOURS + 1]
    return RankingPage(
        rows=shown,
        page=page,
        pages=pages,
        matching=len(matching),
        status=status,
        query=query.strip(),
        last_main=last_main,
        line_page=line_page,
        neighbourhood=neighbourhood,
    )
