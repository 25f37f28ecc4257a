"""Report downloads: the decision report, one applicant's evaluation summary, all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ..audit.events import ReportDownloaded
from ..auth.access import role_required
from ..coordinator.view_helpers import coordinator_helpers
from ..display import language_name
from ..extensions import db
from ..languages import LANGUAGES
from ..loaders import call_or_404, report_job_or_404
from ..models import Call, JobFailure, JobStatus, ReportKind, Role
from ..models.audit import record
from . import bp, jobs, services
from .records import ConsensusNamesExpert, ProposalNotFound
from .services import ReportFile


def _language() -> str:
    """``?lang=`` when given (404 for a language we do not have), else the page's language."""
    lang = request.args.get("lang")
    if lang is None:
        current = str(get_locale() or "en")
        return current if current in LANGUAGES else "en"
    if lang not in LANGUAGES:
        abort(404)
    return lang


def _download(
    call: Call,
    report: ReportFile,
    mimetype: str,
    kind: ReportKind,
    lang: str,
    reference: str | None = None,
) -> Response:
    # Reads are recorded too: who took which report of the call, in which language.
    record(
        ReportDownloaded(
            kind=kind, language=lang, proposal=reference, fingerprint=report.fingerprint or None
        ),
        call,
        call_id=call.id,
        actor_id=current_user.id,
    )
    db.session.commit()
    response = Response(report.content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    # Confidential documents: never kept by a shared cache.
    if report.fingerprint:
        response.headers["X-Report-Fingerprint"] = report.fingerprint
    return response


@dataclass(frozen=True)
class JobOutput:
    """What a kind of report job makes, in one place: its media type, the download route that
    asks for it, and its name on the job's page."""

    mimetype: str
    endpoint: str
    title: str  # a lazy translation, read in the reader's language


JOB_OUTPUTS = {
    ReportKind.DECISION: JobOutput(
        "application/pdf", "reports.decision_report", _l("Decision report")
    ),
    ReportKind.FEEDBACK_ZIP: JobOutput(
        "application/zip",
        "reports.feedback_reports_zip",
        _l("Applicant feedback reports (ZIP)"),
    ),
    # Followed on the analytics page itself; its figures download from there.
    ReportKind.ANALYTICS: JobOutput("application/json", "coordinator.analytics", _l("Analytics")),
}


def _from_job(call: Call, kind: ReportKind, lang: str) -> Any:
    """The report from its background job: the file when it is made (at once when the data has
    not changed since), else the job's page with its progress."""
    job = jobs.request_report(call, kind, lang, current_user)
    if job.status is JobStatus.DONE:
        report = ReportFile(job.filename, job.content or b"", job.fingerprint)
        return _download(call, report, JOB_OUTPUTS[kind].mimetype, kind, lang)
    if job.failure is JobFailure.NAMED_EXPERTS:
        return _named_experts(call, job.error)
    return redirect(url_for(".job", key=call.key, job_id=job.id))


@bp.route("/calls/<key>/report.pdf")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def decision_report(key: str) -> Any:
    """The call's decision report as PDF (made in the background)."""
    return _from_job(call_or_404(key), ReportKind.DECISION, _language())


@bp.route("/calls/<key>/reports/<int:job_id>")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def job(key: str, job_id: int) -> Any:
    """A report being made: its progress (the page reloads itself until it is done), then the
    download; or why it failed. Observers follow only the decision report's jobs."""
    call = call_or_404(key)
    job = report_job_or_404(call, job_id)
    if job.kind is not ReportKind.DECISION and current_user.role is not Role.COORDINATOR:
        abort(403)
    output = JOB_OUTPUTS[job.kind]
    return render_template(
        "reports/job.html",
        call=call,
        job=job,
        title=output.title,
        language_name=language_name(job.language),
        download_url=url_for(output.endpoint, key=call.key, lang=job.language),
        failure=jobs.failure_message(job) if job.status is JobStatus.FAILED else None,
        current=job.data_state == jobs.data_state(call),
        **coordinator_helpers(),
    )


@bp.route("/calls/<key>/proposals/<reference>/feedback.pdf")
@role_required(Role.COORDINATOR)
def feedback_report(key: str, reference: str) -> Any:
    """One proposal's evaluation summary for its applicant, as PDF."""
    call = call_or_404(key)
    lang = _language()
    try:
        report = services.feedback_report_pdf(call, reference, lang)
    except ProposalNotFound:
        abort(404)
    except ConsensusNamesExpert as exc:
        return _named_experts(call, str(exc))
    return _download(call, report, "application/pdf", ReportKind.FEEDBACK, lang, reference)


@bp.route("/calls/<key>/feedback.zip")
@role_required(Role.COORDINATOR)
def feedback_reports_zip(key: str) -> Any:
    """Every proposal's evaluation summary in one ZIP (made in the background)."""
    return _from_job(call_or_404(key), ReportKind.FEEDBACK_ZIP, _language())


def _named_experts(call: Call, where: str) -> WerkzeugResponse:
    """Back to the ranking, saying which consensus texts must be rewritten first."""
    flash(jobs.named_experts_message(where), "danger")
    return redirect(url_for("coordinator.ranking", key=call.key))
