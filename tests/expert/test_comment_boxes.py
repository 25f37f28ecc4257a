"""A criterion with strengths and weaknesses boxes (Horizon Europe's form), on the expert's
page: each box kept apart in drafts, each minimum checked on submit, one comment for the rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from reviewer_app import limits
from reviewer_app.expert.forms import box_limit
from reviewer_app.extensions import db
from reviewer_app.models import Phase, ReviewStatus, Score

from ..factories import plant_phase

HORIZON = Path(__file__).resolve().parents[2] / "criteria" / "horizon-europe-ria.toml"
STRONG = "A clear methodology with open science built in from the first work package."
WEAK = "The gender dimension is mentioned but not analysed in the research design."
KEYS = ("excellence", "impact", "implementation")


@pytest.fixture
def page(make_user, make_call, make_proposal, make_assignment, login_as):
    expert = make_user("expert")
    call = make_call(HORIZON, deadline=date(2030, 1, 31))
    proposal = make_proposal(call, reference="HE-1")
    assignment = make_assignment(proposal, expert)
    plant_phase(call, Phase.EVALUATION)
    client = login_as(expert)
    url = f"/expert/assignments/{assignment.id}"
    client.post(f"{url}/declaration", data={"has_conflict": "no", "confidentiality": "y"})
    return client, url, assignment


def form(weak: str = WEAK, action: str = "save") -> dict[str, str]:
    data = {"version": "0", action: "1"}
    for key in KEYS:
        data[f"score_{key}"] = "4"
        data[f"part_{key}__strengths"] = STRONG
        data[f"part_{key}__weaknesses"] = weak
    return data


def stored(assignment) -> dict[str, Score]:
    db.session.expire_all()
    return {
        s.criterion.key: s
        for s in db.session.scalars(select(Score).where(Score.review_id == assignment.review.id))
    }


def test_each_box_is_on_the_form_with_its_own_minimum(page) -> None:
    client, url, _assignment = page
    html = client.get(url).get_data(as_text=True)
    for key in KEYS:
        assert f'name="part_{key}__strengths"' in html and f'name="part_{key}__weaknesses"' in html
        assert f'name="comment_{key}"' not in html
    assert html.count('data-min-chars="50"') == 6
    assert ">Strengths</label>" in html and ">Weaknesses</label>" in html


def test_a_draft_keeps_the_boxes_apart_and_the_comment_composed(page) -> None:
    client, url, assignment = page
    assert client.post(url, data=form(weak="")).status_code == 302
    score = stored(assignment)["impact"]
    assert score.parts == {"strengths": STRONG, "weaknesses": ""}
    assert score.comment == f"Strengths:\n{STRONG}"
    html = client.get(url).get_data(as_text=True)
    assert STRONG in html  # back in its box


def test_submit_needs_every_box_long_enough_and_keeps_the_input(page) -> None:
    client, url, assignment = page
    answer = client.post(url, data=form(weak="Too thin.", action="submit"))
    assert answer.status_code == 422  # the page's answer to a form it cannot accept
    html = answer.get_data(as_text=True)
    assert html.count("Write at least 50 characters (now 9).") == 3
    assert STRONG in html and "Too thin." in html
    db.session.expire_all()
    assert assignment.review is None or assignment.review.status is ReviewStatus.DRAFT
    assert client.post(url, data=form(action="submit")).status_code == 302
    db.session.expire_all()
    assert assignment.review.status is ReviewStatus.SUBMITTED
    assert stored(assignment)["excellence"].comment == (
        f"Strengths:\n{STRONG}\n\nWeaknesses:\n{WEAK}"
    )


def test_the_german_form_names_the_boxes_in_german_and_stores_the_file_s_words(page) -> None:
    client, url, assignment = page
    client.post("/language", data={"language": "de"})
    html = client.get(url).get_data(as_text=True)
    assert ">Stärken</label>" in html and ">Schwächen</label>" in html
    client.post(url, data=form())
    assert stored(assignment)["excellence"].comment.startswith("Strengths:\n")


def test_the_boxes_together_fit_one_comment(page) -> None:
    client, url, assignment = page
    longest = "x" * box_limit(2)
    data = form()
    data["part_impact__strengths"] = longest
    data["part_impact__weaknesses"] = longest
    assert client.post(url, data=data).status_code == 302
    assert len(stored(assignment)["impact"].comment) <= limits.COMMENT
    data["part_impact__weaknesses"] = longest + "x"
    refused = client.post(url, data=data)
    assert refused.status_code == 422
