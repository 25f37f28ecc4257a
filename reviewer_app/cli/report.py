"""``reviewer-app report`` and ``reviewer-app esr``: the decision report, its verification, and
the applicants' evaluation summaries."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from ._common import fail, find_call, record_read

if TYPE_CHECKING:  # imported where used: the command line starts without them
    pass

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["en", "de"]),
    default="en",
    show_default=True,
    help="Language of the report.",
)


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


def _engine_errors() -> tuple[type[Exception], ...]:
    from ..scoring.engine import EvaluationError

    return (EvaluationError,)


class _ReportGroup(click.Group):
    """``report KEY ...`` builds a report; ``report verify FILE`` checks one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)


@click.group("report", cls=_ReportGroup)
def report_group() -> None:
    """The call's decision report (PDF/A-3b with its data embedded), and its verification.

    \b
    reviewer-app report KEY -o FILE.pdf [--lang en|de]
    reviewer-app report verify FILE.pdf [--against KEY]
    """


@report_group.command("build")
@click.argument("key")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The PDF file to write.",
)
@LANG_OPTION
@with_appcontext
def build_report(key: str, output: Path, lang: str) -> None:
    """Write the decision report of call KEY (same as `report KEY`).

    A large call's report is laid out in parts by REPORT_PROCESSES processes.
    """
    from flask import current_app

    from ..audit.events import ReportDownloaded
    from ..models import ReportKind
    from ..reports.services import decision_report_pdf

    call = find_call(key)
    try:
        report = decision_report_pdf(
            call, lang, processes=int(current_app.config["REPORT_PROCESSES"])
        )
    except _engine_errors() as exc:
        fail(f"the call's data cannot be evaluated: {exc}")
    _write(output, report.content)
    record_read(
        call,
        ReportDownloaded(kind=ReportKind.DECISION, language=lang, fingerprint=report.fingerprint),
    )
    click.echo(f"Wrote {output} ({len(report.content):,} bytes)")
    click.echo(f"Fingerprint (SHA-256 of evaluation.json): {report.fingerprint}")


@report_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--against", "against", metavar="KEY", help="Also compare with call KEY's data.")
@click.pass_context
def verify_report_command(ctx: click.Context, file: Path, against: str | None) -> None:
    """Check a decision report: fingerprint, recomputed ranking, and optionally the database.

    Without --against it needs no database or configuration: anyone holding the PDF can run
    it. Exits with status 1 when any check fails.
    """
    from flask.cli import ScriptInfo

    from ..reports.verify import NotAReport, verify_report

    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        if against:
            with ctx.ensure_object(ScriptInfo).load_app().app_context():
                result = verify_report(content, against=find_call(against))
        else:
            result = verify_report(content)
    except NotAReport as exc:
        fail(f"{file}: {exc}")
    for check in result.checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}" + (f": {check.detail}" if check.detail else ""))
    if not result.ok:
        click.echo(f"{file}: verification FAILED", err=True)
        sys.exit(1)
    click.echo(f"{file}: verified")


@click.command("esr")
@click.argument("key")
@click.option("--proposal", "reference", metavar="REF", help="Only this proposal (one PDF).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="With --proposal, the PDF to write. Without it, a ZIP of every proposal's PDF, or "
    "an existing directory to write the PDFs into.",
)
@LANG_OPTION
@with_appcontext
def esr_command(key: str, reference: str | None, output: Path, lang: str) -> None:
    """Evaluation summary reports for the applicants of call KEY.

    Per criterion the score, threshold and the experts' comments (never attributed), the
    totals, the threshold result and the outcome; never individual scores.
    """
    from ..audit.events import ReportDownloaded
    from ..models import ReportKind
    from ..reports.records import ConsensusNamesExpert, ProposalNotFound
    from ..reports.services import feedback_report_pdf, feedback_reports, feedback_reports_zip

    call = find_call(key)
    try:
        if reference is not None:
            report = feedback_report_pdf(call, reference, lang)
            _write(output, report.content)
            record_read(
                call, ReportDownloaded(kind=ReportKind.FEEDBACK, language=lang, proposal=reference)
            )
            click.echo(f"Wrote {output}")
        elif output.is_dir():
            for item in feedback_reports(call, lang):
                _write(output / item.filename, item.content)
                click.echo(f"Wrote {output / item.filename}")
            record_read(call, ReportDownloaded(kind=ReportKind.FEEDBACK_ALL, language=lang))
        else:
            from flask import current_app

            processes = int(current_app.config["REPORT_PROCESSES"])
            archive = feedback_reports_zip(call, lang, processes=processes)
            _write(output, archive.content)
            record_read(call, ReportDownloaded(kind=ReportKind.FEEDBACK_ZIP, language=lang))
            click.echo(f"Wrote {output} ({len(call.proposals)} reports)")
    except ProposalNotFound:
        fail(f"no proposal '{reference}' in call '{key}'")
    except ConsensusNamesExpert as exc:
        fail(
            "nothing written: a final consensus text names an expert and must not reach the "
            f"applicant; reopen it, rewrite the text and make it final again ({exc})"
        )
    except _engine_errors() as exc:
        fail(f"the call's data cannot be evaluated: {exc}")


def register(main: click.Group) -> None:
    main.add_command(report_group)
    main.add_command(esr_command)
