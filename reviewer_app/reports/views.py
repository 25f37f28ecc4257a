"""Report downloads: the decision report, one applicant's evaluation summary, all of them."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ..audit.events import ReportDownloaded, ReportKind
from ..auth.access import role_required
from ..extensions import db
from ..loaders import call_or_404
from ..models import Call, Role
from ..models.audit import record
from . import bp, services
from .formatting import LANGUAGES
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


@bp.route("/calls/<key>/report.pdf")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def decision_report(key: str) -> Any:
    """The call's decision report as PDF."""
    call = call_or_404(key)
    lang = _language()
    report = services.decision_report_pdf(call, lang)
    return _download(call, report, "application/pdf", ReportKind.DECISION, lang)


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
        return _named_experts(call, exc)
    return _download(call, report, "application/pdf", ReportKind.FEEDBACK, lang, reference)


@bp.route("/calls/<key>/feedback.zip")
@role_required(Role.COORDINATOR)
def feedback_reports_zip(key: str) -> Any:
    """Every proposal's evaluation summary in one ZIP."""
    call = call_or_404(key)
    lang = _language()
    try:
        report = services.feedback_reports_zip(call, lang)
    except ConsensusNamesExpert as exc:
        return _named_experts(call, exc)
    return _download(call, report, "application/zip", ReportKind.FEEDBACK_ZIP, lang)


def _named_experts(call: Call, exc: ConsensusNamesExpert) -> WerkzeugResponse:
    """Back to the ranking, saying which consensus texts must be rewritten first."""
    flash(
        _(
            "No feedback report was made: the final consensus text names an expert, and the "
            "applicant must not read that. Reopen the consensus report, rewrite the text and "
            "make it final again: %(where)s.",
            where=str(exc),
        ),
        "danger",
    )
    return redirect(url_for("coordinator.ranking", key=call.key))
