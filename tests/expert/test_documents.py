"""Documents of an assigned proposal: listed on its page, downloaded as attachments."""

from __future__ import annotations

import pytest

from reviewer_app.models import Document

from ..factories import attach_pdf, pdf_bytes
from .conftest import Setup

PDF = pdf_bytes()


@pytest.fixture
def document(setup: Setup) -> Document:
    return attach_pdf(setup.proposal, "Part B – technical annex.pdf", PDF)


def test_documents_are_listed_with_their_size(declared: Setup, document: Document, client) -> None:
    html = client.get(declared.url).get_data(as_text=True)
    assert "Part B – technical annex.pdf" in html
    assert f"{declared.url}/documents/{document.id}" in html
    assert f"{len(PDF)} bytes" in html


def test_download_sends_the_file_as_an_attachment(
    declared: Setup, document: Document, client
) -> None:
    response = client.get(f"{declared.url}/documents/{document.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "technical" in disposition  # the (non-ASCII) name survives, RFC 5987 encoded
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_download_needs_the_declaration_first(setup: Setup, document: Document, login_as) -> None:
    client = login_as(setup.expert)
    response = client.get(f"{setup.url}/documents/{document.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{setup.url}/declaration")
