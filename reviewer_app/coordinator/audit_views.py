"""A call's audit log: filters, pages, CSV download, and whether its chain is intact."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, render_template, request, stream_with_context
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from .. import limits
from ..audit import chain as audit_chain
from ..audit import log as audit_log
from ..audit.events import label_of
from ..auth.access import role_required
from ..exports import csv_chunks
from ..extensions import db
from ..formhelpers import choice
from ..loaders import call_or_404
from ..models import Role
from ..models.audit import chain_of
from ..paging import window
from . import bp
from .view_helpers import export_response

PAGE_SIZE = 50


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    actor = SelectField("", validators=[Optional()], validate_choice=True)
    action = SelectField("", validators=[Optional()], validate_choice=True)
    proposal = StringField("", validators=[Optional(), Length(max=limits.PROPOSAL_REFERENCE)])
    since = DateField("", validators=[Optional()])
    until = DateField("", validators=[Optional()])


def _filters(call: Any) -> tuple[AuditFilterForm, audit_log.AuditFilter]:
    from flask_babel import gettext as _

    form = AuditFilterForm(request.args)
    form.actor.label.text = _("Who")
    form.action.label.text = _("Action")
    form.proposal.label.text = _("Proposal")
    form.since.label.text = _("From")
    form.until.label.text = _("To (inclusive)")
    form.actor.choices = [choice("", _("anyone"))] + [
        choice(str(user_id), email) for user_id, email in audit_log.actors(call)
    ]
    form.action.choices = [choice("", _("any"))] + [
        choice(a, label_of(a)) for a in audit_log.actions(call)
    ]
    if not form.validate():
        return form, audit_log.AuditFilter()
    return form, audit_log.AuditFilter(
        actor_id=int(form.actor.data) if form.actor.data else None,
        action=form.action.data or None,
        proposal=(form.proposal.data or "").strip() or None,
        since=datetime.combine(form.since.data, time()) if form.since.data else None,
        until=(
            datetime.combine(form.until.data + timedelta(days=1), time())
            if form.until.data
            else None
        ),
    )


def _sees_confidential() -> bool:
    # Conflict-of-interest reasons are for coordinators (expert/declaration.html says so).
    return bool(current_user.role is Role.COORDINATOR)


@bp.route("/<key>/audit")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def audit(key: str) -> Any:
    """The call's audit log, newest first, with filters and the state of its chain."""
    call = call_or_404(key)
    form, flt = _filters(call)
    total = audit_log.count(call, flt)
    pages = window(total, 1, PAGE_SIZE).pages
    number = request.args.get("page", 1, type=int) or 1
    if not 1 <= number <= pages:
        abort(404)
    rows = audit_log.page(
        call, flt, number=number, size=PAGE_SIZE, confidential=_sees_confidential()
    )
    report = audit_chain.verify(db.session, chain_of(call.id))
    arguments = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "coordinator/audit.html",
        call=call,
        form=form,
        rows=rows,
        total=total,
        number=number,
        pages=pages,
        arguments=arguments,
        chain=report,
        audit_label=label_of,
    )


@bp.route("/<key>/audit.csv")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def audit_download(key: str) -> Any:
    """The call's audit log (as filtered) as CSV, oldest first, with each event's digest."""
    call = call_or_404(key)
    _form, flt = _filters(call)
    confidential = _sees_confidential()
    until = audit_log.last_number(call)  # the file is the log as it stood when asked for
    # Streamed: the log of a large call is read and written a thousand events at a time.
    rows = audit_log.rows(call, flt, confidential=confidential, until=until)
    chunks = csv_chunks(audit_log.COLUMNS, (row.cells() for row in rows))
    return export_response(call, "audit", "csv", stream_with_context(chunks), mimetype="text/csv")
