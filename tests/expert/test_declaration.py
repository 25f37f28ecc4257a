"""The conflict-of-interest and confidentiality declaration that opens (or closes) a proposal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, ConflictDeclaration

from ..factories import attach_pdf
from .conftest import Setup, audit_actions


def _declaration(setup: Setup) -> ConflictDeclaration | None:
    db.session.expire_all()
    return db.session.scalar(
        select(ConflictDeclaration).where(ConflictDeclaration.assignment_id == setup.assignment.id)
    )


def test_the_proposal_opens_only_after_the_declaration(setup: Setup, login_as) -> None:
    client = login_as(setup.expert)
    response = client.get(setup.url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{setup.url}/declaration")

    page = client.get(f"{setup.url}/declaration").get_data(as_text=True)
    assert "Do you have a conflict of interest with this proposal?" in page
    assert "A summary." not in page  # the content stays closed until the declaration

    response = client.post(
        f"{setup.url}/declaration", data={"has_conflict": "no", "confidentiality": "y"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(setup.url)
    declaration = _declaration(setup)
    assert declaration is not None
    assert not declaration.has_conflict and declaration.confidentiality_accepted
    assert "assignment.declare" in audit_actions()
    assert "A summary." in client.get(setup.url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({}, "Please answer this question."),
        ({"has_conflict": "no"}, "Please accept the confidentiality terms to open the proposal."),
        ({"has_conflict": "yes", "reason": "   "}, "Please give the reason for the conflict."),
        ({"has_conflict": "maybe", "confidentiality": "y"}, "Not a valid choice."),
    ],
)
def test_incomplete_declarations_are_refused_with_a_message(
    setup: Setup, login_as, data: dict[str, str], field_message: str
) -> None:
    client = login_as(setup.expert)
    response = client.post(f"{setup.url}/declaration", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field_message in html
    assert "invalid-feedback" in html
    assert _declaration(setup) is None


def test_a_declared_conflict_hides_the_proposal_for_good(setup: Setup, login_as) -> None:
    document = attach_pdf(setup.proposal, "annex.pdf")
    client = login_as(setup.expert)

    response = client.post(
        f"{setup.url}/declaration",
        data={"has_conflict": "yes", "reason": "I advised the applicant in 2023."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/expert/")
    declaration = _declaration(setup)
    assert declaration is not None and declaration.has_conflict
    assert declaration.reason == "I advised the applicant in 2023."
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.declare")
    ).one()
    assert event.data["has_conflict"] is True and event.actor_id == setup.expert.id

    assert client.get(setup.url).status_code == 404
    assert client.get(f"{setup.url}/declaration").status_code == 404
    assert client.get(f"{setup.url}/documents/{document.id}").status_code == 404
    assert client.post(f"{setup.url}/autosave", data={"version": "0"}).status_code == 404
    # Declaring again cannot undo it.
    again = client.post(
        f"{setup.url}/declaration", data={"has_conflict": "no", "confidentiality": "y"}
    )
    assert again.status_code == 404
    assert _declaration(setup).has_conflict
    assert "Conflict declared" in client.get("/expert/").get_data(as_text=True)


def test_a_declaration_is_made_once(declared: Setup, client) -> None:
    response = client.post(
        f"{declared.url}/declaration", data={"has_conflict": "yes", "reason": "Changed my mind"}
    )
    assert response.status_code == 302
    assert not _declaration(declared).has_conflict
    assert audit_actions().count("assignment.declare") == 1
