"""Downloads from the web: who may have which report."""

from __future__ import annotations

import io
import zipfile

import pytest

from reviewer_app.models import Role

from .conftest import Scene


@pytest.mark.parametrize(
    ("role", "status"), [("coordinator", 200), ("observer", 200), ("expert", 403)]
)
def test_decision_report_download(
    scene: Scene, make_user, login_as, role: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_user(Role(role)))
    response = client.get("/calls/aif-test/report.pdf?lang=de")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert "aif-test-decision-report-de.pdf" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"


def test_feedback_downloads_are_for_coordinators(scene: Scene, make_user, login_as) -> None:  # type: ignore[no-untyped-def]
    coordinator = login_as(make_user(Role.COORDINATOR))
    response = coordinator.get("/calls/aif-test/proposals/P-002/feedback.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert coordinator.get("/calls/aif-test/proposals/P-999/feedback.pdf").status_code == 404
    assert coordinator.get("/calls/aif-test/report.pdf?lang=fr").status_code == 404
    assert coordinator.get("/calls/nope/report.pdf").status_code == 404
    response = coordinator.get("/calls/aif-test/feedback.zip")
    assert response.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 5


def test_observers_get_no_feedback_reports(scene: Scene, make_user, login_as) -> None:  # type: ignore[no-untyped-def]
    observer = login_as(make_user(Role.OBSERVER))
    assert observer.get("/calls/aif-test/proposals/P-002/feedback.pdf").status_code == 403
    assert observer.get("/calls/aif-test/feedback.zip").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(scene: Scene, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/calls/aif-test/report.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
