"""`reviewer-app report verify`: a good report passes; altered data or a changed database fail."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from flask.testing import FlaskCliRunner
from pypdf import PdfReader, PdfWriter

from reviewer_app.extensions import db
from reviewer_app.models import Score
from reviewer_app.reports.evaluation import canonical_json

from .conftest import Rendered, Scene


def rewrite(pdf: bytes, replace: dict[str, bytes]) -> bytes:
    """The same pages, with some embedded files replaced: what a forger would do."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    for name, contents in reader.attachments.items():
        writer.add_attachment(name, replace.get(name, contents[0]))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raise_score(evaluation: bytes, reference: str) -> bytes:
    document = json.loads(evaluation)
    for review in document["reviews"]:
        if review["proposal"] == reference:
            review["scores"] = dict.fromkeys(review["scores"], "5.00")
    return canonical_json(document)


def embedded(pdf: bytes, name: str) -> bytes:
    return PdfReader(io.BytesIO(pdf)).attachments[name][0]


def test_a_good_report_verifies(runner: FlaskCliRunner, rendered: Rendered, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(rendered.draft_en)
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.count("[ok  ]") == 4
    assert rendered.fingerprint in result.output
    assert "verified" in result.output


def test_altered_evaluation_data_fails(
    runner: FlaskCliRunner, rendered: Rendered, tmp_path: Path
) -> None:
    forged = raise_score(embedded(rendered.draft_en, "evaluation.json"), "P-004")
    path = tmp_path / "forged.pdf"
    path.write_bytes(rewrite(rendered.draft_en, {"evaluation.json": forged}))

    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 1
    assert "[FAIL] fingerprint printed in the report" in result.output
    # P-004 now passes: the recomputed ranking no longer matches the embedded one.
    assert "[FAIL] ranking recomputed from evaluation.json" in result.output
    assert "verification FAILED" in result.output


def test_altered_ranking_fails(runner: FlaskCliRunner, rendered: Rendered, tmp_path: Path) -> None:
    csv = rendered.csv.replace("below_threshold", "main").encode()
    path = tmp_path / "forged.pdf"
    path.write_bytes(rewrite(rendered.draft_en, {"ranking.csv": csv}))

    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 1
    assert "[ok  ] fingerprint printed" in result.output
    assert "[FAIL] ranking recomputed" in result.output


def test_verify_against_the_database(runner: FlaskCliRunner, scene: Scene, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "aif-test", "-o", str(path)])
    assert result.exit_code == 0, result.output

    result = runner.invoke(args=["report", "verify", str(path), "--against", "aif-test"])
    assert result.exit_code == 0, result.output
    assert "[ok  ] the database still holds the same evaluation data" in result.output

    # A score changed after the report was made: the file is intact, the database is not.
    score = db.session.query(Score).order_by(Score.id).first()
    assert score is not None
    score.value = score.value - 1 if score.value >= 1 else score.value + 1
    db.session.commit()
    result = runner.invoke(args=["report", "verify", str(path), "--against", "aif-test"])
    assert result.exit_code == 1
    assert "[FAIL] the database still holds the same evaluation data" in result.output
    assert "reviews" in result.output
    assert runner.invoke(args=["report", "verify", str(path)]).exit_code == 0


