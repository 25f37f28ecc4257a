""" "Expert A" is one person on the consensus page, in the PDF data and in the pseudonym
function they both call (issue 9: the Greek proposal's Expert A was 3.00 on the page and 4.00
in the PDF, because one lettered by assignment order and the other by account)."""

from __future__ import annotations

import re

from reviewer_app.extensions import db
from reviewer_app.models import Phase, Role
from reviewer_app.pseudonyms import letter, panel_letters
from reviewer_app.reports.decision import decision_report
from reviewer_app.reports.records import load_records

from ..consensus.helpers import submit_review
from ..factories import advance_call


def test_letters_follow_the_panel_order_and_skip_conflicts() -> None:
    assert panel_letters([(7, "x", False), (3, "y", False), (5, "z", True)]) == {"y": "A", "x": "B"}
    assert [letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_expert_a_is_the_same_person_on_the_page_and_in_the_report(
    make_call, make_proposal, make_user, make_assignment, login_as
) -> None:
    call = make_call(anonymise_experts=True)
    proposal = make_proposal(call, reference="AIF-GR")
    # Accounts made in one order, assigned in the other: the two orders disagree.
    first, second, third = (make_user(Role.EXPERT) for _ in range(3))
    scores = {first.id: "4", second.id: "3.5", third.id: "3"}
    assignments = [
        make_assignment(proposal, expert, is_rapporteur=expert is third)
        for expert in (third, second, first)
    ]
    advance_call(call, Phase.EVALUATION)
    for assignment in assignments:
        submit_review(
            assignment,
            {"compute": scores[assignment.expert_id], "expertise": "3", "funding": "3"},
            comment=f"by account {assignment.expert_id}",
        )
    advance_call(call, Phase.CONSENSUS)

    page = login_as(third).get(f"/consensus/proposals/{proposal.id}").get_data(as_text=True)
    # On the page, Expert A's column holds the compute score of the first assignment (third).
    header = re.findall(r"Expert ([A-C])", page)
    assert header[:3] == ["A", "B", "C"]

    records = load_records(db.session.get(type(call), call.id))
    assert records.expert_letters["AIF-GR"] == {
        str(third.id): "A",
        str(second.id): "B",
        str(first.id): "C",
    }
    section = next(s for s in decision_report(records, "en").proposals if s.reference == "AIF-GR")
    assert section.experts == ("Expert A", "Expert B", "Expert C")
    compute = section.criteria[0]
    assert compute.individual == ("3.00", "3.50", "4.00")  # A = third, B = second, C = first
