"""The expert's individual evaluation report (IER) as PDF (issue 13)."""

from __future__ import annotations

from sqlalchemy import select

from reviewer_app.audit.events import IndividualReportDownloaded
from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent
from reviewer_app.reports.verify import page_texts

from .conftest import GOOD_COMMENT, Setup, scores


def test_the_ier_shows_the_experts_own_scores_thresholds_and_total(
    declared: Setup, login_as
) -> None:
    client = login_as(declared.expert)
    assert client.post(declared.url, data=scores(submit="1")).status_code == 302
    assert "evaluation.pdf" in client.get(declared.url).get_data(as_text=True)

    response = client.get(f"{declared.url}/evaluation.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    assert "AIF-ES-individual-evaluation-en.pdf" in response.headers["Content-Disposition"]
    text = " ".join(" ".join(page_texts(response.data)).split())
    assert "Individual evaluation report" in text and "Erika Expert" in text
    assert "AIF-ES" in text and "BSC AI Factory" in text
    # 4.5 + 3 + 2.5 (the demo scheme's three criteria), each against its threshold of 3, the
    # total against the overall threshold of 10 (the key figures print in capitals).
    assert "Compute 4.5 3 yes" in text and "Funding and implementation 2.5 3 no" in text
    assert "TOTAL 10.00 / 15" in text
    assert "OVERALL THRESHOLD 10 THRESHOLD MET yes" in text
    assert GOOD_COMMENT in text
    assert "DRAFT" not in text
    # The download is on the record, through the typed event.
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == IndividualReportDownloaded.action)
    ).all()
    downloaded = event.typed()
    assert isinstance(downloaded, IndividualReportDownloaded)
    assert (downloaded.proposal, downloaded.language) == ("AIF-ES", "en")
    assert downloaded.version > 0
    assert event.actor_id == declared.expert.id


def test_a_draft_ier_says_draft_and_german_speaks_german(declared: Setup, login_as) -> None:
    declared.expert.language = "de"
    db.session.commit()
    client = login_as(declared.expert)
    client.post(declared.url, data=scores(save="1", score_funding=""))

    response = client.get(f"{declared.url}/evaluation.pdf")

    text = " ".join(" ".join(page_texts(response.data)).split())
    assert "Individueller Bewertungsbericht" in text
    assert "ENTWURF" in text
    assert "SUMME – / 15" in text  # a criterion without a score: no total yet


def test_no_ier_before_a_review_exists(declared: Setup, login_as) -> None:
    client = login_as(declared.expert)

    response = client.get(f"{declared.url}/evaluation.pdf")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(declared.url)
    assert "evaluation.pdf" not in client.get(declared.url).get_data(as_text=True)


def test_another_expert_gets_no_ier(declared: Setup, login_as, make_user) -> None:
    client = login_as(declared.expert)
    client.post(declared.url, data=scores(submit="1"))

    other = login_as(make_user("expert"))

    assert other.get(f"{declared.url}/evaluation.pdf").status_code == 404
