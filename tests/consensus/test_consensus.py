"""Consensus: who sees the individual reviews, the prefilled draft, locking, approvals, final."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from reviewer_app.consensus.services import round_to_scale
from reviewer_app.extensions import db
from reviewer_app.models import (
    AuditEvent,
    ConsensusApproval,
    ConsensusMinorityView,
    ConsensusReport,
    ConsensusStatus,
    ConsensusVersion,
    Phase,
    Role,
)
from reviewer_app.pseudonyms import letter
from reviewer_app.ranking import rank_call
from reviewer_app.scoring.scheme import Scale

from ..factories import advance_call, in_phase, in_setup
from .helpers import GREEK, declare_conflict, submit_review

HALF_POINTS = Scale(Decimal(0), Decimal(5), Decimal("0.5"))


def url(p) -> str:
    return f"/consensus/proposals/{p.proposal.id}"


def agreed(key: str) -> str:
    """A consensus comment long enough for the scheme (rules.comment_min_chars = 50)."""
    return f"Agreed view on {key}. The panel's assessment, written for the applicant."


def draft_data(version: str = "", justification: str = "", **scores: str) -> dict[str, str]:
    """The draft form's fields; by default 3.5 everywhere: a total of 10.5 that meets every
    threshold, as the panel's reviews do (no justification needed)."""
    data = {"version": version, "justification": justification}
    for key in ("compute", "expertise", "funding"):
        data[f"c_{key}-score"] = scores.get(key, "3.5")
        data[f"c_{key}-comment"] = agreed(key)
    return data


def report_of(p) -> ConsensusReport | None:
    db.session.expire_all()
    return db.session.scalar(
        select(ConsensusReport).where(ConsensusReport.proposal_id == p.proposal.id)
    )


def selected(html: str, key: str) -> str:
    select_html = re.search(rf'<select[^>]*name="c_{key}-score".*?</select>', html, re.S).group(0)
    return re.search(r'<option selected value="([^"]*)"', select_html).group(1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(23, 6), "4"),  # 3.83
        (Fraction(19, 6), "3"),  # 3.17
        (Fraction(10, 3), "3.5"),  # 3.33
        (Fraction(13, 4), "3.5"),  # 3.25: halfway between steps rounds up
        (Fraction(11, 4), "3"),  # 2.75
        (Fraction(5), "5"),
        (Fraction(0), "0"),
    ],
)
def test_aggregate_is_rounded_to_the_nearest_scale_value(value, expected) -> None:
    assert round_to_scale(value, HALF_POINTS) == Decimal(expected)


