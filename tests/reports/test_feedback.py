"""The applicant's evaluation summary: scores, thresholds, the final consensus text and the
outcome; never an individual review, its comments or scores, nor who wrote what."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from reviewer_app.models import Role
from reviewer_app.reports.records import ConsensusNamesExpert, ProposalNotFound
from reviewer_app.reports.services import feedback_report_pdf

from .conftest import Scene, add_consensus, pdf_text, plant_final_consensus

NO_CONSENSUS = "No final consensus report has been written for this proposal."


def feedback_text(scene: Scene, reference: str, lang: str = "en") -> str:
    return "\n".join(pdf_text(feedback_report_pdf(scene.call, reference, lang).content))


def test_feedback_shows_scores_thresholds_and_outcome_and_says_there_is_no_consensus(
    scene: Scene,
) -> None:
    scene.decide()
    text = feedback_text(scene, "P-004")
    assert "P-004" in text and "Proposal number 4" in text
    assert "2.17" in text  # compute, below its threshold
    assert "10.17" in text  # total and weighted total
    assert "The proposal did not pass all thresholds." in text
    assert "Rejected" in text and "Rationale for P-004: as ranked." in text
    assert "The proposal is not selected for funding." in " ".join(text.split())
    # Each outcome said in a sentence the applicant understands, not only its name.
    for reference, meaning in (
        ("P-001", "The proposal is selected for funding, at the amount requested."),
        ("P-003", "The proposal is on the reserve list: it may still be funded if a selected"),
        ("P-005", "The proposal does not meet the call's eligibility conditions."),
    ):
        assert meaning in " ".join(feedback_text(scene, reference).split()), reference
    german = " ".join(feedback_text(scene, "P-003", "de").split())
    assert "Der Antrag steht auf der Reserveliste" in german
    # No final consensus: the summary says so, and the individual comments are not sent on.
    assert NO_CONSENSUS in " ".join(text.split())
    assert "Assessment of P-004" not in text


def test_feedback_never_names_numbers_or_scores_experts(scene: Scene) -> None:
    text = "\n".join(pdf_text(feedback_report_pdf(scene.call, "P-004", "en").content))
    assert "Secret Name" not in text and "@example.org" not in text
    assert "Expert A" not in text and "Expert 1" not in text
    # The individual compute scores were 2, 2.5 and 2; only their mean (2.17) is shown.
    assert "2.50" not in text and "2.00" not in text
    assert "DRAFT" in text  # the call is not decided yet


def test_only_the_final_consensus_text_reaches_the_applicant(consensus_scene: Scene) -> None:
    scene = consensus_scene
    add_consensus(
        scene,
        "P-002",
        {"compute": "4.5", "expertise": "4", "funding": "4"},
        "Agreed by the panel",
        justification="SecretJustificationOfP002",
        minority={scene.experts[2]: "SecretMinorityViewOfP002"},
        overall_comment="OverallViewOfP002: a credible factory for European AI users.",
    )
    scene.rank()
    text = feedback_text(scene, "P-002")
    # The panel's overall comment opens the assessment, before the criteria.
    overall = text.index("OverallViewOfP002: a credible factory for European AI users.")
    assert text.index("Overall comment") < overall < text.index("Agreed by the panel (compute)")
    for key in ("compute", "expertise", "funding"):
        assert f"Agreed by the panel ({key})" in text
    assert "Assessment of P-002" not in text  # no individual comment
    # The justification and the minority view are for the decision makers only.
    assert "SecretJustificationOfP002" not in text and "SecretMinorityViewOfP002" not in text
    assert NO_CONSENSUS not in " ".join(text.split())


def test_feedback_never_carries_an_expert_label_or_a_draft_consensus(
    consensus_scene: Scene,
) -> None:
    scene = consensus_scene
    add_consensus(
        scene,
        "P-003",
        {"compute": "4", "expertise": "4", "funding": "4"},
        "SecretDraftConsensus",
        final=False,
    )
    add_consensus(
        scene, "P-001", {"compute": "5", "expertise": "5", "funding": "4.5"}, "Agreed on compute"
    )
    scene.rank()
    for reference, lang in (("P-003", "en"), ("P-001", "en"), ("P-001", "de")):
        text = feedback_text(scene, reference, lang)
        assert "SecretDraftConsensus" not in text
        for label in ("Expert A", "Expert B", "Expert C", "Gutachter A", "Secret Name"):
            assert label not in text, (reference, lang, label)
    assert NO_CONSENSUS in " ".join(feedback_text(scene, "P-003").split())


def test_unknown_proposal(scene: Scene) -> None:
    with pytest.raises(ProposalNotFound):
        feedback_report_pdf(scene.call, "P-999", "en")


def test_esr_command_writes_one_pdf_or_a_zip(
    runner: FlaskCliRunner, scene: Scene, tmp_path: Path
) -> None:
    one = tmp_path / "p1.pdf"
    result = runner.invoke(
        args=["esr", "aif-test", "--proposal", "P-001", "-o", str(one), "--lang", "de"]
    )
    assert result.exit_code == 0, result.output
    text = "\n".join(pdf_text(one.read_bytes()))
    assert "Zusammenfassung der Begutachtung" in text and "4,83" in text
    flat = " ".join(text.split())  # the criteria in the criteria file's German words
    assert "Rechenleistung 4,83" in flat and "Finanzierung und Umsetzung 4,50" in flat
    assert "Compute" not in flat and "Funding and implementation" not in flat

    archive = tmp_path / "all.zip"
    result = runner.invoke(args=["esr", "aif-test", "-o", str(archive)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        names = zf.namelist()
    assert names == [f"aif-test-P-00{i}-feedback-en.pdf" for i in range(1, 6)]

    result = runner.invoke(args=["esr", "aif-test", "--proposal", "P-999", "-o", str(one)])
    assert result.exit_code == 1 and "no proposal 'P-999'" in result.output


@pytest.mark.parametrize("mention", ["Expert B", "Gutachter A", "Secret Name 2"])
def test_a_final_consensus_that_names_an_expert_never_reaches_the_applicant(
    scene: Scene, runner: FlaskCliRunner, tmp_path: Path, make_user, login_as, mention: str
) -> None:  # type: ignore[no-untyped-def]
    # A consensus made final before the form refused such text, as such rows are stored.
    plant_final_consensus(scene.proposals["P-002"], {"compute": "4.5"}, f"As {mention} wrote")
    with pytest.raises(ConsensusNamesExpert) as raised:
        feedback_report_pdf(scene.call, "P-002", "en")
    assert raised.value.found == {"P-002": ["Compute"]}
    assert feedback_report_pdf(scene.call, "P-001", "en").content.startswith(b"%PDF")

    # The web: no file, the ranking page says which text to rewrite; the batch is all or nothing.
    client = login_as(make_user(Role.COORDINATOR))
    for path in ("/calls/aif-test/proposals/P-002/feedback.pdf", "/calls/aif-test/feedback.zip"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/calls/aif-test/ranking")
        page = client.get(response.location).get_data(as_text=True)
        assert "the final consensus text names an expert" in page and "P-002: Compute" in page

    # The command line: nothing written, exit 1 with the same reason.
    archive = tmp_path / "all.zip"
    result = runner.invoke(args=["esr", "aif-test", "-o", str(archive)])
    assert result.exit_code == 1 and "P-002: Compute" in result.output
    assert not archive.exists()
