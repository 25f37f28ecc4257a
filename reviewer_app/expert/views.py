"""The expert's pages: assignments, declaration, proposal and scoring form, downloads."""

from __future__ import annotations

from io import BytesIO
from itertools import groupby
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from ..audit.events import DocumentDownloaded, IndividualReportDownloaded
from ..auth.access import role_required
from ..auth.stash import keeps_input_on_expiry, pop_stashed_form
from ..display import decimal_sign, scheme_for_reader
from ..extensions import db
from ..mail import MailError, send_messages
from ..models import Assignment, Role, utcnow
from ..models.audit import record
from ..scoring.comment_fields import parts_for_form
from . import bp
from .forms import (
    DeclarationForm,
    LateConflictForm,
    ReviewForm,
    make_review_form,
    part_name,
    rules_data,
    scale_value,
)
from .notices import late_conflict_notices
from .services import (
    AlreadyDeclared,
    LateConflictRefused,
    ReviewLocked,
    StaleReview,
    can_declare_late_conflict,
    can_write,
    current_version,
    declare,
    declare_late_conflict,
    find_assignment,
    find_document,
    list_assignments,
    other_reviews,
    save_draft,
    scores_by_key,
    state_of,
    submit_review,
)


@bp.route("/")
@role_required(Role.EXPERT)
def assignments() -> Any:
    """The expert's assignments, grouped by call."""
    rows = [(a, state_of(a)) for a in list_assignments(current_user)]
    calls = [(call, list(group)) for call, group in groupby(rows, key=lambda r: r[0].proposal.call)]
    return render_template(
        "expert/assignments.html",
        calls=calls,
        has_consensus_pages="consensus.proposal" in current_app.view_functions,
        today=utcnow().date(),
    )


@bp.route("/assignments/<int:assignment_id>/declaration", methods=["GET", "POST"])
@keeps_input_on_expiry()
@role_required(Role.EXPERT)
def declare_conflict(assignment_id: int) -> Any:
    """Declare conflicts of interest and accept confidentiality before the proposal opens."""
    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is not None:
        return redirect(url_for(".review", assignment_id=assignment.id))
    # A reason typed before the session expired comes back, to be checked and sent again.
    restored = pop_stashed_form(request.path) if request.method == "GET" else None
    stashed = restored[1] if restored else None
    if stashed is not None:
        db.session.commit()  # the stash is handed out once
    form = DeclarationForm(formdata=MultiDict(stashed)) if stashed else DeclarationForm()
    if form.validate_on_submit():
        has_conflict = form.has_conflict.data == "yes"
        try:
            declare(
                assignment,
                has_conflict=has_conflict,
                reason=form.reason.data or "",
                confidentiality_accepted=bool(form.confidentiality.data),
            )
            db.session.commit()
        except (AlreadyDeclared, IntegrityError):
            # Declared meanwhile in another tab: that declaration stands.
            db.session.rollback()
            return redirect(url_for(".assignments"))
        if has_conflict:
            flash(
                _(
                    "Your conflict of interest is recorded. The proposal is no longer "
                    "available to you; the coordinator will assign another expert."
                ),
                "info",
            )
            return redirect(url_for(".assignments"))
        return redirect(url_for(".review", assignment_id=assignment.id))
    # Enough to judge a conflict (who applies, with whom), not the proposal's content.
    partners = {k: v for k, v in assignment.proposal.extra.items() if k in COUNTRY_LISTS}
    return render_template(
        "expert/declaration.html",
        assignment=assignment,
        form=form,
        restored=stashed is not None,
        extra_fields=_extra_fields(partners),
        country_name=_country_name,
    )


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@keeps_input_on_expiry()
@role_required(Role.EXPERT)
def review(assignment_id: int) -> Any:
    """The proposal and the expert's scoring form (read-only once submitted or closed)."""
    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is None:
        return redirect(url_for(".declare_conflict", assignment_id=assignment.id))
    form_class = _form_class(assignment)
    if request.method == "GET":
        # Input sent after the session had expired comes back once, into the form it came from.
        late_path = url_for(".late_conflict", assignment_id=assignment.id)
        restored = pop_stashed_form(request.path, late_path)
        if restored is not None:
            db.session.commit()  # the stash is handed out once
            if restored[0] == late_path:
                flash(_("We restored your unsaved input. Check it and send it again."), "warning")
                late = LateConflictForm(formdata=MultiDict(restored[1]), prefix=LATE_PREFIX)
                saved = form_class(data=_saved_data(assignment))
                return _render_review(assignment, saved, late_form=late, late_restored=True)
            form = form_class(formdata=MultiDict(restored[1]))
            return _render_review(assignment, form, restored=True)
        return _render_review(assignment, form_class(data=_saved_data(assignment)))

    if not can_write(assignment):
        flash(_locked_message(assignment), "warning")
        return redirect(url_for(".review", assignment_id=assignment.id))
    form = form_class()
    if not form.validate_on_submit():
        return _render_review(assignment, form), 422
    write = submit_review if form.is_submit else save_draft
    try:
        write(assignment, form.version.data or 0, form.score_inputs())
        db.session.commit()
    except StaleReview:
        db.session.rollback()
        return _refuse_stale(assignment_id, form)
    except ReviewLocked:
        db.session.rollback()
        flash(_("This review is submitted and can no longer be changed."), "warning")
        return redirect(url_for(".review", assignment_id=assignment_id))
    if form.is_submit:
        flash(_("Your review is submitted. Thank you."), "success")
    else:
        flash(_("Draft saved."), "success")
    return redirect(url_for(".review", assignment_id=assignment.id))


