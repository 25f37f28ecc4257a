"""The decision report: what a reader sees, what it carries, and that it is reproducible."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

from pypdf import PdfReader

from reviewer_app.extensions import db
from reviewer_app.reports.services import decision_report_pdf

from .conftest import (
    EXPECTED_ORDER,
    Rendered,
    Scene,
    add_consensus,
    consensus_comment,
    pdf_text,
    pdftotext,
)


def ranking_page(pages: list[str]) -> str:
    """The ranking's page, its lines joined (a status may wrap in its narrow column)."""
    return " ".join(next(p for p in pages if "Cumulative" in p and "P-001" in p).split())


def attachments(pdf: bytes) -> dict[str, bytes]:
    return {name: data[0] for name, data in PdfReader(io.BytesIO(pdf)).attachments.items()}


def test_ranking_order_scores_and_statuses(rendered: Rendered) -> None:
    table = ranking_page(pdf_text(rendered.draft_en))

    positions = [table.index(reference) for reference in EXPECTED_ORDER]
    assert positions == sorted(positions)
    # Criterion scores, totals and weighted totals, half-up to two decimals like the CSV.
    for value in ("4.83", "14.17", "4.17", "12.33", "3.67", "10.67", "2.17"):
        assert value in table
    for status in ("Main list", "Reserve list", "Below threshold", "Incomplete"):
        assert status in table
    # The funding line sits between the main list and the reserve list.
    line = table.index("Funding line")
    assert table.index("P-002") < line < table.index("P-003")
    assert "2,000,000" in table  # main list total


def test_every_page_says_draft_before_the_decision(rendered: Rendered) -> None:
    pages = pdf_text(rendered.draft_en)
    assert len(pages) > 5
    assert all("DRAFT" in page for page in pages)


def test_decided_report_has_no_draft_and_shows_decisions(rendered: Rendered) -> None:
    pages = pdf_text(rendered.decided_en)
    assert not any("DRAFT" in page for page in pages)
    text = "\n".join(pages)
    assert "Funded" in text and "Rejected" in text
    assert "Rationale for P-003: as ranked." in text
    # The report's date is the decision's, not today's; day month year, never American.
    assert "4 March 2025" in text and "March 4" not in text


def test_pages_carry_header_footer_and_confidential_marking(rendered: Rendered) -> None:
    pages = pdf_text(rendered.draft_en)
    total = len(pages)
    for number, page in enumerate(pages[1:], start=2):  # the cover has no running furniture
        assert "AI Factories – Prüfaufruf" in page
        assert "CONFIDENTIAL" in page
        assert f"Page {number} of {total}" in page
        assert rendered.fingerprint[:12] in page


def test_embedded_files_and_fingerprint(rendered: Rendered) -> None:
    files = attachments(rendered.draft_en)
    assert set(files) == {"evaluation.json", "ranking.csv", "analytics.json"}
    assert files["ranking.csv"].decode("utf-8") == rendered.csv
    # The robustness figures, experts by pseudonym as in evaluation.json (issue 14).
    analytics = json.loads(files["analytics.json"])
    assert {e["expert"] for e in analytics["experts"]} <= {"E01", "E02", "E03"}
    assert b"@example.org" not in files["analytics.json"]
    assert {p["reference"] for p in analytics["proposals"]} == {
        p["reference"] for p in json.loads(files["evaluation.json"])["proposals"]
    }

    evaluation = files["evaluation.json"]
    assert hashlib.sha256(evaluation).hexdigest() == rendered.fingerprint
    document = json.loads(evaluation)
    # Canonical: sorted keys, no whitespace between tokens, UTF-8 not escaped.
    assert evaluation == json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert "Prüfaufruf".encode() in evaluation
    assert len(document["reviews"]) == 13
    assert {r["expert"] for r in document["reviews"]} == {"E01", "E02", "E03"}
    assert b"Secret Name" not in evaluation and b"@example.org" not in evaluation

    text = re.sub(r"\s+", "", "".join(pdf_text(rendered.draft_en)))
    assert f"SHA-256{rendered.fingerprint}" in text


def test_decision_changes_the_fingerprint(rendered: Rendered) -> None:
    decided = attachments(rendered.decided_en)["evaluation.json"]
    assert hashlib.sha256(decided).hexdigest() != rendered.fingerprint
    assert [d["outcome"] for d in json.loads(decided)["decisions"]] == [
        "funded",
        "funded",
        "reserve",
        "rejected",
        "ineligible",
    ]


def test_pdf_metadata(rendered: Rendered) -> None:
    reader = PdfReader(io.BytesIO(rendered.draft_de))
    assert reader.metadata.title.startswith("Entscheidungsbericht: AI Factories")
    assert "aif-test" in reader.metadata.author
    assert reader.trailer["/Root"]["/Lang"] == "de"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp


