"""Progress of a call and reminders."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.access import role_required
from ..extensions import db
from ..loaders import call_or_404, expert_or_404
from ..mail import MailError
from ..models import Role
from ..refusals import back_on_refusal
from . import bp
from .forms import DueDateForm, ReminderForm
from .progress import send_reminders, set_due_date
from .progress_page import EXPERT_STATES, PROPOSAL_STATES, progress_page


@bp.route("/<key>/progress")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def progress(key: str) -> Any:
    """Reviews submitted, conflicts, disagreements and late work, per proposal and per expert."""
    call = call_or_404(key)
    args = request.args
    progress = progress_page(
        call,
        proposal_page=args.get("pp", 1, type=int) or 1,
        proposal_state=args.get("pstate", ""),
        proposal_query=args.get("pq", "")[:200],
        expert_page=args.get("ep", 1, type=int) or 1,
        expert_state=args.get("estate", ""),
        expert_query=args.get("eq", "")[:200],
        # Experts are told that only the coordinator reads their reason (declaration.html).
        with_conflict_reasons=current_user.role is Role.COORDINATOR,
    )
    return render_template(
        "coordinator/progress.html",
        call=call,
        progress=progress,
        form=FlaskForm(),
        proposal_states=PROPOSAL_STATES,
        expert_states=EXPERT_STATES,
    )


@bp.route("/<key>/reminders", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".progress")
def remind(key: str) -> Any:
    """E-mail every expert with open work, or one expert."""
    call = call_or_404(key)
    form = ReminderForm()
    if not form.validate_on_submit():
        abort(400)
    expert = None
    if form.expert_id.data:
        expert = expert_or_404(form.expert_id.data)
    try:
        sent = send_reminders(call, expert, actor=current_user)
    except MailError as exc:
        db.session.rollback()
        flash(
            _("The reminders could not be sent (%(error)s). Try again later.", error=str(exc)),
            "error",
        )
    else:
        db.session.commit()
        flash(_("Reminders sent: %(num)d.", num=sent), "success")
    return redirect(url_for(".progress", key=call.key))


@bp.route("/<key>/due-date", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".progress")
def due_date(key: str) -> Any:
    """Set the due date of one expert's open reviews (empty: back to the call deadline)."""
    call = call_or_404(key)
    form = DueDateForm()
    if not form.validate_on_submit():
        if form.expert_id.errors:
            abort(400)  # the page always posts a valid expert id
        flash(_("Enter the due date as a date, e.g. 2026-12-31."), "error")
        return redirect(url_for(".progress", key=call.key))
    expert = expert_or_404(form.expert_id.data)
    changed = set_due_date(call, expert, form.due_date.data, actor=current_user)
    db.session.commit()
    flash(
        _("New due date for %(name)s on %(num)d open reviews.", name=expert.name, num=changed),
        "success",
    )
    return redirect(url_for(".progress", key=call.key))
