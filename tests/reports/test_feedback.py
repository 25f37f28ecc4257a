"""The applicant's evaluation summary: scores, thresholds, comments and outcome; never who
wrote what, never individual scores."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from reviewer_app.reports.data import ProposalNotFound
from reviewer_app.reports.services import feedback_report_pdf

from .conftest import Scene, add_consensus, pdf_text


def test_feedback_shows_scores_thresholds_comments_and_outcome(scene: Scene) -> None:
    scene.decide()
    text = "\n".join(pdf_text(feedback_report_pdf(scene.call, "P-004", "en").content))
    assert "P-004" in text and "Proposal number 4" in text
    assert "2.17" in text  # compute, below its threshold
    assert "10.17" in text  # total and weighted total
    assert "The proposal did not pass all thresholds." in text
    assert "Rejected" in text and "Rationale for P-004: as ranked." in text
    for number in (1, 2, 3):
        assert f"Assessment of P-004, note {number} (compute)" in text


def test_feedback_never_names_numbers_or_scores_experts(scene: Scene) -> None:
    text = "\n".join(pdf_text(feedback_report_pdf(scene.call, "P-004", "en").content))
    assert "Secret Name" not in text and "@example.org" not in text
    assert "Expert A" not in text and "Expert 1" not in text
    # The individual compute scores were 2, 2.5 and 2; only their mean (2.17) is shown.
    assert "2.50" not in text and "2.00" not in text
    assert "DRAFT" in text  # the call is not decided yet


def test_a_consensus_comment_replaces_the_collected_ones(scene: Scene) -> None:
    add_consensus(scene.proposals["P-002"], {"compute": "4.5"}, "Agreed by the panel")
    text = "\n".join(pdf_text(feedback_report_pdf(scene.call, "P-002", "en").content))
    assert "Agreed by the panel (compute)" in text
    assert "Assessment of P-002, note 1 (compute)" not in text
    assert "Assessment of P-002, note 1 (expertise)" in text  # no consensus there


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

    archive = tmp_path / "all.zip"
    result = runner.invoke(args=["esr", "aif-test", "-o", str(archive)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        names = zf.namelist()
    assert names == [f"aif-test-P-00{i}-feedback-en.pdf" for i in range(1, 6)]

    result = runner.invoke(args=["esr", "aif-test", "--proposal", "P-999", "-o", str(one)])
    assert result.exit_code == 1 and "no proposal 'P-999'" in result.output