def test_two_renders_give_the_same_bytes(scene: Scene) -> None:
    first = decision_report_pdf(scene.call, "en").content
    second = decision_report_pdf(scene.call, "en").content
    assert first == second


def test_german_report(rendered: Rendered, tmp_path: Path) -> None:
    pages = pdf_text(rendered.draft_de)
    assert all("ENTWURF" in page for page in pages)
    text = "\n".join(pages)
    for phrase in ("Rangfolge", "Hauptliste", "Reserveliste", "Unter der Schwelle", "Förderlinie"):
        assert phrase in text
    assert "14,17" in text and "2.000.000" in text  # German number formatting
    assert "Seite 2 von" in text
    assert "20. Februar 2025" in text  # the draft's date (the ranking's), as German writes it
    # The criteria file's German texts (docs/criteria.md, "Translations"), not its English ones.
    flat = " ".join(text.split())
    for german in ("Rechenleistung", "Expertise und Dienste", "Finanzierung und Umsetzung"):
        assert german in flat
    assert "Expertise and services" not in flat and "Funding and implementation" not in flat
    # Umlauts survive text extraction by another tool too.
    assert "Anträge" in pdftotext(rendered.draft_de, tmp_path)


def test_experts_are_anonymous_unless_the_call_names_them(rendered: Rendered, scene: Scene) -> None:
    text = "\n".join(pdf_text(rendered.draft_en))
    assert "Expert A" in text and "Expert C" in text
    assert "Secret Name" not in text

    scene.call.anonymise_experts = False
    db.session.commit()
    text = "\n".join(pdf_text(decision_report_pdf(scene.call, "en").content))
    assert "Secret Name 2" in text


def test_a_call_without_proposals_or_budget_still_reports(make_call, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from reviewer_app.reports.verify import verify_report

    call = make_call(key="empty", title="Nothing yet")
    report = decision_report_pdf(call, "en")
    text = "\n".join(pdf_text(report.content))
    assert "no budget set" in text and "Funding line ·" not in text
    assert verify_report(report.content, against=call).ok


def test_the_proposal_section_shows_the_crossing_its_justification_and_minority_views(
    consensus_scene: Scene,
) -> None:
    scene = consensus_scene
    from reviewer_app.reports.decision import decision_report
    from reviewer_app.reports.records import load_records

    # P-004's compute mean is 2.17, below its threshold of 3; the consensus gives 3.
    add_consensus(
        scene,
        "P-004",
        {"compute": "3", "expertise": "4", "funding": "4"},
        "Agreed",
        justification="The site visit showed the machine room is already built.",
        minority={scene.experts[2]: "Compute stays below what the call asks for."},
        overall_comment="A sound plan, short on compute.",
    )
    scene.rank()
    section = next(
        p
        for p in decision_report(load_records(scene.call), "en").proposals
        if p.reference == "P-004"
    )
    assert section.crossing == (
        "Against the aggregate of the individual scores (total 10.17), the consensus crosses "
        "the threshold of Compute (3). It turns a fail into a pass."
    )
    assert section.justification == "The site visit showed the machine room is already built."
    assert section.overall_comment == "A sound plan, short on compute."
    assert [(v.author, v.text) for v in section.minority_views] == [
        ("Expert C", "Compute stays below what the call asks for.")
    ]

    report = decision_report_pdf(scene.call, "en").content
    text = " ".join("\n".join(pdf_text(report)).split())
    assert "It turns a fail into a pass." in text
    assert "The site visit showed the machine room is already built." in text
    assert "Minority views" in text and "Compute stays below what the call asks for." in text
    assert "Overall comment Consensus A sound plan, short on compute." in text
    consensus = json.loads(attachments(report)["evaluation.json"])["consensus"]
    assert consensus == [
        {
            "proposal": "P-004",
            "scores": {"compute": "3.00", "expertise": "4.00", "funding": "4.00"},
            "comments": {
                "compute": consensus_comment("Agreed", "compute"),
                "expertise": consensus_comment("Agreed", "expertise"),
                "funding": consensus_comment("Agreed", "funding"),
            },
            "overall_comment": "A sound plan, short on compute.",
            "justification": "The site visit showed the machine room is already built.",
            "minority_views": [
                {"expert": "E03", "text": "Compute stays below what the call asks for."}
            ],
        }
    ]


def test_a_consensus_that_crosses_nothing_has_no_crossing_note(consensus_scene: Scene) -> None:
    scene = consensus_scene
    from reviewer_app.reports.decision import decision_report
    from reviewer_app.reports.records import load_records

    add_consensus(scene, "P-002", {"compute": "4.5", "expertise": "4", "funding": "4"}, "A")
    scene.rank()
    section = next(
        p
        for p in decision_report(load_records(scene.call), "en").proposals
        if p.reference == "P-002"
    )
    assert section.crossing == "" and section.justification == "" and section.minority_views == ()
