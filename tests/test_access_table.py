"""Who may open what, proven for every route: the access table.

The table names, for every endpoint of ``app.url_map`` and every method it accepts, the answer
each actor gets. One test fails when a route has no entry, or an entry no route; the others sign
in as each actor, request every entry (GET and POST, with an empty form: the point is the access
answer, not the form) and check:

- the answer is the table's;
- nothing the actor may not read is in anything they receive: the world below plants a unique
  word in every proposal, review, consensus, decision, conflict reason, document and expert name,
  and each actor has the list of those they must never see (``SECRETS``; ``SENT_ON`` for what
  the coordinator passes on, such as an applicant's evaluation summary);
- the planted words are shown where they should be (``SHOWN``), so the absence checks are not
  vacuous;
- every page answered is ``Cache-Control: no-store``;
- a refused POST changes nothing in the database;
- no page links an actor to a page their role is refused, and an observer's call pages hold no
  form they could send.

The world is a call in the consensus phase (the phase in which experts see the most): proposal P
with expert A (assigned, review submitted, has answered the consensus draft), rapporteur R (review
submitted, draft consensus), expert D (review left a draft) and expert X, who declared a conflict;
proposal Q with expert N only, who is not assigned to P. P has a document and a decision. Ids in
URLs are those of P, of P's document and of A's review; ``assignment_id`` is the actor's own
assignment on P where they have one (A, X), else A's (what an outsider would try). Invitation and
password-reset links get a token that does not exist: 410 for everyone (a real token is the
credential itself; tests/auth/ test those links).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from reviewer_app.consensus.discussion import post_message
from reviewer_app.consensus.services import record_minority_view, respond
from reviewer_app.consensus.services import save_draft as consensus_draft
from reviewer_app.extensions import db
from reviewer_app.models import (
    Call,
    Decision,
    DecisionOutcome,
    Document,
    PanelEntry,
    Phase,
    ReportKind,
)
from reviewer_app.reports.jobs import request_report

from .conftest import PASSWORD
from .factories import advance_call, declare_for, write_review


class Actor(StrEnum):
    ANONYMOUS = "anonymous"
    ASSIGNED = "expert assigned"  # A: on P's panel, review submitted, not the rapporteur
    UNASSIGNED = "expert not assigned"  # N: assigned to Q only
    CONFLICTED = "expert with a conflict"  # X: assigned to P, declared a conflict
    OBSERVER = "observer"
    COORDINATOR = "coordinator"


ACTORS = tuple(Actor)


class Answer(StrEnum):
    OK = "answered"  # GET: 200. POST: the view answered (2xx, 3xx not to sign-in, 400/409/422)
    REDIRECT = "redirected"  # 3xx elsewhere than to the sign-in page
    LOGIN = "sent to sign in"  # 302 to /login
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not found"  # 404: the object does not exist for this actor
    GONE = "gone"  # 410: a link that does not (or no longer) exist
    SIGNED_OUT = "signed out"  # 302 to /login, and the session is over


OK, REDIRECT, LOGIN = Answer.OK, Answer.REDIRECT, Answer.LOGIN
FORBIDDEN, NOT_FOUND, GONE = Answer.FORBIDDEN, Answer.NOT_FOUND, Answer.GONE
SIGNED_OUT = Answer.SIGNED_OUT
# What a refused request gets: the actor's role (or no sign-in) or the object says no.
REFUSALS = frozenset({LOGIN, FORBIDDEN, NOT_FOUND})
# A POST refused for its (empty) input still reached the view: the actor was let in.
INPUT_REFUSED = frozenset({400, 409, 422})

Row = dict[Actor, Answer]


def row(*answers: Answer) -> Row:
    assert len(answers) == len(ACTORS)
    return dict(zip(ACTORS, answers, strict=True))


# fmt: off
#                   anonymous   assigned    unassigned  conflicted  observer    coordinator
EVERYONE =      row(OK,         OK,         OK,         OK,         OK,         OK)
DEAD_LINK =     row(GONE,       GONE,       GONE,       GONE,       GONE,       GONE)
SIGN_IN_AGAIN = row(LOGIN,      LOGIN,      LOGIN,      LOGIN,      LOGIN,      LOGIN)
SIGN_OUT =      row(LOGIN,      SIGNED_OUT, SIGNED_OUT, SIGNED_OUT, SIGNED_OUT, SIGNED_OUT)
HOME =          row(LOGIN,      REDIRECT,   REDIRECT,   REDIRECT,   REDIRECT,   REDIRECT)
SIGNED_IN =     row(LOGIN,      OK,         OK,         OK,         OK,         OK)
EXPERTS =       row(LOGIN,      OK,         OK,         OK,         FORBIDDEN,  FORBIDDEN)
OWN_ASSIGNED =  row(LOGIN,      OK,         NOT_FOUND,  NOT_FOUND,  FORBIDDEN,  FORBIDDEN)
OWN_DECLARED =  row(LOGIN,      REDIRECT,   NOT_FOUND,  NOT_FOUND,  FORBIDDEN,  FORBIDDEN)
PANEL_READ =    row(LOGIN,      OK,         NOT_FOUND,  NOT_FOUND,  OK,         OK)
PANEL_EDIT =    row(LOGIN,      FORBIDDEN,  NOT_FOUND,  NOT_FOUND,  FORBIDDEN,  OK)
PANEL_WRITE =   row(LOGIN,      OK,         NOT_FOUND,  NOT_FOUND,  FORBIDDEN,  OK)
STAFF =         row(LOGIN,      FORBIDDEN,  FORBIDDEN,  FORBIDDEN,  OK,         OK)
COORDINATOR =   row(LOGIN,      FORBIDDEN,  FORBIDDEN,  FORBIDDEN,  FORBIDDEN,  OK)
# fmt: on

STATIC: dict[str, Row] = {}  # static files: public, cacheable, not requested here

# Every endpoint -> method -> the answer of every actor.
TABLE: dict[str, dict[str, Row]] = {
    "static": STATIC,
    "bootstrap.static": STATIC,
    # Signing in and out, links, language: open to everyone.
    "auth.index": {"GET": HOME},
    "auth.login": {"GET": EVERYONE, "POST": EVERYONE},
    # Without a pending sign-in (a right password first) there is no second step: back to sign-in.
    "auth.login_code": {"GET": SIGN_IN_AGAIN, "POST": SIGN_IN_AGAIN},
    "auth.logout": {"POST": SIGN_OUT},  # requested last
    "auth.set_language": {"POST": EVERYONE},
    "auth.forgot_password": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.accept": {"GET": DEAD_LINK, "POST": DEAD_LINK},
    "auth.reset": {"GET": DEAD_LINK, "POST": DEAD_LINK},
    # One's own account.
    "auth.account": {"GET": SIGNED_IN},
    "auth.change_own_password": {"POST": SIGNED_IN},
    "auth.end_other_own_sessions": {"POST": SIGNED_IN},
    "auth.two_factor_setup": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "auth.new_recovery_codes": {"POST": SIGNED_IN},
    "auth.disable_two_factor": {"POST": SIGNED_IN},
    # The expert's own work: other assignments do not exist for them, nor conflicted ones.
    "expert.assignments": {"GET": EXPERTS},
    # A declared (the declaration is made once): the form sends them on to the proposal.
    "expert.declare_conflict": {"GET": OWN_DECLARED, "POST": OWN_ASSIGNED},
    "expert.review": {"GET": OWN_ASSIGNED, "POST": OWN_ASSIGNED},
    "expert.autosave_review": {"POST": OWN_ASSIGNED},
    "expert.late_conflict": {"POST": OWN_ASSIGNED},
    "expert.individual_report": {"GET": OWN_ASSIGNED},
    "expert.download_document": {"GET": OWN_ASSIGNED},
    # Consensus: the panel and observers read; the coordinator (and the rapporteur, who is no
    # actor here) edit; conflicted and other experts find no such page.
    "consensus.index": {"GET": EXPERTS},
    "consensus.proposal": {"GET": PANEL_READ, "POST": PANEL_EDIT},
    "consensus.respond_to_draft": {"POST": OWN_ASSIGNED},
    # A minority view: an expert of the panel for themselves, a coordinator for any of them.
    "consensus.minority_view": {"POST": PANEL_WRITE},
    # The discussion: the panel and the coordinators write; observers read it on the page.
    "consensus.discussion": {"POST": PANEL_WRITE},
    "consensus.finalise_report": {"POST": COORDINATOR},
    "consensus.reopen_report": {"POST": COORDINATOR},
    "consensus.call_progress_page": {"GET": STAFF},
    "consensus.finalise_approved_reports": {"POST": COORDINATOR},
    "consensus.remind_rapporteurs": {"POST": COORDINATOR},
    # Calls: observers read the list, overview, scheme, progress, ranking and decisions.
    "coordinator.calls": {"GET": STAFF},
    "coordinator.new_call": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.call_detail": {"GET": STAFF},
    "coordinator.edit_call": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.call_scheme": {"GET": STAFF},
    "coordinator.change_phase": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.reopen": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.progress": {"GET": STAFF},
    "coordinator.remind": {"POST": COORDINATOR},
    "coordinator.due_date": {"POST": COORDINATOR},
    "coordinator.proposals": {"GET": COORDINATOR},
    "coordinator.new_proposal": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.edit_proposal": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.proposal_detail": {"GET": COORDINATOR},
    # Every version of every review, drafts included: not for observers, who never read drafts.
    "coordinator.proposal_history": {"GET": COORDINATOR},
    "coordinator.upload_document": {"POST": COORDINATOR},
    "coordinator.download_document": {"GET": COORDINATOR},
    "coordinator.delete_document": {"POST": COORDINATOR},
    "coordinator.import_proposals": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.sample_csv": {"GET": COORDINATOR},
    "coordinator.assignments": {"GET": COORDINATOR},
    "coordinator.invite": {"GET": COORDINATOR, "POST": COORDINATOR},
    "coordinator.reinvite": {"POST": COORDINATOR},
    "coordinator.toggle": {"POST": COORDINATOR},
    # One expert in a call: their assignments and changes to many at once.
    "coordinator.expert_page": {"GET": COORDINATOR},
    "coordinator.change_expert_assignments": {"POST": COORDINATOR},
    "coordinator.rapporteur": {"POST": COORDINATOR},
    "coordinator.auto": {"POST": COORDINATOR},
    "coordinator.ranking": {"GET": STAFF},
    "coordinator.ranking_download": {"GET": STAFF},
    # The analytics: staff read the page and download its figures.
    "coordinator.analytics": {"GET": STAFF},
    "coordinator.analytics_download": {"GET": STAFF},
    "coordinator.lottery_seed": {"POST": COORDINATOR},
    "coordinator.lottery_draw": {"POST": COORDINATOR},
    # The panel review: staff read it, the coordinator records what the panel decided.
    "coordinator.panel": {"GET": STAFF, "POST": COORDINATOR},
    "coordinator.decisions": {"GET": STAFF, "POST": COORDINATOR},
    "coordinator.audit": {"GET": STAFF},
    "coordinator.audit_download": {"GET": STAFF},
    "coordinator.decide": {"GET": COORDINATOR, "POST": COORDINATOR},
    # Reports: the decision report for staff, applicants' summaries for the coordinator.
    "reports.decision_report": {"GET": STAFF},
    "reports.feedback_report": {"GET": COORDINATOR},
    "reports.feedback_reports_zip": {"GET": COORDINATOR},
    # A report being made: the world's job is a decision report's, which staff may follow.
    "reports.job": {"GET": STAFF},
}


# The planted words: one per piece of content, written without spaces or hyphens so that a PDF
# line break cannot split them.
P_TITLE = "SecretTitleOfP"
P_SUMMARY = "SecretSummaryOfP"
P_SYSTEM = "SecretSystemOfP"
Q_TITLE = "SecretTitleOfQ"
Q_SUMMARY = "SecretSummaryOfQ"
A_COMMENT = "SecretCommentOfA"
R_COMMENT = "SecretCommentOfR"
N_COMMENT = "SecretCommentOfN"
DRAFT = "SecretDraftOfD"  # a review never submitted: nobody reads it but its author
APPROVAL = "SecretApprovalOfA"  # A's answer to the consensus draft
MINORITY = "SecretMinorityViewOfA"  # A's minority view on the consensus draft
CONSENSUS = "SecretConsensusOfP"
JUSTIFICATION = "SecretJustificationOfP"  # why the consensus crosses a threshold
OVERALL = "SecretOverallOfP"  # the consensus draft's overall comment, for the applicant
DISCUSSION = "SecretDiscussionOfP"  # A's message in P's discussion
PANEL = "SecretPanelCommentOfP"  # the panel's comment on P: staff and the decision report only
REASON = "SecretConflictReason"
RATIONALE = "SecretRationaleOfP"
DOCUMENT_NAME = "SecretAnnexOfP"
DOCUMENT_TEXT = "SecretDocumentTextOfP"
# Experts are "Expert A, B, C" to each other (the call anonymises them); staff see names.
A_NAME, R_NAME = "Alma Assignedova", "Rosa Rapporteurova"
X_NAME, N_NAME = "Xena Conflictova", "Nils Outsiderova"
D_NAME = "Dora Draftova"

EVERY_SECRET = frozenset(
    {
        P_TITLE, P_SUMMARY, P_SYSTEM, Q_TITLE, Q_SUMMARY, A_COMMENT, R_COMMENT, N_COMMENT,
        DRAFT, APPROVAL, MINORITY, CONSENSUS, JUSTIFICATION, OVERALL, DISCUSSION, PANEL, REASON,
        RATIONALE, DOCUMENT_NAME, DOCUMENT_TEXT, A_NAME, R_NAME, X_NAME, N_NAME, D_NAME,
    }
)  # fmt: skip

# What each actor must never receive, on any page, download or error.
SECRETS: dict[Actor, frozenset[str]] = {
    Actor.ANONYMOUS: EVERY_SECRET,
    # P's content and panel are theirs to read (names aside); Q, the reason, decisions are not.
    Actor.ASSIGNED: frozenset(
        {Q_TITLE, Q_SUMMARY, N_COMMENT, DRAFT, REASON, RATIONALE, PANEL}
        | {R_NAME, X_NAME, N_NAME, D_NAME}
    ),
    Actor.UNASSIGNED: EVERY_SECRET - {Q_TITLE, Q_SUMMARY, N_COMMENT, N_NAME},
    # A conflict hides the proposal: its title stays in their list, nothing else of it.
    Actor.CONFLICTED: EVERY_SECRET - {P_TITLE, REASON, X_NAME},
    # Observers see that a conflict exists, never why; they open no document.
    Actor.OBSERVER: frozenset({REASON, DRAFT, DOCUMENT_TEXT}),
    Actor.COORDINATOR: frozenset(),
}

# Downloads the coordinator sends on: what their reader must not find, whoever downloads them.
SENT_ON: dict[str, frozenset[str]] = {
    # P's applicant reads P's evaluation summary: the final consensus text alone. No expert,
    # no individual review, no conflict, no draft (P's consensus is one), no minority view or
    # justification, nothing of Q.
    "reports.feedback_report": frozenset(
        {REASON, DRAFT, A_NAME, R_NAME, X_NAME, D_NAME, N_NAME, Q_TITLE, Q_SUMMARY, N_COMMENT}
        | {A_COMMENT, R_COMMENT, APPROVAL, MINORITY, CONSENSUS, JUSTIFICATION, OVERALL}
        | {DISCUSSION, PANEL}
    ),
}

# The reviews, the draft consensus with its justification, A's answer and A's minority view.
ON_THE_CONSENSUS_PAGE = (
    A_COMMENT, R_COMMENT, CONSENSUS, JUSTIFICATION, OVERALL, APPROVAL, MINORITY, DISCUSSION,
)  # fmt: skip

# What must be there, so that the absence of a secret elsewhere means something.
SHOWN: dict[tuple[str, Actor], tuple[str, ...]] = {
    ("coordinator.progress", Actor.COORDINATOR): (REASON, X_NAME),
    ("coordinator.progress", Actor.OBSERVER): (X_NAME,),
    ("coordinator.audit", Actor.COORDINATOR): (REASON,),
    ("coordinator.audit_download", Actor.COORDINATOR): (REASON,),
    ("coordinator.proposal_detail", Actor.COORDINATOR): (P_TITLE, REASON, DOCUMENT_NAME),
    ("coordinator.proposal_history", Actor.COORDINATOR): (A_COMMENT, R_COMMENT, DRAFT, CONSENSUS),
    ("coordinator.download_document", Actor.COORDINATOR): (DOCUMENT_TEXT,),
    ("coordinator.decisions", Actor.OBSERVER): (P_TITLE, RATIONALE),
    ("coordinator.panel", Actor.OBSERVER): (PANEL,),
    ("coordinator.panel", Actor.COORDINATOR): (PANEL,),
    ("expert.assignments", Actor.ASSIGNED): (P_TITLE,),
    ("expert.assignments", Actor.UNASSIGNED): (Q_TITLE,),
    ("expert.assignments", Actor.CONFLICTED): (P_TITLE,),
    ("expert.review", Actor.ASSIGNED): (P_TITLE, P_SUMMARY, P_SYSTEM, A_COMMENT, DOCUMENT_NAME),
    ("expert.download_document", Actor.ASSIGNED): (DOCUMENT_TEXT,),
    ("consensus.index", Actor.ASSIGNED): (P_TITLE,),
    ("consensus.index", Actor.UNASSIGNED): (Q_TITLE,),
    ("consensus.proposal", Actor.ASSIGNED): ON_THE_CONSENSUS_PAGE,
    ("consensus.proposal", Actor.OBSERVER): ON_THE_CONSENSUS_PAGE,
    ("reports.decision_report", Actor.OBSERVER): (P_TITLE,),
    ("reports.feedback_report", Actor.COORDINATOR): (P_TITLE,),
}

UNKNOWN_TOKEN = "no-such-link-0123456789abcdef"
# Rows that change on every request of a signed-in user, whoever they are.
NOT_COMPARED: dict[str, frozenset[str] | None] = {
    "user_sessions": None,
    "users": frozenset({"last_seen_at"}),
}


@dataclass(frozen=True)
class World:
    """Ids and keys only: the test's session must not hold objects that requests change."""

    call_key: str
    proposal_id: int
    proposal_reference: str
    document_id: int
    review_id: int
    assignment_of: dict[Actor, int]  # the assignment on P of A and X
    expert_id: int  # A's
    emails: dict[Actor, str]
    job_id: int  # the decision report's job