# The late-conflict form shares the review page with the review form: its own field names.
LATE_PREFIX = "late"


@bp.route("/assignments/<int:assignment_id>/late-conflict", methods=["POST"])
@keeps_input_on_expiry(lambda assignment_id: url_for("expert.review", assignment_id=assignment_id))
@role_required(Role.EXPERT)
def late_conflict(assignment_id: int) -> Any:
    """A conflict of interest found after the proposal opened: the review stops counting."""
    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is None:
        return redirect(url_for(".declare_conflict", assignment_id=assignment.id))
    form = LateConflictForm(prefix=LATE_PREFIX)
    if not form.validate_on_submit():
        page = _render_review(
            assignment, _form_class(assignment)(data=_saved_data(assignment)), late_form=form
        )
        return page, 422
    try:
        event = declare_late_conflict(assignment, form.reason.data or "")
        notices = late_conflict_notices(assignment, event)
        db.session.commit()
    except LateConflictRefused:
        db.session.rollback()
        flash(
            _(
                "A conflict can be declared here only while the call is in evaluation or "
                "consensus. Please write to the coordinator."
            ),
            "warning",
        )
        return redirect(url_for(".review", assignment_id=assignment_id))
    # The conflict stands whatever the mail server says (and its lock on the call is gone
    # before the server is asked): the coordinators also find it on the proposal's page.
    try:
        send_messages(notices)
    except MailError:
        flash(
            _(
                "Your conflict of interest is recorded, but the coordinators could not be told "
                "by e-mail. Please tell them yourself."
            ),
            "warning",
        )
        return redirect(url_for(".assignments"))
    flash(
        _(
            "Your conflict of interest is recorded and the coordinators are told. Your review "
            "is kept in the record but no longer counts, and the proposal is closed to you."
        ),
        "info",
    )
    return redirect(url_for(".assignments"))


@bp.route("/assignments/<int:assignment_id>/autosave", methods=["POST"])
@role_required(Role.EXPERT)
def autosave_review(assignment_id: int) -> Any:
    """Save the draft in the background (JSON in, JSON out); the page's script calls it."""
    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is None or not can_write(assignment):
        return jsonify(ok=False, message=_locked_message(assignment)), 409
    form = _form_class(assignment)()
    form.submit.data = False  # autosave never submits, whatever was posted
    if not form.validate():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return jsonify(ok=False, message=_("The draft could not be saved."), errors=errors), 422
    try:
        review = save_draft(assignment, form.version.data or 0, form.score_inputs(), autosave=True)
        # The answer is what this save wrote, read before the commit: after it, another tab's
        # save could already be what the database holds.
        saved = {
            "ok": True,
            "version": review.version,
            "saved_at": review.updated_at.isoformat(timespec="seconds") + "Z",
        }
        db.session.commit()
    except StaleReview:
        db.session.rollback()
        return jsonify(ok=False, stale=True, message=_stale_message()), 409
    except ReviewLocked:
        db.session.rollback()
        return jsonify(ok=False, message=_locked_message(assignment)), 409
    return jsonify(saved)


