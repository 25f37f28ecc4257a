"""The panel review page of a call: the ex aequo groups the rules leave, the panel's order of
each with its reasons, its comments and its report (``panel.py`` holds the rules).

One URL for the page and its three forms, so that input sent after the session expired comes
back to this page (``keeps_input_on_expiry``); the button pressed says which form was sent.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from ..auth.access import role_required
from ..auth.stash import keeps_input_on_expiry, pop_stashed_form
from ..extensions import db
from ..formhelpers import add_error
from ..models import Phase, Role
from ..paging import window
from ..panel import (
    PanelOrderInvalid,
    clear_group,
    groups_at_the_line,
    order_group,
    panel_record,
    save_comment,
    save_report,
)
from ..ranking import rank_call
from ..refusals import back_on_refusal
from ..scoring.engine import Ranking
from . import bp
from .forms import PanelCommentForm, PanelOrderForm, PanelReportForm
from .ranking_helpers import load_ranked_call, page_helpers, proposals_by_reference

# Ex aequo groups a page: a call of thousands of proposals can leave hundreds of ties, and
# the page opens at the one at the funding line.
GROUPS_PER_PAGE = 10


def _sent_form(formdata: MultiDict[str, Any]) -> FlaskForm | None:
    """The form whose button was pressed."""
    if "save_report" in formdata:
        return PanelReportForm(formdata=formdata)
    if "save_comment" in formdata:
        return PanelCommentForm(formdata=formdata)
    if "save" in formdata or "clear" in formdata:
        return PanelOrderForm(formdata=formdata)
    return None


def _apply(call: Any, ranking: Ranking, form: FlaskForm) -> str:
    """Hand the form to its service; the message to flash."""
    if isinstance(form, PanelReportForm):
        changed = save_report(call, actor=current_user, text=form.report.data or "")
        return _("The panel's report is saved.") if changed else _("Nothing changed.")
    if isinstance(form, PanelCommentForm):
        changed = save_comment(
            call, form.reference.data or "", actor=current_user, text=form.comment.data or ""
        )
        return _("The panel's comment is saved.") if changed else _("Nothing changed.")
    assert isinstance(form, PanelOrderForm)
    members = [entry.form for entry in form.members.entries]
    references = [m.reference.data or "" for m in members]
    if form.clear.data:
        clear_group(call, actor=current_user, references=references)
        return _("The group is ex aequo again, as the rules leave it.")
    places = {m.reference.data or "": (m.place.data or 0, m.reason.data or "") for m in members}
    moved = order_group(call, ranking, actor=current_user, places=places)
    return _("The panel's order is saved.") if moved else _("Nothing changed.")


@bp.route("/<key>/panel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.OBSERVER)
@keeps_input_on_expiry()
@back_on_refusal(".panel")
def panel(key: str) -> Any:
    """The panel review: ties to order (with reasons), comments and the panel's report."""
    call = load_ranked_call(key)
    if request.method == "POST" and current_user.role is not Role.COORDINATOR:
        abort(403)
    restored = pop_stashed_form(request.path) if request.method == "GET" else None
    if restored is not None:
        db.session.commit()  # the stash is handed out once
        flash(_("We restored your unsaved input. Check it and save it again."), "warning")
    formdata = (
        MultiDict(restored[1])
        if restored is not None
        else (request.form if request.method == "POST" else None)
    )
    sent = _sent_form(formdata) if formdata is not None else None
    if request.method == "POST" and sent is None:
        abort(400)
    ranking = rank_call(call)
    status = 200
    if request.method == "POST" and sent is not None:
        if sent.validate_on_submit():
            try:
                message = _apply(call, ranking, sent)
            except PanelOrderInvalid as exc:
                db.session.rollback()
                field = sent[exc.field] if exc.field and exc.field in sent else None
                if field is not None:
                    add_error(field, str(exc))
                else:
                    sent.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(message, "success")
                return redirect(url_for(".panel", key=call.key))
        status = 400
    page = request.args.get("page", type=int)
    return render_template(
        "coordinator/panel.html", **_page(call, ranking, sent, page), **page_helpers(call)
    ), status


def _in_group_order(form: PanelOrderForm, group: Any) -> PanelOrderForm:
    """The posted rows in the group's order, so each row's place and reason stay beside its
    own proposal whatever order they were posted in."""
    position = {row.reference: index for index, row in enumerate(group)}
    form.members.entries.sort(key=lambda e: position.get(e.form.reference.data, len(position)))
    return form


def _page(call: Any, ranking: Ranking, sent: FlaskForm | None, page: int | None) -> dict[str, Any]:
    record = panel_record(call)
    every = groups_at_the_line(ranking) if call.panel_review else []
    sent_members = (
        {str(e.form.reference.data) for e in sent.members.entries}
        if isinstance(sent, PanelOrderForm)
        else set()
    )
    members_of = [{row.reference for row in group} for group, _line in every]
    matched = sent_members in members_of
    if matched:  # the group that was sent, with its errors
        page = members_of.index(sent_members) // GROUPS_PER_PAGE + 1
    elif page is None:  # the group at the funding line: the one the panel must order
        at_line = [index for index, (_group, line) in enumerate(every) if line]
        page = (at_line[0] if at_line else 0) // GROUPS_PER_PAGE + 1
    at = window(len(every), page, GROUPS_PER_PAGE)
    groups = every[at.offset : at.offset + GROUPS_PER_PAGE]
    references = {row.reference for group, _line in groups for row in group}
    if record is not None:
        references |= set(record.comments)
    order_forms = []
    for group, _line in groups:
        if isinstance(sent, PanelOrderForm) and {row.reference for row in group} == sent_members:
            order_forms.append(_in_group_order(sent, group))  # as sent, with its errors
            continue
        data = []
        for row in group:
            placed = record.place_of(row.reference) if record else None
            data.append(
                {
                    "reference": row.reference,
                    "place": placed.place if placed else None,
                    "reason": placed.reason if placed else "",
                }
            )
        order_forms.append(PanelOrderForm(formdata=None, data={"members": data}))
    comment_form = sent if isinstance(sent, PanelCommentForm) else PanelCommentForm(formdata=None)
    report_form = (
        sent
        if isinstance(sent, PanelReportForm)
        else PanelReportForm(formdata=None, data={"report": call.panel_report})
    )
    return {
        "call": call,
        "ranking": ranking,
        "record": record,
        "groups": list(zip(groups, order_forms, strict=True)),
        "at": at,
        "group_count": len(every),
        "per_page": GROUPS_PER_PAGE,
        "proposals": proposals_by_reference(call, references) if references else {},
        "comment_form": comment_form,
        # A posted order that is no group of the ranking as it stands: its message on top.
        "unmatched": sent if isinstance(sent, PanelOrderForm) and not matched else None,
        "report_form": report_form,
        "editable": (
            call.panel_review
            and call.phase is Phase.RANKING
            and current_user.role is Role.COORDINATOR
        ),
    }