def test_letters_never_run_out() -> None:
    assert [letter(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


def textarea(html: str, name: str) -> str:
    return re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def reference(html: str, key: str) -> str:
    """The reviews shown beside the editor of criterion ``key``."""
    return re.search(
        rf'<aside[^>]*data-reference-for="{key}"[^>]*>(.*?)</aside>', html, re.S
    ).group(1)


def test_rapporteur_starts_from_suggested_scores_and_empty_comments_beside_the_reviews(
    panel, login_as
) -> None:
    p = panel()
    html = login_as(p.rapporteur).get(url(p)).get_data(as_text=True)
    for expert in p.experts:
        assert expert.name not in html.replace(p.rapporteur.name, "")  # own name only in the nav
    # mean of 4, 4.5, 3 = 3.83 -> 4; of 3.5, 3, 3 = 3.17 -> 3; of 3, 3, 4 = 3.33 -> 3.5
    assert selected(html, "compute") == "4"
    assert selected(html, "expertise") == "3"
    assert selected(html, "funding") == "3.5"
    # The consensus text is written, never pasted: every comment and the justification start
    # empty, and no expert's label or comment is inside the form's text.
    for key in ("compute", "expertise", "funding"):
        assert textarea(html, f"c_{key}-comment").strip() == ""
    assert textarea(html, "justification").strip() == ""
    # The reviews stand beside each editor as reference, under stable letters in assignment
    # order, with the exact aggregate.
    panel_html = reference(html, "compute")
    assert (
        panel_html.index("Expert A") < panel_html.index("Expert B") < panel_html.index("Expert C")
    )
    assert f"compute comment from reviewer {p.experts[1].id}" in panel_html
    assert "3.83" in panel_html
    assert "expertise comment" not in panel_html


def test_the_form_says_what_the_suggested_scores_mean(panel, login_as) -> None:
    p = panel()
    html = login_as(p.rapporteur).get(url(p)).get_data(as_text=True)
    # Per criterion: threshold met, the reviews' mean and the change the rounding makes.
    effect = re.search(r'<div[^>]*id="effect-funding".*?</div>', html, re.S).group(0)
    assert "Threshold 3.00:" in effect and "Reviews' mean 3.33 (met)" in effect
    assert 'data-value="change:funding">+0.17<' in effect
    # The totals: 4 + 3 + 3.5 = 10.5 against the reviews' 10.33, both over the threshold of 10.
    assert 'data-value="total">10.50<' in html and 'data-value="total-change">+0.17<' in html
    assert re.search(r'data-show-when="met:overall">', html)
    assert re.search(r'data-show-when="not-met:overall" hidden>', html)
    # Nothing crosses: no warning and no justification asked for.
    for warning in ("turn-fail-to-pass", "turn-pass-to-fail", "threshold-crossed"):
        assert re.search(rf'id="{warning}" data-show-when="[^"]+" hidden>', html), warning
    assert re.search(
        r'id="justification-required" data-show-when="needs-justification" hidden', html
    )
    # The numbers the page's script needs, from the engine.
    data = json.loads(
        re.search(
            r'<script type="application/json" id="consensus-data"[^>]*>(.*?)</script>', html, re.S
        ).group(1)
    )
    assert data["overall_threshold"] == 1000
    assert data["criteria"][0] == {
        "key": "compute",
        "threshold": 300,
        "weight": 100,
        "aggregate": [23, 6],
        "aggregate_meets": True,
    }
    assert data["aggregate_total"] == [31, 3] and data["aggregate_passes"] is True


def test_rounding_over_the_overall_threshold_is_called_out(panel, login_as) -> None:
    """The issue's case: means of 3.33, 3.33 and 3.17 are 9.83, below the overall threshold of
    10; the rounded prefill (3.5, 3.5, 3) makes 10. The page says so before anything is saved,
    and finalising needs a justification."""
    p = panel(GREEK)
    client = login_as(p.rapporteur)
    html = client.get(url(p)).get_data(as_text=True)
    assert [selected(html, k) for k in ("compute", "expertise", "funding")] == ["3.5", "3.5", "3"]
    assert 'data-value="total">10.00<' in html and 'data-value="total-change">+0.17<' in html
    assert re.search(r'id="turn-fail-to-pass" data-show-when="turn:fail_to_pass">', html)
    assert re.search(r'id="justification-required" data-show-when="needs-justification">', html)

    client.post(url(p), data=draft_data(compute="3.5", expertise="3.5", funding="3"))
    coordinator = login_as(p.coordinator)
    page = coordinator.get(url(p)).get_data(as_text=True)
    assert "Before this report can be final:" in page and "say why in the justification" in page
    response = coordinator.post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )
    assert "say why in the justification" in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT

    why = "The co-funding letter, missing at review time, was confirmed by the ministry."
    coordinator.post(
        url(p),
        data=draft_data(
            str(report_of(p).version), why, compute="3.5", expertise="3.5", funding="3"
        ),
    )
    response = coordinator.post(f"{url(p)}/finalise", data={"version": str(report_of(p).version)})
    assert response.status_code == 302
    report = report_of(p)
    assert report.status is ConsensusStatus.FINAL and report.justification == why
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.finalise")
    ).one()
    assert event.data["crossed"] == ["overall"] and event.data["justification"] == why
    # Everyone reading the report sees the crossing and its justification.
    html = login_as(p.experts[1]).get(url(p)).get_data(as_text=True)
    assert "This consensus turns a fail into a pass." in html and why in html


@pytest.mark.parametrize(
    ("scores", "crossed"),
    [
        ({"compute": "2.5"}, True),  # below its threshold, where the mean 3.83 meets it
        ({"compute": "3", "expertise": "3", "funding": "3.5"}, True),  # total 9.5 < 10.33
        ({"compute": "5", "expertise": "4", "funding": "4"}, False),  # higher, crosses nothing
    ],
)
def test_finalising_needs_a_justification_only_when_a_threshold_is_crossed(
    panel, login_as, scores, crossed
) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data(**scores))
    response = login_as(p.coordinator).post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )
    assert ("say why in the justification" in response.get_data(as_text=True)) is crossed
    assert report_of(p).status is (ConsensusStatus.DRAFT if crossed else ConsensusStatus.FINAL)


