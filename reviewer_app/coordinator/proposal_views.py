"""Proposals of a call: list, add, edit, documents, and import from a file."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from ..audit.events import DocumentDownloaded
from ..auth.access import role_required
from ..display import display_score
from ..extensions import db
from ..formhelpers import add_error
from ..loaders import call_or_404, document_or_404, proposal_or_404
from ..models import Assignment, Call, Proposal, Role
from ..models.audit import record
from ..refusals import refusal_goes_to
from . import bp, history
from .forms import ProposalForm, UploadForm
from .proposals import (
    PROPOSAL_FIELDS,
    DocumentError,
    ProposalError,
    attach_document,
    create_proposal,
    remove_document,
    search_proposals,
    update_proposal,
)

_PROPOSAL_PAGE = (
    selectinload(Proposal.documents),
    selectinload(Proposal.assignments).selectinload(Assignment.expert),
    selectinload(Proposal.assignments).selectinload(Assignment.declaration),
    selectinload(Proposal.assignments).selectinload(Assignment.review),
)


def _load_proposal(call: Call, proposal_id: int) -> Proposal:
    return proposal_or_404(call, proposal_id, *_PROPOSAL_PAGE)


@bp.route("/<key>/proposals")
@role_required(Role.COORDINATOR)
def proposals(key: str) -> Any:
    """The proposals of a call, searchable, sortable and paginated."""
    call = call_or_404(key)
    page = search_proposals(
        call,
        query=request.args.get("q", ""),
        sort=request.args.get("sort", "reference"),
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "coordinator/proposals.html",
        call=call,
        page=page,
        can_import="coordinator.import_proposals" in current_app.view_functions,
    )


def _proposal_values(form: ProposalForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in PROPOSAL_FIELDS}


def _proposal_form_page(
    call: Call,
    form: ProposalForm,
    proposal: Proposal | None,
    save: Callable[[dict[str, Any]], Proposal],
    saved_message: Callable[[Proposal], str],
) -> Any:
    """Validate, save through ``save``, commit and redirect; else the form with its errors."""
    error = None
    if form.validate_on_submit():
        try:
            saved = save(_proposal_values(form))
        except ProposalError as exc:
            db.session.rollback()
            if exc.field:
                add_error(getattr(form, exc.field), exc.message)
            else:
                error = exc.message
        else:
            db.session.commit()
            flash(saved_message(saved), "success")
            return redirect(url_for(".proposal_detail", key=call.key, proposal_id=saved.id))
    return render_template(
        "coordinator/proposal_form.html", call=call, form=form, proposal=proposal, error=error
    ), (400 if form.errors or error else 200)


@bp.route("/<key>/proposals/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_proposal(key: str) -> Any:
    """Add one proposal by hand."""
    call = call_or_404(key)
    return _proposal_form_page(
        call,
        ProposalForm(),
        None,
        lambda values: create_proposal(call, actor=current_user, **values),
        lambda saved: _("Proposal %(ref)s is added.", ref=saved.reference),
    )


@bp.route("/<key>/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit_proposal(key: str, proposal_id: int) -> Any:
    """Edit the fields of a proposal."""
    call = call_or_404(key)
    proposal = _load_proposal(call, proposal_id)

    def save(values: dict[str, Any]) -> Proposal:
        update_proposal(proposal, actor=current_user, **values)
        return proposal

    return _proposal_form_page(
        call,
        ProposalForm(obj=proposal),
        proposal,
        save,
        lambda saved: _("Proposal %(ref)s is saved.", ref=saved.reference),
    )


@bp.route("/<key>/proposals/<int:proposal_id>")
@role_required(Role.COORDINATOR)
def proposal_detail(key: str, proposal_id: int) -> Any:
    """One proposal: its fields, documents, experts and the state of their reviews."""
    call = call_or_404(key)
    proposal = _load_proposal(call, proposal_id)
    assignments = sorted(proposal.assignments, key=lambda a: a.expert.name.lower())
    return render_template(
        "coordinator/proposal_detail.html",
        call=call,
        proposal=proposal,
        assignments=assignments,
        upload_form=UploadForm(),
        form=FlaskForm(),
        max_mb=current_app.config["DOCUMENT_MAX_BYTES"] / 1024 / 1024,
    )


@bp.route("/<key>/proposals/<int:proposal_id>/history")
@role_required(Role.COORDINATOR)
def proposal_history(key: str, proposal_id: int) -> Any:
    """Every kept version of the proposal's reviews and consensus report, with what changed."""
    call = call_or_404(key)
    proposal = _load_proposal(call, proposal_id)
    return render_template(
        "coordinator/proposal_history.html",
        call=call,
        proposal=proposal,
        history=history.proposal_history(proposal),
        format_score=display_score,
    )


