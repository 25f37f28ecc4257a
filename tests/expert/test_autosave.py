"""The background save of drafts: JSON in and out, CSRF-protected, never stale-overwriting."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Phase, Review, ReviewStatus
from tests.factories import advance_call

from .conftest import GOOD_COMMENT, Setup, audit_actions, csrf_token, scores


def _review(setup: Setup) -> Review | None:
    db.session.expire_all()
    return db.session.scalar(select(Review).where(Review.assignment_id == setup.assignment.id))


def test_autosave_answers_json_with_the_new_version(declared: Setup, client) -> None:
    response = client.post(f"{declared.url}/autosave", data=scores(score_funding=None))
    assert response.status_code == 200
    body = response.get_json()
    review = _review(declared)
    assert body["ok"] is True
    assert body["version"] == review.version
    assert body["saved_at"].endswith("Z")
    assert review.status is ReviewStatus.DRAFT
    assert {s.criterion.key: s.value for s in review.scores}["funding"] is None
    assert audit_actions()[-1] == "review.save_draft"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.data["autosave"] is True  # auditors can tell typing from a deliberate save

    again = client.post(
        f"{declared.url}/autosave", data=scores(version=str(body["version"]), score_funding="1")
    )
    assert again.get_json()["version"] > body["version"]


def test_autosave_never_submits(declared: Setup, client) -> None:
    response = client.post(f"{declared.url}/autosave", data={**scores(), "submit": "1"})
    assert response.status_code == 200
    assert _review(declared).status is ReviewStatus.DRAFT


def test_autosave_from_a_stale_page_is_refused(declared: Setup, client) -> None:
    client.post(f"{declared.url}/autosave", data=scores())
    response = client.post(
        f"{declared.url}/autosave", data=scores(version="0", comment_compute="older tab")
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False and body["stale"] is True
    assert "another tab or window" in body["message"]
    assert {s.comment for s in _review(declared).scores} == {GOOD_COMMENT}


def test_autosave_of_a_value_off_the_scale_reports_the_field(declared: Setup, client) -> None:
    response = client.post(f"{declared.url}/autosave", data=scores(score_compute="9"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["score_compute"] == ["Choose a score on the scale."]
    assert _review(declared) is None


def test_autosave_is_refused_when_the_review_is_closed(declared: Setup, client) -> None:
    advance_call(declared.call, Phase.CONSENSUS)
    db.session.commit()
    response = client.post(f"{declared.url}/autosave", data=scores())
    assert response.status_code == 409
    assert "evaluation phase of this call is over" in response.get_json()["message"]
    assert _review(declared) is None


def test_autosave_before_the_declaration_is_refused(setup: Setup, login_as) -> None:
    client = login_as(setup.expert)
    response = client.post(f"{setup.url}/autosave", data=scores())
    assert response.status_code == 409
    assert _review(setup) is None


def test_autosave_needs_the_csrf_token(declared: Setup, client, csrf_enabled) -> None:
    refused = client.post(f"{declared.url}/autosave", data=scores())
    assert refused.status_code == 400
    assert _review(declared) is None

    token = csrf_token(client.get(declared.url).get_data(as_text=True))
    # The page's script sends the token as a header (and in the form body, which is the same).
    accepted = client.post(
        f"{declared.url}/autosave", data=scores(), headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["ok"] is True
    saved = {s.criterion.key: s.value for s in _review(declared).scores}
    assert saved == {
        "compute": Decimal("4.5"),
        "expertise": Decimal("3"),
        "funding": Decimal("2.5"),
    }


def test_the_page_wires_the_script_to_the_autosave_endpoint(declared: Setup, client) -> None:
    html = client.get(declared.url).get_data(as_text=True)
    assert f'data-autosave-url="{declared.url}/autosave"' in html
    assert "js/review-autosave.js" in html
    assert 'id="scale-descriptors"' in html


def test_an_autosave_answers_with_what_it_committed(declared: Setup, client) -> None:
    """Another tab saves right after this save commits: the answer is still this save's
    version, so the page does not take the other tab's save for its own."""
    from sqlalchemy import event, update
    from sqlalchemy.orm import Session

    first = client.post(f"{declared.url}/autosave", data=scores()).get_json()
    fired: list[bool] = []

    def other_tab_saves(_session: Session) -> None:
        if fired:
            return
        fired.append(True)
        with db.engine.begin() as connection:
            connection.execute(update(Review).values(version=Review.version + 1))

    event.listen(Session, "after_commit", other_tab_saves)
    try:
        second = client.post(f"{declared.url}/autosave", data=scores(version=str(first["version"])))
    finally:
        event.remove(Session, "after_commit", other_tab_saves)
    assert fired and second.status_code == 200
    body = second.get_json()
    assert body["version"] == first["version"] + 1  # its own save, not the other tab's
    assert _review(declared).version == first["version"] + 2