def test_finalising_refuses_comments_that_name_an_expert(panel, login_as) -> None:
    p = panel()
    data = draft_data()
    data["c_expertise-comment"] = "Expert B:\nThe team is strong; the training plan is thin."
    data["c_funding-comment"] = f"As {p.experts[2].name} put it, the co-funding is uncertain."
    login_as(p.rapporteur).post(url(p), data=data)
    response = login_as(p.coordinator).post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "must not name an expert: Expertise and services, Funding and implementation" in html
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_the_german_label_counts_as_naming_an_expert_too(panel, login_as) -> None:
    p = panel()
    data = draft_data()
    data["c_compute-comment"] = "Gutachter C hält die Rechenleistung für ausreichend geplant."
    login_as(p.rapporteur).post(url(p), data=data)
    login_as(p.coordinator).post(f"{url(p)}/finalise", data={"version": str(report_of(p).version)})
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_names_are_shown_when_the_call_does_not_anonymise(panel, login_as) -> None:
    p = panel(anonymise_experts=False)
    html = login_as(p.experts[1]).get(url(p)).get_data(as_text=True)
    assert "Ada Lovelace" in html and "Cy Ray" in html
    assert "Expert A" not in html


def test_expert_without_a_submitted_review_sees_no_other_review(panel, login_as) -> None:
    p = panel(submit=(True, True, False))
    response = login_as(p.experts[2]).get(url(p))
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Submit your own review first" in html
    assert "compute comment from reviewer" not in html


def test_draft_review_does_not_open_the_page(panel, login_as) -> None:
    from reviewer_app.models import ReviewStatus

    p = panel(submit=(True, True, False), phase=Phase.EVALUATION)
    submit_review(p.assignments[2], {"compute": "3"}, status=ReviewStatus.DRAFT)
    advance_call(p.call, Phase.CONSENSUS)
    assert login_as(p.experts[2]).get(url(p)).status_code == 403


def test_expert_of_another_proposal_gets_404(
    panel, make_user, make_proposal, make_assignment, login_as
) -> None:
    p = panel()
    outsider = make_user(Role.EXPERT)
    with in_setup(p.call):
        make_assignment(make_proposal(p.call), outsider)
    assert login_as(outsider).get(url(p)).status_code == 404


def test_conflicted_expert_gets_404(panel, make_user, make_assignment, login_as) -> None:
    p = panel()
    conflicted = make_user(Role.EXPERT)
    with in_phase(p.call, Phase.EVALUATION):
        declare_conflict(make_assignment(p.proposal, conflicted))
    assert login_as(conflicted).get(url(p)).status_code == 404


@pytest.mark.parametrize("phase", [Phase.EVALUATION, Phase.RANKING, Phase.DECIDED])
def test_experts_see_other_reviews_only_in_the_consensus_phase(panel, login_as, phase) -> None:
    p = panel(phase=phase)
    response = login_as(p.experts[1]).get(url(p))
    assert response.status_code == 403
    assert "compute comment from reviewer" not in response.get_data(as_text=True)


def test_unknown_proposal_is_404(panel, login_as) -> None:
    p = panel()
    assert login_as(p.coordinator).get("/consensus/proposals/999999").status_code == 404


def test_rapporteur_saves_the_draft_and_it_is_audited(panel, login_as) -> None:
    p = panel()
    client = login_as(p.rapporteur)
    response = client.post(url(p), data=draft_data(compute="4", expertise="3", funding="3.5"))
    assert response.status_code == 302
    report = report_of(p)
    assert report.status is ConsensusStatus.DRAFT
    assert report.rapporteur_id == p.rapporteur.id
    assert sorted(s.value for s in report.scores) == [Decimal(3), Decimal("3.5"), Decimal(4)]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consensus.save"))
    html = client.get(url(p)).get_data(as_text=True)
    assert "Agreed view on compute." in html
    assert f'name="version" type="hidden" value="{report.version}"' in html