def test_verify_refuses_what_is_not_a_report(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "not.pdf"
    path.write_bytes(b"hello")
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


def test_verify_a_pdf_without_embedded_data(
    runner: FlaskCliRunner, rendered: Rendered, tmp_path: Path
) -> None:
    reader = PdfReader(io.BytesIO(rendered.draft_en))
    writer = PdfWriter()
    writer.add_page(reader.pages[0])
    path = tmp_path / "bare.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 1
    assert "evaluation.json: MISSING" in result.output


def test_report_command_errors(runner: FlaskCliRunner, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["report", "no-such-call", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "no call with key 'no-such-call'" in result.output
    result = runner.invoke(args=["report", "verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_the_report_carries_the_audit_chain_head_and_verify_checks_it(
    runner: FlaskCliRunner, scene: Scene, tmp_path: Path
) -> None:
    import json

    from sqlalchemy import select, update

    from reviewer_app.audit.events import DemoSeeded, ReportDownloaded
    from reviewer_app.models import AuditEvent
    from reviewer_app.models.audit import chain_of, record
    from reviewer_app.reports.verify import embedded_files, page_texts

    path = tmp_path / "report.pdf"
    assert runner.invoke(args=["report", "aif-test", "-o", str(path)]).exit_code == 0
    pdf = path.read_bytes()
    head = json.loads(embedded_files(pdf)["evaluation.json"])["audit"]
    newest = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.chain == chain_of(scene.call.id),
            AuditEvent.action != ReportDownloaded.action,  # the report's own making: a read
        )
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert head == {"chain": chain_of(scene.call.id), "seq": newest.seq, "digest": newest.digest}
    printed = " ".join(page_texts(pdf)).replace("\n", " ")
    assert f"event {newest.seq}: {newest.digest}" in printed

    # A download (a read) and a later write leave the report valid against the database.
    record(
        ReportDownloaded(kind="decision", language="en"),
        scene.call,
        call_id=scene.call.id,
        actor_id=None,
    )
    record(DemoSeeded(), scene.call, call_id=scene.call.id, actor_id=None)
    db.session.commit()
    result = runner.invoke(args=["report", "verify", str(path), "--against", "aif-test"])
    assert result.exit_code == 0, result.output
    assert "[ok  ] the report's audit chain head is in the call's intact chain" in result.output

    # An event the report stands on is changed behind the application's back: caught.
    with db.engine.begin() as connection:
        connection.execute(
            update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.id == newest.id)
            .values(data={"from_phase": "setup", "to_phase": "decided"})
        )
    result = runner.invoke(args=["report", "verify", str(path), "--against", "aif-test"])
    assert result.exit_code == 1
    assert "[FAIL] the report's audit chain head" in result.output
    assert f"broken at event {newest.id}" in result.output


def test_a_download_does_not_change_the_next_report(
    runner: FlaskCliRunner, scene: Scene, tmp_path: Path
) -> None:
    from reviewer_app.audit.events import ReportDownloaded
    from reviewer_app.models.audit import record

    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    assert runner.invoke(args=["report", "aif-test", "-o", str(first)]).exit_code == 0
    record(
        ReportDownloaded(kind="decision", language="en"),
        scene.call,
        call_id=scene.call.id,
        actor_id=None,
    )
    db.session.commit()
    assert runner.invoke(args=["report", "aif-test", "-o", str(second)]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def _with_file(size: int) -> bytes:
    """A one-page PDF with an embedded file of ``size`` bytes (compressed, as in a report)."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.attachments["evaluation.json"] = pikepdf.AttachedFileSpec(pdf, b" " * size)
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def test_an_embedded_file_past_pypdfs_own_limit_is_read() -> None:
    """evaluation.json of a call of 10,000 proposals is about 85 MB: more than pypdf unpacks by
    default (75 MB), which made `report verify` fail with a traceback."""
    from reviewer_app.reports.verify import embedded_files

    size = 80_000_000
    assert len(embedded_files(_with_file(size))["evaluation.json"]) == size


def test_an_embedded_file_that_unpacks_past_the_limit_is_no_report(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from reviewer_app import limits
    from reviewer_app.reports.verify import NotAReport, embedded_files

    monkeypatch.setattr(limits, "REPORT_EMBEDDED_BYTES", 1_000_000)
    with pytest.raises(NotAReport, match="unpacks to more than 1,000,000 bytes"):
        embedded_files(_with_file(2_000_000))


def test_page_texts_say_what_pypdf_reads_on_every_page(rendered: Rendered) -> None:
    """`report verify` reads the pages with PDFium (fast, one page open at a time): the same
    words as pypdf's slower extraction, page by page, whitespace aside."""
    import io

    from pypdf import PdfReader

    from reviewer_app.reports import verify

    fast = verify.page_texts(rendered.decided_en)
    slow = [page.extract_text() for page in PdfReader(io.BytesIO(rendered.decided_en)).pages]

    def words(text: str) -> str:
        return re.sub(r"\s+", "", text)

    assert len(fast) == len(slow) > 4
    assert [words(text) for text in fast] == [words(text) for text in slow]
    assert all("\r" not in text for text in fast)
    assert verify.verify_report(rendered.decided_en).ok


def test_a_file_pdfium_cannot_read_is_not_a_report(rendered: Rendered, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file pypdf opens but PDFium does not (PDF readers differ in what they forgive) is
    refused with the reason, never with a traceback."""
    import pypdfium2
    import pytest

    from reviewer_app.reports.verify import NotAReport, verify_report

    def unreadable(*_args: object, **_kwargs: object) -> None:
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).")

    monkeypatch.setattr(pypdfium2, "PdfDocument", unreadable)
    with pytest.raises(NotAReport, match="not a readable PDF .*Data format error"):
        verify_report(rendered.decided_en)