def plant_world(make_user: Any, make_call: Any, make_proposal: Any, make_assignment: Any) -> World:
    users = {
        Actor.COORDINATOR: make_user("coordinator", name="Clara Coordinator"),
        Actor.OBSERVER: make_user("observer", name="Otto Observer"),
        Actor.ASSIGNED: make_user("expert", name=A_NAME),
        Actor.UNASSIGNED: make_user("expert", name=N_NAME),
        Actor.CONFLICTED: make_user("expert", name=X_NAME),
    }
    rapporteur = make_user("expert", name=R_NAME)
    drafter = make_user("expert", name=D_NAME)
    call = make_call(key="access-call", deadline=date(2030, 1, 31), panel_review=True)
    keys = [c.key for c in call.criteria]
    p = make_proposal(
        call,
        reference="ACC-P",
        title=P_TITLE,
        summary=P_SUMMARY,
        extra={"system": P_SYSTEM, "partner_countries": ["PT"]},
    )
    q = make_proposal(call, reference="ACC-Q", title=Q_TITLE, summary=Q_SUMMARY)

    a = make_assignment(p, users[Actor.ASSIGNED])
    r = make_assignment(p, rapporteur, is_rapporteur=True)
    x = make_assignment(p, users[Actor.CONFLICTED])
    d = make_assignment(p, drafter)
    n = make_assignment(q, users[Actor.UNASSIGNED], is_rapporteur=True)
    for name in ("Quiet Expert One", "Quiet Expert Two"):  # Q staffed, so evaluation may start
        make_assignment(q, make_user("expert", name=name))
    # Everything an expert or the rapporteur writes goes through their services, so that the
    # audit log holds it as it would (the conflict's reason: coordinators only).
    advance_call(call, Phase.EVALUATION)
    declare_for(x, conflict=REASON)
    review = write_review(a, dict.fromkeys(keys, "4"), comment=f"{A_COMMENT}.")
    write_review(r, dict.fromkeys(keys, "4"), comment=f"{R_COMMENT}.")
    write_review(n, dict.fromkeys(keys, "4"), comment=f"{N_COMMENT}.")
    write_review(d, dict.fromkeys(keys, "4"), comment=f"{DRAFT}.", submitted=False)
    advance_call(call, Phase.CONSENSUS)
    consensus_draft(
        p,
        rapporteur,
        {k: (Decimal("4"), f"{CONSENSUS} on {k}, as the panel agreed it.") for k in keys},
        version=None,
        justification=f"{JUSTIFICATION}.",
        overall_comment=f"{OVERALL}.",
    )
    respond(p, users[Actor.ASSIGNED], approved=False, comment=APPROVAL)
    record_minority_view(p, users[Actor.ASSIGNED], users[Actor.ASSIGNED].id, MINORITY)
    post_message(p, users[Actor.ASSIGNED], f"{DISCUSSION}: is the hosting site ready?")
    # Planted, as an edited row would be: a decision while the call is still in consensus, and
    # a document whose bytes are a marker; neither may show to anyone the table does not name.
    content = f"%PDF-1.4 {DOCUMENT_TEXT}".encode()
    document = Document(
        proposal=p,
        filename=f"{DOCUMENT_NAME}.pdf",
        content_type="application/pdf",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    decision = Decision(proposal=p, outcome=DecisionOutcome.FUNDED, rationale=RATIONALE)
    panel = PanelEntry(proposal=p, reason="", comment=PANEL)  # the panel writes in ranking
    db.session.add_all([document, decision, panel])
    db.session.commit()
    job = request_report(call, ReportKind.DECISION, "en", users[Actor.COORDINATOR])
    return World(
        call_key=call.key,
        proposal_id=p.id,
        proposal_reference=p.reference,
        document_id=document.id,
        review_id=review.id,
        assignment_of={Actor.ASSIGNED: a.id, Actor.CONFLICTED: x.id},
        expert_id=users[Actor.ASSIGNED].id,
        emails={actor: user.email for actor, user in users.items()},
        job_id=job.id,
    )


@pytest.fixture
def world(make_user, make_call, make_proposal, make_assignment) -> World:
    return plant_world(make_user, make_call, make_proposal, make_assignment)


def build_url(app: Flask, endpoint: str, world: World, actor: Actor) -> str:
    """The rule's URL with its arguments taken from the world, as seen by ``actor``."""
    [rule] = app.url_map.iter_rules(endpoint)
    values: dict[str, Any] = {
        "key": world.call_key,
        "proposal_id": world.proposal_id,
        "reference": world.proposal_reference,
        "document_id": world.document_id,
        "review_id": world.review_id,
        "assignment_id": world.assignment_of.get(actor, world.assignment_of[Actor.ASSIGNED]),
        "user_id": world.expert_id,
        "token": UNKNOWN_TOKEN,
        "job_id": world.job_id,
        "fmt": "csv",
    }
    missing = rule.arguments - values.keys()
    assert not missing, f"{endpoint}: build_url has no value for {sorted(missing)}"
    with app.test_request_context():
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def answer_of(response: Any, method: str) -> Answer | None:
    """What the response means for access; None when it fits no answer (a 500, a 401 ...)."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if location.split("?")[0].rstrip("/").endswith("/login"):
            return LOGIN
        return OK if method == "POST" else REDIRECT
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status == 410:
        return GONE
    if 200 <= status < 300 or (method == "POST" and status in INPUT_REFUSED):
        return OK
    return None


def received_text(response: Any) -> str:
    """Everything the actor can read in the response: the body, and a PDF's text."""
    data: bytes = response.get_data()
    text = data.decode("utf-8", errors="replace")
    if response.mimetype == "application/pdf":
        # pdftotext, as in tests/reports/: a tenth of pypdf's time on the decision report.
        pdf = subprocess.run(["pdftotext", "-q", "-", "-"], input=data, capture_output=True)
        if pdf.returncode == 0:  # the planted document is no real PDF: its bytes are its text
            text += pdf.stdout.decode("utf-8", errors="replace")
    return text


def snapshot() -> dict[str, list[str]]:
    """Every row of every table (bar per-request bookkeeping), to compare around a request."""
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    rows: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in NOT_COMPARED and NOT_COMPARED[table.name] is None:
            continue
        skipped = NOT_COMPARED.get(table.name) or frozenset()
        columns = [c for c in table.columns if c.name not in skipped]
        rows[table.name] = sorted(repr(tuple(r)) for r in db.session.execute(select(*columns)))
    return rows


def requests_in_order() -> list[tuple[str, str]]:
    """Every entry but the static files: GETs first, then POSTs, signing out last."""
    entries = [(e, m) for e, methods in TABLE.items() for m in methods]
    order = {"GET": 0, "POST": 1}
    return sorted(entries, key=lambda em: (em[0] == "auth.logout", order[em[1]], em[0]))


def sign_in(client: FlaskClient, world: World, actor: Actor) -> None:
    if actor is Actor.ANONYMOUS:
        return
    response = client.post("/login", data={"email": world.emails[actor], "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def sendable_forms(page: str) -> list[str]:
    """The forms in the page's <main> that post something a user could send."""
    start = page.find('<main id="main"')
    main = page[start : page.find("</main>", start)] if start >= 0 else ""
    forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", main, re.S | re.I)
    return [f for f in forms if re.search(r"<button|<select|<textarea|type=\"submit\"", f)]


def refused_links(app: Flask, page: str, actor: Actor) -> list[str]:
    """Links in the page to pages the table forbids the actor's role."""
    adapter = app.url_map.bind("localhost")
    refused = []
    for href in sorted(set(re.findall(r'href="(/[^"#?]*)', page))):
        try:
            endpoint, _args = adapter.match(href, method="GET")
        except HTTPException:  # no page there (or a redirect): a dead link
            refused.append(href)
            continue
        answers = TABLE[endpoint].get("GET")
        if answers is not None and answers is not STATIC and answers[actor] is FORBIDDEN:
            refused.append(href)
    return refused


def test_every_route_has_an_entry(app: Flask) -> None:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    missing = sorted(set(routes) - set(TABLE))
    stale = sorted(set(TABLE) - set(routes))
    assert not missing, f"routes without an entry in the access table: {missing}"
    assert not stale, f"access table entries for endpoints that no longer exist: {stale}"
    wrong = {
        endpoint: (sorted(TABLE[endpoint]), sorted(methods))
        for endpoint, methods in routes.items()
        if TABLE[endpoint] is not STATIC and set(TABLE[endpoint]) != methods
    }
    assert not wrong, f"methods in the table (left) differ from the routes' (right): {wrong}"
    static = {e for e in routes if e == "static" or e.endswith(".static")}
    assert {e for e, methods in TABLE.items() if methods is STATIC} == static


@pytest.mark.parametrize("actor", ACTORS, ids=[a.name.lower() for a in ACTORS])
def test_every_entry_answers_as_the_table_says(
    app: Flask, client: FlaskClient, world: World, actor: Actor
) -> None:
    sign_in(client, world, actor)
    problems: list[str] = []
    for endpoint, method in requests_in_order():
        expected = TABLE[endpoint][method][actor]
        url = build_url(app, endpoint, world, actor)
        before = snapshot() if method == "POST" and expected in REFUSALS else None
        response = client.open(url, method=method, data={} if method == "POST" else None)
        where = f"{method} {url} ({endpoint}) as {actor}"
        got = answer_of(response, method)
        if expected is SIGNED_OUT and got is LOGIN:
            got = SIGNED_OUT if answer_of(client.get("/account"), "GET") is LOGIN else got
        if got is not expected:
            problems.append(f"{where}: {response.status_code} ({got}), expected {expected}")
        secrets = SECRETS[actor]
        if got is OK:  # the download itself, not the error page around the actor's own name
            secrets |= SENT_ON.get(endpoint, frozenset())
        shown = SHOWN.get((endpoint, actor), ()) if method == "GET" else ()
        if secrets or shown:
            text = received_text(response)
            if leaked := sorted(s for s in secrets if s in text):
                problems.append(f"{where}: shows {leaked}")
            if missing := [s for s in shown if s not in text]:
                problems.append(f"{where}: does not show {missing} (so nothing is proven there)")
        if before is not None and snapshot() != before:
            problems.append(f"{where}: refused, yet the database changed")
        if method == "GET" and got is OK:
            cache = response.headers.get("Cache-Control", "")
            if "no-store" not in cache:
                problems.append(f"{where}: Cache-Control is {cache!r}, not no-store")
            if response.mimetype == "text/html":
                page = response.get_data(as_text=True)
                if links := refused_links(app, page, actor):
                    problems.append(f"{where}: links to pages the role cannot open: {links}")
                observed = actor is Actor.OBSERVER and not endpoint.startswith("auth.")
                if observed and (forms := sendable_forms(page)):
                    problems.append(f"{where}: an observer can send {len(forms)} form(s)")
    assert not problems, "\n".join(problems)


def test_assignments_of_a_call_in_setup_do_not_exist(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Before evaluation opens, even the expert's own assignment pages answer 404."""
    call = db.session.scalar(select(Call).where(Call.key == world.call_key))
    # Set by hand: a move back to set-up, which no service makes, on the table's shared world.
    call.phase = Phase.SETUP
    db.session.commit()
    sign_in(client, world, Actor.ASSIGNED)
    checked = []
    for endpoint, method in requests_in_order():
        [rule] = app.url_map.iter_rules(endpoint)
        if "assignment_id" not in rule.arguments:
            continue
        url = build_url(app, endpoint, world, Actor.ASSIGNED)
        response = client.open(url, method=method, data={} if method == "POST" else None)
        assert response.status_code == 404, (method, url)
        checked.append(endpoint)
    assert set(checked) >= {
        "expert.review",
        "expert.declare_conflict",
        "expert.autosave_review",
        "expert.late_conflict",
        "expert.individual_report",
        "expert.download_document",
    }
