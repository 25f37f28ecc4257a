"""The history of a proposal: every kept version of each review and of the consensus report, with
what changed between consecutive versions; for coordinators only."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewer_app.consensus.services import save_draft
from reviewer_app.coordinator.history import Change, CriterionState, TextPiece, compare, text_diff
from reviewer_app.extensions import db
from reviewer_app.models import Phase
from tests.factories import advance_call, plant_phase

from ..expert.conftest import GOOD_COMMENT, scores

BEFORE = "The plan is credible. The budget is tight."
AFTER = "The plan is credible and well staffed. The budget is tight."


@pytest.fixture
def reviewed(make_user, make_call, make_proposal, make_assignment, login_as):
    """An expert saved on the page, then an autosave changed one score and one comment."""
    call = make_call()
    proposal = make_proposal(call, reference="HIST-1")
    expert = make_user("expert", name="Erika Expert")
    assignment = make_assignment(proposal, expert)
    plant_phase(call, Phase.EVALUATION)  # one expert: the page needs only the phase
    page = f"/expert/assignments/{assignment.id}"
    client = login_as(expert)
    client.post(f"{page}/declaration", data={"has_conflict": "no", "confidentiality": "y"})
    assert client.post(page, data=scores(comment_compute=BEFORE, save="1")).status_code == 302
    saved = client.post(
        f"{page}/autosave",
        data=scores(version="1", score_compute="3", comment_compute=AFTER),
    ).get_json()
    assert saved["ok"]
    client.post("/logout")
    return call, proposal


def history_url(call, proposal) -> str:
    return f"/calls/{call.key}/proposals/{proposal.id}/history"


def test_the_proposal_page_links_to_its_history(reviewed, make_user, login_as) -> None:
    call, proposal = reviewed
    client = login_as(make_user("coordinator"))
    html = client.get(f"/calls/{call.key}/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="{history_url(call, proposal)}"' in html


def test_the_history_shows_every_version_and_what_changed(reviewed, make_user, login_as) -> None:
    call, proposal = reviewed
    client = login_as(make_user("coordinator"))
    response = client.get(history_url(call, proposal))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Erika Expert" in html
    # Both versions with when, who and how; newest first.
    version_2 = html.index('id="review-1-v2"')
    version_1 = html.index('id="review-1-v1"')
    assert version_2 < version_1
    assert "saved automatically" in html[version_2:version_1]
    assert "saved on the page" in html[version_1:]
    # The first version's text is still there, though the review now holds the second.
    assert BEFORE in html[version_1:] and AFTER in html[version_2:version_1]
    # The change: the score, and the comment as a word diff.
    changes = html[version_2:version_1]
    assert "Changes from version 1" in changes
    assert '>Compute</span>: <span class="score-change">4.50 → 3.00</span>' in changes
    assert re.search(r"<ins[^>]*> and well staffed</ins>", changes)
    assert "<del" not in changes  # nothing was removed
    # Criteria that did not change are not listed as changes.
    assert changes.count('class="mb-2"') == 1
    assert GOOD_COMMENT in html
    assert "No consensus report has been saved yet." in html


def test_the_history_shows_the_consensus_versions(reviewed, make_user, login_as) -> None:
    call, proposal = reviewed
    coordinator = make_user("coordinator", name="Clara Coordinator")
    advance_call(call, Phase.CONSENSUS)
    db.session.commit()
    keys = ("compute", "expertise", "funding")
    report = save_draft(
        proposal, coordinator, {k: (Decimal("4"), "Strong hosting.") for k in keys}, version=None
    )
    db.session.commit()
    save_draft(
        proposal,
        coordinator,
        {k: (Decimal("4"), "Weak hosting.") for k in keys},
        version=report.version,
    )
    db.session.commit()
    html = login_as(coordinator).get(history_url(call, proposal)).get_data(as_text=True)
    section = html[html.index('id="consensus-h"') :]
    assert 'id="consensus-v2"' in section and 'id="consensus-v1"' in section
    assert "Clara Coordinator" in section
    assert re.search(r"<del[^>]*>Strong</del><ins[^>]*>Weak</ins> hosting\.", section)


@pytest.mark.parametrize("role", ["observer", "expert"])
def test_only_coordinators_read_the_history(reviewed, make_user, login_as, role) -> None:
    call, proposal = reviewed
    client = login_as(make_user(role))
    assert client.get(history_url(call, proposal)).status_code == 403


def test_a_proposal_of_another_call_has_no_history_there(
    reviewed, make_user, make_call, login_as
) -> None:
    _call, proposal = reviewed
    other = make_call()
    client = login_as(make_user("coordinator"))
    assert client.get(history_url(other, proposal)).status_code == 404


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("same", "same", [(Change.SAME, "same")]),
        (
            "The plan is credible.",
            "The plan is not credible.",
            [(Change.SAME, "The plan is "), (Change.ADDED, "not "), (Change.SAME, "credible.")],
        ),
        (
            "Strong hosting site.",
            "Weak hosting site.",
            [(Change.REMOVED, "Strong"), (Change.ADDED, "Weak"), (Change.SAME, " hosting site.")],
        ),
        ("", "New text.", [(Change.ADDED, "New text.")]),
        ("Old text.", "", [(Change.REMOVED, "Old text.")]),
    ],
)
def test_text_diff_marks_words(old: str, new: str, expected: list[tuple[Change, str]]) -> None:
    assert text_diff(old, new) == tuple(TextPiece(c, t) for c, t in expected)


@given(st.text(), st.text())
def test_text_diff_gives_back_both_texts(old: str, new: str) -> None:
    pieces = text_diff(old, new)
    assert "".join(p.text for p in pieces if p.change is not Change.ADDED) == old
    assert "".join(p.text for p in pieces if p.change is not Change.REMOVED) == new


def test_compare_lists_only_what_changed() -> None:
    old = (
        CriterionState("a", "A", Decimal(3), "same"),
        CriterionState("b", "B", Decimal(3), "before"),
    )
    new = (
        CriterionState("a", "A", Decimal(3), "same"),
        CriterionState("b", "B", Decimal(4), "before"),
        CriterionState("c", "C", None, "new"),  # not in the earlier version: from nothing
    )
    changes = compare(old, new)
    assert [(c.key, c.value_changed, bool(c.comment_diff)) for c in changes] == [
        ("b", True, False),
        ("c", False, True),
    ]
