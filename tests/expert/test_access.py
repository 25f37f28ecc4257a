"""An expert opens only their own assignments: everything else answers 404 (or 403 by role).

Every route and actor is in the access table (tests/test_access_table.py); here, what it does not
plant: unknown ids, a document of another proposal, a colleague's review during evaluation.
"""

from __future__ import annotations

from decimal import Decimal

from reviewer_app.extensions import db

from ..factories import attach_pdf, declare_for, in_setup
from .conftest import Setup


def test_unknown_assignment_and_document_are_not_found(
    declared: Setup, client, make_proposal
) -> None:
    assert client.get("/expert/assignments/999999").status_code == 404
    assert client.get(f"{declared.url}/documents/999999").status_code == 404
    # A document of another proposal, even one of the same call, is not reachable this way.
    with in_setup(declared.call):
        other = make_proposal(declared.call)
    foreign = attach_pdf(other, "x.pdf")
    assert client.get(f"{declared.url}/documents/{foreign.id}").status_code == 404


def test_no_other_experts_scores_are_shown(
    declared: Setup, client, make_user, make_assignment, login_as
) -> None:
    from reviewer_app.expert.services import ScoreInput, submit_review

    colleague = make_user("expert")
    theirs = make_assignment(declared.proposal, colleague)
    declare_for(theirs)
    secret = "A colleague's confidential judgement of the funding plan, long enough to submit."
    keys = ("compute", "expertise", "funding")
    submit_review(theirs, 0, {k: ScoreInput(Decimal("1.5"), secret) for k in keys})
    db.session.commit()
    html = client.get(declared.url).get_data(as_text=True)
    assert secret not in html
    assert "checked" not in html  # nothing pre-filled from another review
