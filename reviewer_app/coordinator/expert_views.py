"""Experts of a call: invitations and the assignment matrix."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.access import role_required
from ..extensions import db
from ..formhelpers import add_error
from ..loaders import call_or_404, expert_or_404, proposal_or_404, user_or_404
from ..mail import MailError
from ..models import Call, Proposal, Role, User
from ..refusals import back_on_refusal, refusal_goes_to
from . import bp
from .expert_page import change_assignments, expert_in_call
from .experts import (
    ExpertError,
    assignment_matrix,
    auto_assign,
    block_reason_label,
    invite_expert,
    parse_keywords,
    resend_invitation,
    set_rapporteur,
    toggle_assignment,
)
from .forms import InviteForm, PairForm
from .proposals import references_by_id


def _mail_failed(exc: MailError) -> str:
    return _(
        "The e-mail could not be sent (%(error)s). Nothing was saved; try again later.",
        error=str(exc),
    )


@bp.route("/<key>/assignments")
@role_required(Role.COORDINATOR)
def assignments(key: str) -> Any:
    """The assignment matrix: proposals x experts, loads, staffing, rapporteurs."""
    call = call_or_404(key)
    proposal_query = request.args.get("q", "").strip()
    expert_query = request.args.get("expert", "").strip()
    matrix = assignment_matrix(
        call,
        proposal_query=proposal_query,
        expert_query=expert_query,
        row_page=request.args.get("rows", 1, type=int) or 1,
        column_page=request.args.get("columns", 1, type=int) or 1,
    )
    return render_template(
        "coordinator/assignments.html",
        call=call,
        matrix=matrix,
        proposal_query=proposal_query,
        expert_query=expert_query,
        filtered=bool(proposal_query or expert_query),
        form=FlaskForm(),
        block_label=block_reason_label,
        editable=call.phase in ("setup", "evaluation"),
    )


@bp.route("/<key>/experts/invite", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def invite(key: str) -> Any:
    """Invite an expert: the account is created and a single-use link is e-mailed."""
    call = call_or_404(key)
    form = InviteForm()
    error = None
    if form.validate_on_submit():
        try:
            user = invite_expert(
                name=form.name.data or "",
                email=form.email.data or "",
                organisation=form.organisation.data or "",
                country=form.country.data or None,
                expertise=parse_keywords(form.expertise.data or ""),
                language=form.language.data,
                invited_by=current_user,
                call=call,
            )
        except ExpertError as exc:
            db.session.rollback()
            add_error(getattr(form, exc.field or "email"), exc.message)
        except MailError as exc:
            db.session.rollback()
            error = _mail_failed(exc)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s is invited; the invitation went to %(email)s.",
                    name=user.name,
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for(".assignments", key=call.key))
    return render_template("coordinator/invite.html", call=call, form=form, error=error), (
        400 if form.errors or error else 200
    )


@bp.route("/<key>/experts/<int:user_id>/reinvite", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".assignments")
def reinvite(key: str, user_id: int) -> Any:
    """Send a fresh invitation link to an expert who has not signed in yet."""
    call = call_or_404(key)
    user = expert_or_404(user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        resend_invitation(user, current_user, call)
    except MailError as exc:
        db.session.rollback()
        flash(_mail_failed(exc), "error")
    else:
        db.session.commit()
        flash(_("A new invitation went to %(email)s.", email=user.email), "success")
    return redirect(url_for(".assignments", key=call.key))


def _matrix_url(key: str, anchor: str) -> str:
    """The matrix, keeping the filter the coordinator was using."""
    target = url_for(".assignments", key=key)
    back = urlsplit(request.referrer or "")
    query = back.query if back.netloc == request.host and back.path == target else ""
    return f"{target}{'?' + query if query else ''}#{anchor}"


def _back_to_matrix(key: str, anchor: str) -> Any:
    return redirect(_matrix_url(key, anchor))


def _pair(call: Call) -> tuple[Proposal, User]:
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    return proposal_or_404(call, form.proposal_id.data), user_or_404(form.expert_id.data)


@bp.route("/<key>/assignments/toggle", methods=["POST"])
@role_required(Role.COORDINATOR)
def toggle(key: str) -> Any:
    """Assign one expert to one proposal, or remove that assignment."""
    call = call_or_404(key)
    proposal, expert = _pair(call)
    refusal_goes_to(_matrix_url(call.key, f"p{proposal.id}"))
    assigned = toggle_assignment(call, proposal, expert, actor=current_user)
    db.session.commit()
    message = (
        _(
            "%(expert)s is assigned to %(proposal)s.",
            expert=expert.name,
            proposal=proposal.reference,
        )
        if assigned
        else _(
            "%(expert)s is no longer assigned to %(proposal)s.",
            expert=expert.name,
            proposal=proposal.reference,
        )
    )
    flash(message, "success")
    return _back_to_matrix(call.key, f"p{proposal.id}")


@bp.route("/<key>/assignments/rapporteur", methods=["POST"])
@role_required(Role.COORDINATOR)
def rapporteur(key: str) -> Any:
    """Make one assigned expert the rapporteur of a proposal."""
    call = call_or_404(key)
    proposal, expert = _pair(call)
    refusal_goes_to(_matrix_url(call.key, f"p{proposal.id}"))
    set_rapporteur(call, proposal, expert, actor=current_user)
    db.session.commit()
    flash(
        _(
            "%(expert)s is the rapporteur of %(proposal)s.",
            expert=expert.name,
            proposal=proposal.reference,
        ),
        "success",
    )
    return _back_to_matrix(call.key, f"p{proposal.id}")


@bp.route("/<key>/assignments/auto", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".assignments")
def auto(key: str) -> Any:
    """Assign experts automatically, respecting conflicts and keeping loads even."""
    call = call_or_404(key)
    if not FlaskForm().validate_on_submit():
        abort(400)
    plan = auto_assign(call, actor=current_user)
    db.session.commit()
    flash(
        _(
            "Automatic assignment: %(new)s new assignments, %(rapporteurs)s rapporteurs chosen.",
            new=len(plan.new),
            rapporteurs=len(plan.rapporteurs),
        ),
        "success",
    )
    if plan.shortfalls:
        references = references_by_id(call)
        for short in plan.shortfalls:
            reasons = ", ".join(
                f"{block_reason_label(reason)}: {count}" for reason, count in short.blocked.items()
            )
            flash(
                _(
                    "%(proposal)s has only %(have)s of %(need)s experts: no other active expert "
                    "is eligible (%(reasons)s). Invite more experts.",
                    proposal=references.get(short.proposal_id, short.proposal_id),
                    have=short.assigned,
                    need=short.needed,
                    reasons=reasons or _("not enough experts"),
                ),
                "warning",
            )
    return redirect(url_for(".assignments", key=call.key))


def active_expert_or_404(user_id: int) -> User:
    """An expert who may be assigned (the matrix lists only active experts)."""
    expert = expert_or_404(user_id)
    if not expert.active:
        abort(404)
    return expert


@bp.route("/<key>/experts/<int:user_id>")
@role_required(Role.COORDINATOR)
def expert_page(key: str, user_id: int) -> Any:
    """One expert in the call: their assignments, and the proposals they could take, with
    several changed at once (a large call is staffed expert by expert)."""
    call = call_or_404(key)
    expert = active_expert_or_404(user_id)
    query = request.args.get("q", "").strip()
    return render_template(
        "coordinator/expert_page.html",
        call=call,
        view=expert_in_call(
            call,
            expert,
            query=query,
            page=request.args.get("page", 1, type=int) or 1,
            candidate_page=request.args.get("offer", 1, type=int) or 1,
        ),
        query=query,
        form=FlaskForm(),
        block_label=block_reason_label,
        editable=call.phase in ("setup", "evaluation"),
    )


@bp.route("/<key>/experts/<int:user_id>/assignments", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".expert_page")
def change_expert_assignments(key: str, user_id: int) -> Any:
    """Assign the expert to every ticked proposal, or remove every ticked assignment: all or
    nothing."""
    call = call_or_404(key)
    expert = active_expert_or_404(user_id)
    action = request.form.get("action")
    if not FlaskForm().validate_on_submit() or action not in ("assign", "remove"):
        abort(400)
    ids = request.form.getlist("proposal_id", type=int)
    back = url_for(".expert_page", key=call.key, user_id=expert.id)
    if not ids:
        flash(_("Tick at least one proposal first."), "warning")
        return redirect(back)
    changed = change_assignments(call, expert, ids, assign=action == "assign", actor=current_user)
    db.session.commit()
    if action == "assign":
        message = ngettext(
            "%(expert)s is assigned to %(num)s more proposal.",
            "%(expert)s is assigned to %(num)s more proposals.",
            changed,
            expert=expert.name,
        )
    else:
        message = ngettext(
            "%(expert)s is no longer assigned to %(num)s proposal.",
            "%(expert)s is no longer assigned to %(num)s proposals.",
            changed,
            expert=expert.name,
        )
    flash(message, "success")
    return redirect(back)