def test_a_stale_draft_is_refused_and_nothing_is_saved(panel, login_as) -> None:
    p = panel()
    rapporteur = login_as(p.rapporteur)
    rapporteur.post(url(p), data=draft_data(compute="4"))
    first = report_of(p).version
    rapporteur.post(url(p), data=draft_data(str(first), compute="5"))
    current = report_of(p).version
    # A second editor (the coordinator) still holds the first version.
    coordinator = login_as(p.coordinator)
    data = draft_data(str(first), compute="1")
    data["c_compute-comment"] = "My own careful wording."
    response = coordinator.post(url(p), data=data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this report" in html
    # The saved version is shown, the editor's text is kept, the form now answers the saved one.
    assert 'id="saved-version"' in html and "5.00" in html
    assert "My own careful wording." in html
    assert f'name="version" type="hidden" value="{current}"' in html
    compute = next(s for s in report_of(p).scores if s.criterion.key == "compute")
    assert compute.value == Decimal(5)
    # Saving again after seeing the other version works.
    response = coordinator.post(url(p), data=dict(data, version=str(current)))
    assert response.status_code == 302
    compute = next(s for s in report_of(p).scores if s.criterion.key == "compute")
    assert compute.value == Decimal(1)


def test_a_second_first_draft_is_refused(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data(compute="4"))
    # Someone who opened the page before any report existed posts an empty version.
    response = login_as(p.coordinator).post(url(p), data=draft_data(compute="1"))
    assert response.status_code == 409
    assert "Someone else saved this report" in response.get_data(as_text=True)
    compute = next(s for s in report_of(p).scores if s.criterion.key == "compute")
    assert compute.value == Decimal(4)


@pytest.mark.parametrize("bad", ["3.3", "6", "-1", "", "abc"])
def test_score_off_the_scale_is_refused_next_to_its_field(panel, login_as, bad) -> None:
    p = panel()
    response = login_as(p.rapporteur).post(url(p), data=draft_data(compute=bad))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "invalid-feedback" in html
    assert report_of(p) is None


def test_a_draft_without_every_criterion_is_refused_by_the_service(panel) -> None:
    """The page always sends every criterion; a script calling the service may not."""
    from reviewer_app.consensus.services import ConsensusError, save_draft

    p = panel()
    with pytest.raises(ConsensusError, match="Expertise and services: a score is needed"):
        save_draft(p.proposal, p.rapporteur, {"compute": (Decimal("4"), "")}, version=None)
    assert report_of(p) is None


def test_other_experts_and_observers_cannot_edit_the_draft(panel, make_user, login_as) -> None:
    p = panel()
    assert login_as(p.experts[1]).post(url(p), data=draft_data()).status_code == 403
    observer = make_user(Role.OBSERVER)
    client = login_as(observer)
    assert client.get(url(p)).status_code == 200
    assert client.post(url(p), data=draft_data()).status_code == 403
    assert report_of(p) is None


def test_observer_reads_without_any_form(panel, make_user, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    html = login_as(make_user(Role.OBSERVER)).get(url(p)).get_data(as_text=True)
    assert "Agreed view on compute." in html
    assert '<form method="post" class' not in html
    assert "Mark final" not in html


def test_experts_approve_or_ask_for_changes(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    respond = f"{url(p)}/respond"
    response = login_as(p.experts[1]).post(respond, data={"approved": "yes", "comment": ""})
    assert response.status_code == 302
    # Asking for changes needs a comment, shown next to the field; nothing is saved.
    client = login_as(p.experts[2])
    response = client.post(respond, data={"approved": "no", "comment": "  "})
    assert response.status_code == 400
    assert "Say what should change" in response.get_data(as_text=True)
    client.post(respond, data={"approved": "no", "comment": "Funding is too generous."})
    db.session.expire_all()
    approvals = db.session.scalars(select(ConsensusApproval).order_by(ConsensusApproval.id)).all()
    assert [(a.expert_id, a.approved) for a in approvals] == [
        (p.experts[1].id, True),
        (p.experts[2].id, False),
    ]
    html = login_as(p.coordinator).get(f"/consensus/calls/{p.call.key}").get_data(as_text=True)
    assert re.search(r"<td class=\"text-end\">1 <span", html)  # one approval, one objection


def test_approval_of_an_earlier_draft_is_marked(panel, login_as) -> None:
    p = panel()
    rapporteur = login_as(p.rapporteur)
    rapporteur.post(url(p), data=draft_data())
    login_as(p.experts[1]).post(f"{url(p)}/respond", data={"approved": "yes"})
    rapporteur = login_as(p.rapporteur)
    rapporteur.post(url(p), data=draft_data(str(report_of(p).version), compute="5"))
    assert "on an earlier draft" in rapporteur.get(url(p)).get_data(as_text=True)


def test_rapporteur_cannot_approve_and_expert_cannot_respond_without_a_draft(
    panel, login_as
) -> None:
    p = panel()
    response = login_as(p.experts[1]).post(
        f"{url(p)}/respond", data={"approved": "yes"}, follow_redirects=True
    )
    assert "no consensus draft to approve" in response.get_data(as_text=True)
    login_as(p.rapporteur).post(url(p), data=draft_data())
    client = login_as(p.rapporteur)
    response = client.post(f"{url(p)}/respond", data={"approved": "yes"}, follow_redirects=True)
    assert "Only the other experts" in response.get_data(as_text=True)
    assert db.session.scalar(select(ConsensusApproval)) is None


def test_coordinator_finalises_and_final_scores_feed_the_ranking(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data(compute="5", expertise="4.5", funding="4"))
    version = report_of(p).version
    client = login_as(p.coordinator)
    response = client.post(f"{url(p)}/finalise", data={"version": str(version)})
    assert response.status_code == 302
    report = report_of(p)
    assert report.status is ConsensusStatus.FINAL
    assert report.finalised_by_id == p.coordinator.id and report.finalised_at is not None
    row = rank_call(p.call).row(p.proposal.reference)
    assert row.criterion("compute").source == "consensus"
    assert row.criterion("compute").score == 5
    # Final: the rapporteur can no longer change it.
    rapporteur = login_as(p.rapporteur)
    response = rapporteur.post(
        url(p), data=draft_data(str(report.version), compute="1"), follow_redirects=True
    )
    assert "cannot be edited now" in response.get_data(as_text=True)
    assert next(s for s in report_of(p).scores if s.criterion.key == "compute").value == 5


def test_a_draft_only_counts_once_final(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data(compute="5"))
    assert rank_call(p.call).row(p.proposal.reference).criterion("compute").source == "aggregate"


def test_finalising_needs_a_comment_on_every_criterion(panel, login_as) -> None:
    p = panel()
    data = draft_data()
    data["c_funding-comment"] = ""
    login_as(p.rapporteur).post(url(p), data=data)
    client = login_as(p.coordinator)
    response = client.post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )
    assert "needs a score and a comment" in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_finalising_a_changed_report_is_refused(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    stale = report_of(p).version
    login_as(p.rapporteur).post(url(p), data=draft_data(str(stale), compute="4"))
    response = login_as(p.coordinator).post(
        f"{url(p)}/finalise", data={"version": str(stale)}, follow_redirects=True
    )
    assert "changed since you opened it" in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_coordinator_reopens_a_final_report(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    client = login_as(p.coordinator)
    client.post(f"{url(p)}/finalise", data={"version": str(report_of(p).version)})
    client.post(f"{url(p)}/reopen", data={"version": str(report_of(p).version)})
    assert report_of(p).status is ConsensusStatus.DRAFT
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["consensus.finalise", "consensus.reopen"]


def test_experts_cannot_finalise(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    response = login_as(p.rapporteur).post(f"{url(p)}/finalise", data={"version": "1"})
    assert response.status_code == 403
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_nothing_changes_after_the_consensus_phase(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    advance_call(p.call, Phase.RANKING)
    db.session.commit()
    client = login_as(p.coordinator)
    html = client.get(url(p)).get_data(as_text=True)
    assert "read-only" in html and "Mark final" not in html
    response = client.post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )
    assert "not in the consensus phase" in response.get_data(as_text=True)
    response = client.post(
        url(p), data=draft_data(str(report_of(p).version)), follow_redirects=True
    )
    assert "cannot be edited now" in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT


def test_expert_index_lists_consensus_work(panel, login_as) -> None:
    p = panel(submit=(True, True, False))
    html = login_as(p.rapporteur).get("/consensus/").get_data(as_text=True)
    assert p.proposal.reference in html and "Draft the consensus" in html
    html = login_as(p.experts[2]).get("/consensus/").get_data(as_text=True)
    assert "Submit your review first" in html
    assert login_as(p.coordinator).get("/consensus/").status_code == 403


def test_call_progress_for_coordinators_and_observers_only(panel, make_user, login_as) -> None:
    p = panel()
    html = login_as(p.coordinator).get(f"/consensus/calls/{p.call.key}").get_data(as_text=True)
    assert p.proposal.reference in html and "3 / 3" in html and "Ada Lovelace" in html
    assert (
        login_as(make_user(Role.OBSERVER)).get(f"/consensus/calls/{p.call.key}").status_code == 200
    )
    assert login_as(p.rapporteur).get(f"/consensus/calls/{p.call.key}").status_code == 403
    assert login_as(p.coordinator).get("/consensus/calls/nope").status_code == 404


def test_the_proposal_page_keeps_the_calls_tabs_for_coordinators_and_observers(
    panel, make_user, login_as
) -> None:
    p = panel()
    for user in (p.coordinator, make_user(Role.OBSERVER)):
        html = login_as(user).get(url(p)).get_data(as_text=True)
        assert 'class="nav nav-tabs' in html
        assert f'aria-current="page"\n         href="/consensus/calls/{p.call.key}"' in html
        assert f'<h2 class="h3 mb-1">{p.proposal.label}' in html  # one h1: the call's
    # The experts of the panel see no call tabs (the call's pages are not theirs).
    assert 'class="nav nav-tabs' not in login_as(p.rapporteur).get(url(p)).get_data(as_text=True)


def test_page_in_german(panel, login_as) -> None:
    p = panel()
    client = login_as(p.rapporteur)
    client.post("/language", data={"language": "de", "next": url(p)})
    html = client.get(url(p)).get_data(as_text=True)
    assert "Einzelgutachten" in html and "Gutachter A" in html and "Entwurf speichern" in html


def test_a_save_racing_another_is_refused_at_flush(panel, login_as) -> None:
    from sqlalchemy import text

    from reviewer_app.consensus.services import StaleReport, load_proposal, save_draft

    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    db.session.expire_all()
    proposal = load_proposal(p.proposal.id)
    loaded = proposal.consensus.version
    # Another request commits between our version check and our flush.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE consensus_reports SET version = version + 1"))
    values = {k: (Decimal(2), "Racing.") for k in ("compute", "expertise", "funding")}
    with pytest.raises(StaleReport):
        save_draft(proposal, p.coordinator, values, version=loaded)
    db.session.rollback()
    assert {s.value for s in report_of(p).scores} == {Decimal("3.5")}


@given(
    values=st.lists(st.sampled_from(HALF_POINTS.values()), min_size=1, max_size=7),
)
def test_rounded_aggregate_is_on_the_scale_and_nearest(values) -> None:
    mean = sum((Fraction(v) for v in values), Fraction(0)) / len(values)
    rounded = round_to_scale(mean, HALF_POINTS)
    assert HALF_POINTS.contains(rounded)
    assert abs(Fraction(rounded) - mean) <= Fraction(HALF_POINTS.step) / 2


def test_disagreement_and_aggregate_are_shown_beside_the_consensus(panel, login_as) -> None:
    # compute 1, 4, 4.5: a spread of 3.5 (the scheme flags 2 or more)
    p = panel(
        [
            {"compute": "1", "expertise": "3", "funding": "3"},
            {"compute": "4", "expertise": "3", "funding": "3"},
            {"compute": "4.5", "expertise": "3", "funding": "3"},
        ]
    )
    client = login_as(p.rapporteur)
    html = client.get(url(p)).get_data(as_text=True)
    assert html.count("experts disagree") == 1
    client.post(url(p), data=draft_data(compute="3.5"))
    html = login_as(p.experts[1]).get(url(p)).get_data(as_text=True)
    assert "reviews: 3.17" in html  # the mean (1 + 4 + 4.5) / 3 beside the consensus 3.50


def test_coordinator_finalises_every_draft_all_experts_approved(
    panel, make_proposal, make_user, make_assignment, login_as
) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    # Approved by one of two: not ready.
    login_as(p.experts[1]).post(f"{url(p)}/respond", data={"approved": "yes"})
    coordinator = login_as(p.coordinator)
    progress = f"/consensus/calls/{p.call.key}"
    assert "Mark these final" not in coordinator.get(progress).get_data(as_text=True)
    response = coordinator.post(f"{progress}/finalise-approved", follow_redirects=True)
    assert "No draft is approved by all its experts yet." in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT
    # Both approve, then the rapporteur edits again: the approvals no longer cover the draft.
    login_as(p.experts[2]).post(f"{url(p)}/respond", data={"approved": "yes"})
    assert "Mark these final" in login_as(p.coordinator).get(progress).get_data(as_text=True)
    login_as(p.rapporteur).post(url(p), data=draft_data(str(report_of(p).version), compute="5"))
    assert "Mark these final" not in login_as(p.coordinator).get(progress).get_data(as_text=True)
    for expert in p.experts[1:]:
        login_as(expert).post(f"{url(p)}/respond", data={"approved": "yes"})
    response = login_as(p.coordinator).post(f"{progress}/finalise-approved", follow_redirects=True)
    assert f"Consensus reports made final: {p.proposal.reference}." in response.get_data(
        as_text=True
    )
    assert report_of(p).status is ConsensusStatus.FINAL
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.finalise")
    ).one()
    assert event.data["all_approved"] is True


def test_bulk_finalise_refused_for_experts_and_outside_the_phase(panel, login_as) -> None:
    p = panel()
    progress = f"/consensus/calls/{p.call.key}"
    assert login_as(p.rapporteur).post(f"{progress}/finalise-approved").status_code == 403
    advance_call(p.call, Phase.RANKING)
    db.session.commit()
    response = login_as(p.coordinator).post(f"{progress}/finalise-approved", follow_redirects=True)
    assert "not in the consensus phase" in response.get_data(as_text=True)


def _ticket(page: str, action: str | None = None) -> str:
    """The stash ticket of the form that posts to ``action`` (None: to the page itself)."""
    forms = re.findall(r"<form[^>]*>.*?</form>", page, re.S)
    for form in forms:
        posts_to = re.search(r'action="([^"]*)"', form.split(">", 1)[0])
        if (posts_to.group(1) if posts_to else None) == action:
            found = re.search(r'name="_stash" value="([^"]+)"', form)
            if found:
                return found.group(1)
    raise AssertionError(f"no form posting to {action!r} carries a stash ticket")


def test_a_draft_sent_after_the_session_expired_comes_back(panel, login_as, app) -> None:
    from ..conftest import PASSWORD

    p = panel()
    ticket = _ticket(login_as(p.rapporteur).get(url(p)).get_data(as_text=True))
    data = draft_data(compute="4.5")
    data["c_compute-comment"] = "Typed for an hour while the session quietly ran out."
    expired = app.test_client()
    response = expired.post(url(p), data={**data, "_stash": ticket})
    assert "kept=1" in response.headers["Location"]
    assert report_of(p) is None  # nothing saved without a session
    expired.post("/login", data={"email": p.rapporteur.email, "password": PASSWORD})
    page = expired.get(url(p)).get_data(as_text=True)
    assert "We restored your unsaved input." in page
    assert "Typed for an hour while the session quietly ran out." in page
    assert selected(page, "compute") == "4.5"


def test_a_response_sent_after_the_session_expired_comes_back_on_the_page(
    panel, login_as, app
) -> None:
    from ..conftest import PASSWORD

    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    respond = f"{url(p)}/respond"
    client = login_as(p.experts[1])
    ticket = _ticket(client.get(url(p)).get_data(as_text=True), respond)
    expired = app.test_client()
    response = expired.post(
        respond, data={"approved": "no", "comment": "Funding is too generous.", "_stash": ticket}
    )
    # Back to the proposal's page (the respond address has no page of its own).
    assert response.headers["Location"].startswith("/login?next=" + url(p))
    expired.post("/login", data={"email": p.experts[1].email, "password": PASSWORD})
    page = expired.get(url(p)).get_data(as_text=True)
    assert "We restored your unsaved input." in page
    assert "Funding is too generous." in page


# --- minority views ------------------------------------------------------------------------

DISSENT = "I do not share the funding score: the co-funding is not yet committed in writing."


def minority(p) -> list[tuple[int, str, int | None]]:
    db.session.expire_all()
    return [
        (v.expert_id, v.text, v.recorded_by_id)
        for v in db.session.scalars(
            select(ConsensusMinorityView).order_by(ConsensusMinorityView.id)
        )
    ]


def test_an_expert_records_changes_and_withdraws_a_minority_view(panel, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    version = report_of(p).version
    client = login_as(p.experts[1])
    page = client.get(url(p)).get_data(as_text=True)
    assert "No minority view is recorded." in page and 'id="minority-form"' in page
    me = str(p.experts[1].id)
    response = client.post(f"{url(p)}/minority-view", data={"expert": me, "text": DISSENT})
    assert response.status_code == 302
    assert minority(p) == [(p.experts[1].id, DISSENT, p.experts[1].id)]
    page = client.get(url(p)).get_data(as_text=True)
    views = re.search(r'<ul[^>]*id="minority-views".*?</ul>', page, re.S).group(0)
    assert "Expert B" in views and "I do not share the funding score" in views
    assert textarea(page, "text").strip().startswith("I do not share")  # theirs, to edit
    # A minority view does not change the draft: approvals stay current.
    assert report_of(p).version == version
    client.post(f"{url(p)}/minority-view", data={"expert": me, "text": "  "})
    assert minority(p) == []
    actions = db.session.scalars(
        select(AuditEvent.data)
        .where(AuditEvent.action == "consensus.minority_view")
        .order_by(AuditEvent.id)
    ).all()
    assert [(a["expert_id"], a["withdrawn"]) for a in actions] == [
        (p.experts[1].id, False),
        (p.experts[1].id, True),
    ]


def test_the_rapporteur_records_a_view_on_behalf_of_an_expert(panel, login_as) -> None:
    p = panel()
    client = login_as(p.rapporteur)
    client.post(url(p), data=draft_data())
    target = str(p.experts[2].id)
    client.post(f"{url(p)}/minority-view", data={"expert": target, "text": DISSENT})
    assert minority(p) == [(p.experts[2].id, DISSENT, p.rapporteur.id)]
    page = login_as(p.experts[1]).get(url(p)).get_data(as_text=True)
    assert "recorded on their behalf by Expert A" in page


def test_an_expert_speaks_only_for_themselves(panel, make_user, login_as) -> None:
    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    response = login_as(p.experts[1]).post(
        f"{url(p)}/minority-view", data={"expert": str(p.experts[2].id), "text": DISSENT}
    )
    assert response.status_code == 400
    observer = login_as(make_user(Role.OBSERVER))
    assert observer.get(url(p)).get_data(as_text=True).count('id="minority-form"') == 0
    response = observer.post(
        f"{url(p)}/minority-view", data={"expert": str(p.experts[1].id), "text": DISSENT}
    )
    assert response.status_code == 403
    assert minority(p) == []


def test_a_minority_view_needs_an_open_draft(panel, login_as) -> None:
    p = panel()
    me = {"expert": str(p.experts[1].id), "text": DISSENT}
    response = login_as(p.experts[1]).post(
        f"{url(p)}/minority-view", data=me, follow_redirects=True
    )
    assert "There is no consensus draft yet." in response.get_data(as_text=True)
    login_as(p.rapporteur).post(url(p), data=draft_data())
    login_as(p.coordinator).post(f"{url(p)}/finalise", data={"version": str(report_of(p).version)})
    response = login_as(p.experts[1]).post(
        f"{url(p)}/minority-view", data=me, follow_redirects=True
    )
    assert "a coordinator must reopen it first" in response.get_data(as_text=True)
    assert minority(p) == []


def test_a_minority_view_sent_after_the_session_expired_comes_back(panel, login_as, app) -> None:
    from ..conftest import PASSWORD

    p = panel()
    login_as(p.rapporteur).post(url(p), data=draft_data())
    action = f"{url(p)}/minority-view"
    ticket = _ticket(login_as(p.experts[1]).get(url(p)).get_data(as_text=True), action)
    expired = app.test_client()
    data = {"expert": str(p.experts[1].id), "text": DISSENT, "_stash": ticket}
    response = expired.post(action, data=data)
    assert response.headers["Location"].startswith("/login?next=" + url(p))
    assert minority(p) == []
    expired.post("/login", data={"email": p.experts[1].email, "password": PASSWORD})
    page = expired.get(url(p)).get_data(as_text=True)
    assert "We restored your unsaved input." in page
    assert textarea(page, "text").strip() == DISSENT


def test_the_overall_comment_is_saved_kept_in_the_version_and_audited(panel, login_as) -> None:
    p = panel()
    data = draft_data()
    data["overall_comment"] = "A strong, credible AI Factory with a thin training plan."

    login_as(p.rapporteur).post(url(p), data=data)

    report = report_of(p)
    assert report is not None
    assert report.overall_comment == "A strong, credible AI Factory with a thin training plan."
    [version] = db.session.scalars(select(ConsensusVersion)).all()
    assert version.overall_comment == report.overall_comment
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "consensus.save")
    ).one()
    assert event.data["overall_comment"] == report.overall_comment
    page = login_as(p.coordinator).get(url(p)).get_data(as_text=True)
    assert "A strong, credible AI Factory with a thin training plan." in page
    history = (
        login_as(p.coordinator)
        .get(f"/calls/{p.call.key}/proposals/{p.proposal.id}/history")
        .get_data(as_text=True)
    )
    assert "Overall comment:" in history and "thin training plan" in history


def test_finalising_refuses_an_overall_comment_that_names_an_expert(panel, login_as) -> None:
    p = panel()
    data = draft_data()
    data["overall_comment"] = f"{p.experts[1].name} found the plan convincing."
    login_as(p.rapporteur).post(url(p), data=data)

    response = login_as(p.coordinator).post(
        f"{url(p)}/finalise", data={"version": str(report_of(p).version)}, follow_redirects=True
    )

    assert "must not name an expert: Overall comment" in response.get_data(as_text=True)
    assert report_of(p).status is ConsensusStatus.DRAFT
