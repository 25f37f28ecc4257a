"""Pages on a phone and on a laptop, in German (the longer words), for every role (issue 12,
point 3): at 390 px no page scrolls sideways (wide tables scroll inside their own box); at
1280 px no table needs to scroll either, with six experts on a proposal. Every GET route of the
application is visited with the demo's data, except the downloads (files, not pages) and the
one page that needs a half-finished sign-in (tests/browser/test_two_factor.py measures it)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import (
    Assignment,
    Call,
    LinkPurpose,
    Phase,
    Proposal,
    Review,
    ReviewStatus,
    User,
)

from ..factories import advance_call
from .conftest import screenshot, sign_in

PHONE = 390
LAPTOP = 1280
# A table that scrolls inside its box keeps its first column in view.
LOOSE_FIRST_COLUMN = """() => [...document.querySelectorAll(".table-responsive")]
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => box.querySelector("tr > :first-child:not([colspan])"))
    .filter((cell) => cell && getComputedStyle(cell).position !== "sticky")
    .map((cell) => cell.closest("table").id || "table")"""
# Boxes that scroll sideways: the page itself, or a table's own box.
OVERFLOWING = """() => [document.documentElement, ...document.querySelectorAll(".table-responsive")]
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => (box.id || box.tagName.toLowerCase()) + " " + box.scrollWidth + " > " + box.clientWidth)"""
# Files, not pages: their routes are in the access table; their width means nothing.
DOWNLOADS = {
    "coordinator.audit_download",
    "coordinator.download_document",
    "coordinator.ranking_download",
    "coordinator.analytics_download",
    "coordinator.sample_csv",
    "expert.download_document",
    "reports.decision_report",
    "reports.feedback_report",
    "reports.feedback_reports_zip",
    "bootstrap.static",
    "static",
}
# Reached only between the password and the code of a two-factor sign-in.
ELSEWHERE = {"auth.login_code"}


def _paths(app: Flask, demo: Any) -> dict[str, str]:
    """Every page's URL, by endpoint, with the demo's call, proposals, reviews and links."""
    from flask import url_for

    from reviewer_app.auth.links import issue_link
    from reviewer_app.models import ReportKind
    from reviewer_app.reports.jobs import request_report

    call_key = demo.call_key
    # The proposal with the most experts: its pages have the widest tables.
    proposal = max(
        db.session.scalars(select(Proposal).order_by(Proposal.reference)),
        key=lambda p: len(p.assignments),
    )
    review = db.session.scalars(
        select(Review).where(Review.status == ReviewStatus.SUBMITTED)
    ).first()
    assert review is not None
    coordinator = db.session.scalar(select(User).where(User.email == demo.emails["coordinator"]))
    job = request_report(proposal.call, ReportKind.DECISION, "de", coordinator)
    observer = db.session.scalar(select(User).where(User.email == demo.emails["observer"]))
    invitation = issue_link(observer, LinkPurpose.INVITATION)
    reset = issue_link(coordinator, LinkPurpose.PASSWORD_RESET)
    db.session.commit()
    values = {
        "key": call_key,
        "proposal_id": proposal.id,
        "reference": proposal.reference,
        "review_id": review.id,
        "job_id": job.id,
        # An expert of that proposal: their page in the call lists what they are assigned.
        "user_id": min(a.expert_id for a in proposal.assignments),
    }
    paths = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in DOWNLOADS | ELSEWHERE:
                continue
            if rule.endpoint == "auth.accept":
                paths[rule.endpoint] = url_for(rule.endpoint, token=invitation)
            elif rule.endpoint == "auth.reset":
                paths[rule.endpoint] = url_for(rule.endpoint, token=reset)
            elif "assignment_id" in rule.arguments:
                continue  # per expert, below
            else:
                paths[rule.endpoint] = url_for(
                    rule.endpoint, **{a: values[a] for a in rule.arguments}
                )
    return paths


def _expert_paths(app: Flask, email: str) -> dict[str, str]:
    """The expert's own assignments: one declared (its review page), one not (declaration)."""
    from flask import url_for

    expert = db.session.scalar(select(User).where(User.email == email))
    paths = {}
    with app.test_request_context():
        for assignment in db.session.scalars(
            select(Assignment).where(Assignment.expert_id == expert.id)
        ):
            endpoint = "expert.review" if assignment.declaration else "expert.declare_conflict"
            paths.setdefault(endpoint, url_for(endpoint, assignment_id=assignment.id))
    assert set(paths) == {"expert.review", "expert.declare_conflict"}, paths
    return paths


