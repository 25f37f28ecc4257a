"""An expert opens only their own assignments: everything else answers 404 (or 403 by role)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reviewer_app.extensions import db
from reviewer_app.models import ConflictDeclaration, Document, Phase

from .conftest import Setup, scores

PATHS = ("", "/declaration", "/autosave", "/documents/{doc}")


@pytest.fixture
def document(setup: Setup) -> Document:
    document = Document(
        proposal=setup.proposal,
        filename="annex.pdf",
        content_type="application/pdf",
        size_bytes=3,
        sha256="0" * 64,
        content=b"pdf",
    )
    db.session.add(document)
    db.session.commit()
    return document


def _urls(setup: Setup, document: Document) -> list[tuple[str, str]]:
    urls = []
    for path in PATHS:
        url = setup.url + path.format(doc=document.id)
        urls.append(("POST" if path == "/autosave" else "GET", url))
        if path == "":
            urls.append(("POST", url))
    return urls


def _request(client, method: str, url: str):
    if method == "POST":
        return client.post(url, data={**scores(), "save": "1"})
    return client.get(url)


def test_another_experts_assignment_is_not_found(
    setup: Setup, document: Document, make_user, login_as
) -> None:
    db.session.add(
        ConflictDeclaration(
            assignment=setup.assignment, has_conflict=False, confidentiality_accepted=True
        )
    )
    db.session.commit()
    client = login_as(make_user("expert"))
    for method, url in _urls(setup, document):
        assert _request(client, method, url).status_code == 404, (method, url)


def test_assignments_of_a_call_in_setup_are_not_found(
    setup: Setup, document: Document, login_as
) -> None:
    setup.call.phase = Phase.SETUP
    db.session.commit()
    client = login_as(setup.expert)
    for method, url in _urls(setup, document):
        assert _request(client, method, url).status_code == 404, (method, url)


@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_other_roles_are_refused(
    setup: Setup, document: Document, make_user, login_as, role
) -> None:
    client = login_as(make_user(role))
    for method, url in _urls(setup, document):
        assert _request(client, method, url).status_code == 403, (method, url)


def test_unknown_assignment_and_document_are_not_found(
    declared: Setup, document: Document, client, make_proposal
) -> None:
    assert client.get("/expert/assignments/999999").status_code == 404
    assert client.get(f"{declared.url}/documents/999999").status_code == 404
    # A document of another proposal, even one of the same call, is not reachable this way.
    other = make_proposal(declared.call)
    foreign = Document(
        proposal=other,
        filename="x.pdf",
        content_type="application/pdf",
        size_bytes=1,
        sha256="1" * 64,
        content=b"x",
    )
    db.session.add(foreign)
    db.session.commit()
    assert client.get(f"{declared.url}/documents/{foreign.id}").status_code == 404


def test_no_other_experts_scores_are_shown(
    declared: Setup, client, make_user, make_assignment, login_as
) -> None:
    from reviewer_app.expert.services import ScoreInput, submit_review

    colleague = make_user("expert")
    theirs = make_assignment(declared.proposal, colleague)
    db.session.add(
        ConflictDeclaration(assignment=theirs, has_conflict=False, confidentiality_accepted=True)
    )
    db.session.flush()
    secret = "A colleague's confidential judgement of the funding plan, long enough to submit."
    keys = ("compute", "expertise", "funding")
    submit_review(theirs, 0, {k: ScoreInput(Decimal("1.5"), secret) for k in keys})
    db.session.commit()
    html = client.get(declared.url).get_data(as_text=True)
    assert secret not in html
    assert "checked" not in html  # nothing pre-filled from another review