@bp.route("/<key>/proposals/<int:proposal_id>/documents", methods=["POST"])
@role_required(Role.COORDINATOR)
def upload_document(key: str, proposal_id: int) -> Any:
    """Attach a PDF to a proposal."""
    call = call_or_404(key)
    proposal = _load_proposal(call, proposal_id)
    form = UploadForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    if upload is None or not upload.filename:
        flash(_("Choose a PDF file to upload."), "error")
        return redirect(url_for(".proposal_detail", key=call.key, proposal_id=proposal.id))
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    content = upload.stream.read(limit + 1)  # one byte more than allowed tells "too large"
    try:
        document = attach_document(
            proposal, upload.filename, content, max_bytes=limit, uploaded_by=current_user
        )
    except DocumentError as exc:
        db.session.rollback()
        flash(
            _("%(file)s was not attached: %(reason)s", file=upload.filename, reason=exc.message),
            "error",
        )
    else:
        db.session.commit()
        flash(_("%(file)s is attached.", file=document.filename), "success")
    return redirect(url_for(".proposal_detail", key=call.key, proposal_id=proposal.id))


@bp.route("/<key>/documents/<int:document_id>")
@role_required(Role.COORDINATOR)
def download_document(key: str, document_id: int) -> Any:
    """Download a document of a proposal of this call."""
    call = call_or_404(key)
    document = document_or_404(call, document_id, with_content=True)
    record(
        DocumentDownloaded(proposal=document.proposal.reference, filename=document.filename),
        document,
        call_id=call.id,
        actor_id=current_user.id,
    )
    db.session.commit()
    return send_file(
        io.BytesIO(document.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=document.filename,
    )


@bp.route("/<key>/documents/<int:document_id>/delete", methods=["POST"])
@role_required(Role.COORDINATOR)
def delete_document(key: str, document_id: int) -> Any:
    """Remove a document from its proposal."""
    call = call_or_404(key)
    document = document_or_404(call, document_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    proposal_id, filename = document.proposal_id, document.filename
    refusal_goes_to(url_for(".proposal_detail", key=call.key, proposal_id=proposal_id))
    remove_document(document, actor=current_user)
    db.session.commit()
    flash(_("%(file)s is removed.", file=filename), "success")
    return redirect(url_for(".proposal_detail", key=call.key, proposal_id=proposal_id))


@bp.route("/<key>/proposals/import", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def import_proposals(key: str) -> Any:
    """Import proposals from a CSV or JSON file: every row is checked, nothing is kept if one is bad."""
    from ..importers import ImportRejected, read_table
    from ..importers import import_proposals as import_rows

    call = call_or_404(key)
    form = UploadForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not upload.filename:
            add_error(form.file, _("Choose a CSV or JSON file to upload."))
        else:
            try:
                added = import_rows(
                    call, read_table(upload.read(), filename=upload.filename), actor=current_user
                )
            except ImportRejected as exc:
                db.session.rollback()
                errors = [str(e) for e in exc.errors]
            else:
                db.session.commit()
                flash(_("Proposals imported: %(num)d.", num=len(added)), "success")
                return redirect(url_for(".proposals", key=call.key))
    return render_template(
        "coordinator/proposals_import.html", call=call, form=form, errors=errors
    ), (400 if form.errors or errors else 200)


SAMPLE_CSV = (
    "reference,acronym,title,applicant,country,requested_funding_eur,summary\r\n"
    "AIF-01,JUPITER-AI,Jupiter AI Factory,Forschungszentrum Jülich,DE,40000000.00,"
    '"An AI-optimised supercomputer, services and training."\r\n'
)


@bp.route("/<key>/proposals/import/sample.csv")
@role_required(Role.COORDINATOR)
def sample_csv(key: str) -> Any:
    """A CSV file with the expected columns and one example row, to fill in."""
    call_or_404(key)
    return current_app.response_class(
        "\ufeff" + SAMPLE_CSV,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=proposals-sample.csv"},
    )