class Demo:
    def __init__(self) -> None:
        from reviewer_app.demo import seed_demo

        seed = seed_demo()
        db.session.commit()
        self.password = seed.password
        self.emails = {}
        for login in seed.logins:
            self.emails.setdefault(login.role, login.email)
        self.call_key = seed.call_key


def _six_experts_on_one_proposal(app_ctx: Flask) -> None:
    """Two more experts review the demo's proposal that has four: six columns of experts on the
    consensus and ranking pages."""
    from ..factories import write_review

    proposal = db.session.scalar(select(Proposal).where(Proposal.reference == "AIF-2024-IT"))
    assert proposal is not None and len(proposal.assignments) == 4
    from reviewer_app.coordinator.experts import toggle_assignment
    from reviewer_app.importers import Row, Table, import_users

    for n in (5, 6):
        values = {
            "email": f"extra{n}@example.org",
            "name": f"Zusätzliche Gutachterin {n}",
            "role": "expert",
            "country": "PT",
        }
        (expert,) = import_users(Table(tuple(values), (Row(None, values),)), actor=None)
        toggle_assignment(proposal.call, proposal, expert, actor=None)
        db.session.flush()
        assignment = next(a for a in proposal.assignments if a.expert_id == expert.id)
        write_review(assignment, {"compute": "4", "expertise": "3.5", "funding": "4.5"})
    db.session.commit()


@pytest.mark.parametrize(
    ("phase", "widths"),
    [
        (Phase.EVALUATION, (PHONE,)),
        (Phase.CONSENSUS, (LAPTOP,)),
        (Phase.RANKING, (PHONE, LAPTOP)),
    ],
    ids=["evaluation-390", "consensus-1280", "ranking-390-1280"],
)
@pytest.mark.parametrize("role", ["expert", "observer", "coordinator"])
def test_no_page_or_table_scrolls_sideways(
    live_server: str,
    browser: Any,
    app: Flask,
    app_ctx: Flask,
    on_redis: str,
    role: str,
    phase: Phase,
    widths: tuple[int, ...],
) -> None:
    """In evaluation (the demo as seeded) and in ranking (consensus, ranking and decision
    pages full). On a phone only the page counts; on a laptop every table's box too. In
    ranking each page is loaded once and measured at both widths (the window resized)."""
    # The report's job page as it stands while the report waits for a worker (queued on Redis,
    # no worker started): making the report itself (seconds of WeasyPrint, tests/reports/)
    # measures no page here.
    demo = Demo()
    if LAPTOP in widths:
        _six_experts_on_one_proposal(app_ctx)
    paths = _paths(app, demo)
    if role == "expert":
        paths |= _expert_paths(app, demo.emails["expert"])
    if phase is not Phase.EVALUATION:
        call = db.session.scalar(select(Call).where(Call.key == demo.call_key))
        advance_call(call, phase)
    context = browser.new_context(locale="de-DE", viewport={"width": widths[0], "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server, demo.emails[role], demo.password)
        wide, seen = [], []
        for endpoint, path in sorted(paths.items()):
            page.set_viewport_size({"width": widths[0], "height": 844})
            response = page.goto(f"{live_server}{path}")
            assert response is not None
            if response.status != 200 or "text/html" not in response.headers["content-type"]:
                continue  # refused to this role (the access table's business) or a redirect
            seen.append(endpoint)
            for width in widths:
                if width != widths[0]:
                    page.set_viewport_size({"width": width, "height": 844})
                    # The page as laid out at the new width (a resize lays out again).
                    assert page.evaluate("() => window.innerWidth") == width
                if width == LAPTOP and endpoint == "consensus.proposal":
                    screenshot(page, f"consensus-six-experts-1280-{phase}-{role}")
                boxes = page.evaluate(OVERFLOWING)
                if width == PHONE:
                    boxes = [box for box in boxes if box.startswith("html ")]
                    boxes += [
                        f"{table}: first column not sticky"
                        for table in page.evaluate(LOOSE_FIRST_COLUMN)
                    ]
                if boxes:
                    screenshot(page, f"too-wide-{role}-{width}-{phase}-{endpoint}")
                    wide.append(f"{endpoint} at {width} px ({path}): {', '.join(boxes)}")
        assert not wide, f"too wide as {role}:\n" + "\n".join(wide)
        # The sweep reached the role's pages, not only sign-in pages.
        assert len(seen) >= {"expert": 4, "observer": 9, "coordinator": 18}[role], seen
    finally:
        context.close()
