"""Proposals and documents: list, search, sort, pages, add, edit, import, PDF uploads."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reviewer_app.extensions import db
from reviewer_app.models import AuditEvent, Document, Phase, Proposal

from ..factories import pdf_bytes, plant_phase


@pytest.fixture
def coordinator(make_user, login_as):
    user = make_user("coordinator")
    login_as(user)
    return user


def _count(call) -> int:
    return db.session.scalar(select(func.count(Proposal.id)).where(Proposal.call_id == call.id))


def test_empty_state_offers_import(client, coordinator, make_call) -> None:
    call = make_call()
    page = client.get(f"/calls/{call.key}/proposals").get_data(as_text=True)
    assert "No proposals yet: import a CSV" in page
    assert f"/calls/{call.key}/proposals/import" in page


def test_search_sort_and_pages(client, coordinator, make_call, make_proposal) -> None:
    call = make_call()
    make_proposal(call, reference="AIF-02", acronym="JUPITER", applicant="Jülich", country="DE")
    make_proposal(call, reference="AIF-01", acronym="MARE", applicant="BSC", country="ES")
    for n in range(30):
        make_proposal(call, reference=f"Z-{n:02d}", acronym=f"Z{n}", title=f"Filler {n}")
    page = client.get(f"/calls/{call.key}/proposals?q=jupiter").get_data(as_text=True)
    assert "AIF-02" in page and "AIF-01" not in page
    page = client.get(f"/calls/{call.key}/proposals?q=es").get_data(as_text=True)
    assert "AIF-01" in page  # country
    page = client.get(f"/calls/{call.key}/proposals?sort=-reference").get_data(as_text=True)
    assert page.index("Z-29") < page.index("Z-28")
    assert "AIF-01" not in page  # on page 2 when sorted descending
    first = client.get(f"/calls/{call.key}/proposals").get_data(as_text=True)
    assert "AIF-01" in first and "Z-29" not in first
    second = client.get(f"/calls/{call.key}/proposals?page=2").get_data(as_text=True)
    assert "Z-29" in second and "AIF-01" not in second
    # Nonsense parameters do not break the page.
    assert client.get(f"/calls/{call.key}/proposals?sort=x;drop&page=99").status_code == 200
    assert "No proposal matches" in client.get(f"/calls/{call.key}/proposals?q=nothing").get_data(
        as_text=True
    )


def test_add_and_edit_a_proposal(client, coordinator, make_call) -> None:
    call = make_call()
    response = client.post(
        f"/calls/{call.key}/proposals/new",
        data={
            "reference": "AIF-07",
            "acronym": "HELIX",
            "title": "An AI Factory",
            "applicant": "CINECA",
            "country": " it ",
            "requested_funding_eur": "2500000.00",
            "summary": "Summary.",
        },
    )
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal).where(Proposal.reference == "AIF-07"))
    assert proposal.country == "IT"
    assert proposal.requested_funding_eur == Decimal("2500000.00")
    response = client.post(
        f"/calls/{call.key}/proposals/{proposal.id}/edit",
        data={
            "reference": "AIF-07",
            "title": "An AI Factory (revised)",
            "country": "",
            "requested_funding_eur": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert proposal.title == "An AI Factory (revised)"
    assert proposal.country is None
    assert proposal.requested_funding_eur is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.update"))
    assert event.data["changes"]["title"] == ["An AI Factory", "An AI Factory (revised)"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reference": "", "title": "T"}, "This field is required."),
        ({"reference": "R", "title": "T", "country": "Germany"}, "two-letter country code"),
        ({"reference": "R", "title": "T", "requested_funding_eur": "-1"}, "0 or more"),
        ({"reference": "R", "title": "T", "requested_funding_eur": "1.005"}, "two decimals"),
        ({"reference": "R", "title": "T", "requested_funding_eur": "lots"}, "Not a valid decimal"),
        ({"reference": "R", "title": "T", "requested_funding_eur": "NaN"}, "amount in euros"),
        ({"reference": "R", "title": "T", "requested_funding_eur": "1e15"}, "less than a trillion"),
        ({"reference": "TAKEN", "title": "T"}, "Another proposal of this call has this reference."),
    ],
)
def test_add_refuses_bad_input(client, coordinator, make_call, make_proposal, data, message):
    call = make_call()
    make_proposal(call, reference="TAKEN")
    response = client.post(f"/calls/{call.key}/proposals/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(call) == 1


def test_no_new_proposals_after_setup(client, coordinator, make_call) -> None:
    call = make_call(phase=Phase.EVALUATION)
    response = client.post(
        f"/calls/{call.key}/proposals/new", data={"reference": "R", "title": "T"}
    )
    assert response.status_code == 400
    assert "only while the call is in set-up" in response.get_data(as_text=True)
    assert _count(call) == 0


def test_proposal_of_another_call_is_404(client, coordinator, make_call, make_proposal) -> None:
    call, other = make_call(), make_call()
    proposal = make_proposal(other)
    assert client.get(f"/calls/{call.key}/proposals/{proposal.id}").status_code == 404
    assert client.get(f"/calls/{call.key}/proposals/{proposal.id}/edit").status_code == 404


def _upload(client, call, proposal, content: bytes, name: str = "proposal.pdf"):
    return client.post(
        f"/calls/{call.key}/proposals/{proposal.id}/documents",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_attach_download_and_remove_a_pdf(client, coordinator, make_call, make_proposal) -> None:
    call = make_call()
    proposal = make_proposal(call)
    content = pdf_bytes(2)
    page = _upload(client, call, proposal, content, "Part B.PDF").get_data(as_text=True)
    assert "Part B.PDF is attached." in page
    document = db.session.scalar(select(Document))
    assert document.size_bytes == len(content)
    response = client.get(f"/calls/{call.key}/documents/{document.id}")
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    other = make_call()
    assert client.get(f"/calls/{other.key}/documents/{document.id}").status_code == 404
    response = client.post(f"/calls/{call.key}/documents/{document.id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_import_errors_are_in_the_coordinators_language(
    client, coordinator, make_call, make_proposal
) -> None:
    call = make_call()
    make_proposal(call, reference="AIF-09")
    client.post("/language", data={"language": "de", "next": "/"})
    bad = CSV_GOOD + "AIF-09,Duplicate of an existing one,,,,,,\nAIF-03,,,,Germany,-5,,\n"
    page = _import(client, call, bad.encode(), "proposals.csv").get_data(as_text=True)
    assert (
        "Zeile 4, Spalte „reference“: „AIF-09“ ist bereits ein Antrag dieser Ausschreibung" in page
    )
    assert "Zeile 5, Spalte „title“: darf nicht leer sein" in page
    assert "darf nicht negativ sein, erhalten: -5" in page
    assert "row 4" not in page
    assert _count(call) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.pdf", "The file is empty."),
        (b"PK\x03\x04 a zip file", "renamed.pdf", "The file is not a PDF"),
        (b"%PDF-1.7\n garbage that is no pdf", "broken.pdf", "damaged or encrypted"),
        (b"%PDF-" + b"x" * 3000, "big.pdf", "larger than the limit"),
    ],
)
def test_bad_documents_are_refused(
    app, client, coordinator, make_call, make_proposal, content, name, message
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    app.config["DOCUMENT_MAX_BYTES"] = 2048
    try:
        page = _upload(client, call, proposal, content, name).get_data(as_text=True)
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = 20 * 1024 * 1024
    assert message in page
    assert f"{name} was not attached" in page
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_a_valid_pdf_with_another_extension_is_accepted_by_content(
    client, coordinator, make_call, make_proposal
) -> None:
    call = make_call()
    proposal = make_proposal(call)
    _upload(client, call, proposal, pdf_bytes(), "scan.bin")
    assert db.session.scalar(select(Document.filename)) == "scan.bin.pdf"


def test_documents_frozen_after_evaluation(client, coordinator, make_call, make_proposal) -> None:
    call = make_call()
    proposal = make_proposal(call)
    plant_phase(call, Phase.CONSENSUS)
    page = _upload(client, call, proposal, pdf_bytes()).get_data(as_text=True)
    assert "only during set-up and evaluation" in page
    assert db.session.scalar(select(func.count(Document.id))) == 0


CSV_GOOD = (
    "\ufeffreference,title,acronym,applicant,country,requested_funding_eur,summary,topic\n"
    "AIF-01,Jupiter AI Factory,JAIF,Forschungszentrum Jülich,DE,40000000,Summary,LLM\n"
    "AIF-02,MareNostrum AI,MN-AI,BSC,ES,,Summary,\n"
)


def _import(client, call, content: bytes, name: str):
    return client.post(
        f"/calls/{call.key}/proposals/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_import_a_csv(client, coordinator, make_call) -> None:
    call = make_call()
    response = _import(client, call, CSV_GOOD.encode(), "proposals.csv")
    assert response.status_code == 302
    proposals = db.session.scalars(select(Proposal).order_by(Proposal.reference)).all()
    assert [p.reference for p in proposals] == ["AIF-01", "AIF-02"]
    assert proposals[0].requested_funding_eur == Decimal("40000000")
    assert proposals[0].extra == {"topic": "LLM"}


def test_import_json(client, coordinator, make_call) -> None:
    call = make_call()
    rows = [{"reference": "J-1", "title": "From JSON", "requested_funding_eur": 1000}]
    assert _import(client, call, json.dumps(rows).encode(), "p.json").status_code == 302
    assert _count(call) == 1


def test_import_with_a_bad_row_imports_nothing_and_names_the_rows(
    client, coordinator, make_call, make_proposal
) -> None:
    call = make_call()
    make_proposal(call, reference="AIF-09")
    bad = CSV_GOOD + "AIF-09,Duplicate of an existing one,,,,,,\nAIF-03,,,,Germany,-5,,\n"
    response = _import(client, call, bad.encode(), "proposals.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in page
    assert "row 4" in page and "AIF-09" in page
    assert "row 5" in page and "title" in page
    assert _count(call) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\xff\xfe bad", "p.csv", "not UTF-8"),
        (b"title\nOnly a title\n", "p.csv", "reference"),
        (b"", "p.csv", ""),
        (b'{"not": "a list"}', "p.json", ""),
    ],
)
def test_import_refuses_unreadable_files(client, coordinator, make_call, content, name, message):
    call = make_call()
    response = _import(client, call, content, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(call) == 0


def test_import_without_a_file_and_after_setup(client, coordinator, make_call) -> None:
    call = make_call()
    response = client.post(f"/calls/{call.key}/proposals/import", data={})
    assert response.status_code == 400
    assert "Choose a CSV or JSON file" in response.get_data(as_text=True)
    # Set by hand: the call is deliberately empty (no proposals), which no phase move allows.
    call.phase = Phase.EVALUATION
    db.session.commit()
    response = _import(client, call, CSV_GOOD.encode(), "proposals.csv")
    assert response.status_code == 400
    assert _count(call) == 0


def test_the_sample_csv_imports_as_it_is(client, coordinator, make_call) -> None:
    call = make_call()
    sample = client.get(f"/calls/{call.key}/proposals/import/sample.csv")
    assert sample.mimetype == "text/csv"
    assert _import(client, call, sample.data, "proposals-sample.csv").status_code == 302
    proposal = db.session.scalar(select(Proposal).where(Proposal.call_id == call.id))
    assert (proposal.reference, proposal.applicant) == ("AIF-01", "Forschungszentrum Jülich")