@bp.route("/assignments/<int:assignment_id>/evaluation.pdf")
@role_required(Role.EXPERT)
def individual_report(assignment_id: int) -> Any:
    """The expert's own review of the proposal as a PDF (the individual evaluation report)."""
    from ..reports.services import individual_report_pdf

    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is None:
        return redirect(url_for(".declare_conflict", assignment_id=assignment.id))
    if assignment.review is None:
        flash(_("Save your review first: the PDF shows what you saved."), "info")
        return redirect(url_for(".review", assignment_id=assignment.id))
    language = str(get_locale() or "en")
    report = individual_report_pdf(assignment, language)
    record(
        IndividualReportDownloaded(
            proposal=assignment.proposal.reference,
            version=current_version(assignment),
            language=language,
        ),
        assignment.review,
        call_id=assignment.proposal.call_id,
        actor_id=current_user.id,
    )
    db.session.commit()
    return send_file(
        BytesIO(report.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=report.filename,
        max_age=0,
    )


@bp.route("/assignments/<int:assignment_id>/documents/<int:document_id>")
@role_required(Role.EXPERT)
def download_document(assignment_id: int, document_id: int) -> Any:
    """Download a document of an assigned proposal, once the declaration is made."""
    assignment = _visible_assignment(assignment_id)
    if assignment.declaration is None:
        return redirect(url_for(".declare_conflict", assignment_id=assignment.id))
    document = find_document(assignment, document_id)
    if document is None:
        abort(404)
    proposal = assignment.proposal
    record(
        DocumentDownloaded(proposal=proposal.reference, filename=document.filename),
        document,
        call_id=proposal.call_id,
        actor_id=current_user.id,
    )
    db.session.commit()
    response = send_file(
        BytesIO(document.content),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        etag=document.sha256,
        last_modified=document.uploaded_at,
        max_age=0,
    )
    # A document is confidential and uploaded by others: never let the browser sniff or cache it.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _visible_assignment(assignment_id: int) -> Assignment:
    """The signed-in expert's assignment; 404 for anyone else's, and once a conflict is declared."""
    assignment = find_assignment(current_user, assignment_id)
    if assignment is None or assignment.has_conflict:
        abort(404)
    return assignment


def _form_class(assignment: Assignment) -> type[ReviewForm]:
    scheme = scheme_for_reader(assignment.proposal.call.scheme)
    return make_review_form(scheme.criteria, scheme.scale, scheme.rules.comment_min_chars)


def _saved_data(assignment: Assignment) -> dict[str, Any]:
    data: dict[str, Any] = {"version": current_version(assignment)}
    fields = {c.key: c.comment_fields for c in assignment.proposal.call.scheme.criteria}
    for key, score in scores_by_key(assignment).items():
        data[f"score_{key}"] = None if score.value is None else scale_value(score.value)
        if fields.get(key):
            for field, text in parts_for_form(fields[key], score.parts, score.comment).items():
                data[part_name(key, field)] = text
        else:
            data[f"comment_{key}"] = score.comment
    return data


def _render_review(assignment: Assignment, form: ReviewForm, **context: Any) -> str:
    scheme = scheme_for_reader(assignment.proposal.call.scheme)
    return render_template(
        "expert/review.html",
        assignment=assignment,
        proposal=assignment.proposal,
        call=assignment.proposal.call,
        scheme=scheme,
        review=assignment.review,
        scores=scores_by_key(assignment),
        form=form,
        editable=can_write(assignment),
        descriptors={
            scale_value(v): label
            for v in scheme.scale.values()
            if (label := scheme.scale.label_for(v))
        },
        rules=rules_data(scheme),
        decimal_sign=decimal_sign(),
        extra_fields=_extra_fields(assignment.proposal.extra),
        country_name=_country_name,
        file_size=_file_size,
        **{
            "late_form": LateConflictForm(formdata=None, prefix=LATE_PREFIX),
            "late_conflict_open": can_declare_late_conflict(assignment),
            "others": other_reviews(assignment),
            **context,
        },
    )


# Extra fields come from the import file; the known ones get a translated label.
EXTRA_LABELS = {
    "system": _l("System"),
    "partner_countries": _l("Partner countries"),
    "budget_note": _l("Note on the budget"),
    "data_note": _l("About the data"),
}
COUNTRY_LISTS = frozenset({"partner_countries"})


def _extra_fields(extra: dict[str, Any]) -> list[tuple[str, str]]:
    fields = []
    for key, value in extra.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        text = "" if value is None else str(value).strip()
        if not text:
            continue
        if key in COUNTRY_LISTS:
            codes = [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]
            text = ", ".join(_country_name(c) for c in codes)
        label = EXTRA_LABELS.get(key) or key.replace("_", " ").capitalize()
        fields.append((str(label), text))
    return fields


def _country_name(code: str | None) -> str:
    if not code:
        return "–"
    locale = get_locale()
    name = locale.territories.get(code.upper()) if locale is not None else None
    return f"{name} ({code.upper()})" if name else code.upper()


def _file_size(size: int) -> str:
    if size < 1024:
        return _("%(n)s bytes", n=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(size / 1024, 1)))
    return _("%(n)s MB", n=format_decimal(round(size / 1024 / 1024, 1)))


def _refuse_stale(assignment_id: int, form: ReviewForm) -> Any:
    """Keep the typed input on the page and say that the saved review is newer.

    The form now carries the current version, so saving again is a deliberate choice to replace
    the other save with this input.
    """
    assignment = _visible_assignment(assignment_id)
    if not can_write(assignment):
        flash(_locked_message(assignment), "warning")
        return redirect(url_for(".review", assignment_id=assignment_id))
    form.version.data = current_version(assignment)
    form.version.raw_data = [str(form.version.data)]
    return _render_review(assignment, form, stale=True), 409


def _stale_message() -> str:
    return _(
        "This review was saved in another tab or window after you opened this page, so your "
        "input was not saved. Your input is still here: check it, then save again to replace "
        "the other version."
    )


def _locked_message(assignment: Assignment) -> str:
    if assignment.review is not None and assignment.review.is_submitted:
        return _("This review is submitted and can no longer be changed.")
    return _("The evaluation phase of this call is over; the review can no longer be changed.")
