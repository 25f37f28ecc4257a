"""Pages of a call: the list, creating and editing a call, its scheme, its overview and its
phases, reopening a review."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..auth.access import role_required
from ..display import language_name, reader_language, scheme_for_reader
from ..extensions import db
from ..formhelpers import add_error, choice
from ..labels import phase_label
from ..loaders import call_or_404, review_or_404
from ..mail import MailError
from ..models import Assignment, Phase, Review, Role
from ..reports.formatting import Formatter
from ..reports.method import rules_text
from ..scoring.scheme import SchemeError
from . import bp
from .calls import (
    CallFrozen,
    CallKeyTaken,
    call_summaries,
    create_call,
    read_scheme_source,
    scheme_files,
    update_call,
)
from .experts import notify_reopened
from .forms import CallCreateForm, CallSettingsForm, PhaseForm, ReopenForm, lottery_percent
from .phases import (
    PhaseError,
    ReopenError,
    check_move,
    move_phase,
    next_phase,
    reopen_review,
    unfinished_consensus,
)
from .view_helpers import PHASE_EFFECTS


@bp.route("/")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def calls() -> Any:
    """Every call with its phase, counts and deadline."""
    return render_template("coordinator/calls.html", summaries=call_summaries())


def _scheme_choices() -> list[tuple[str, str]]:
    choices = [choice("", _("— choose a scheme file —"))]
    for item in scheme_files(current_app.config["CRITERIA_DIR"]):
        label = f"{item.name} · {item.title}"
        if item.problems:
            label = f"{item.name} · " + _("invalid: %(problem)s", problem=item.problems[0])
        choices.append(choice(item.name, label))
    return choices


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def new_call() -> Any:
    """Create a call from a scheme file of the criteria folder or an uploaded one."""
    form = CallCreateForm()
    form.scheme_file.choices = _scheme_choices()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            scheme, text = read_scheme_source(
                current_app.config["CRITERIA_DIR"],
                form.scheme_file.data,
                form.scheme_upload.data,
            )
            call = create_call(
                scheme,
                text,
                key=form.key.data or "",
                title=form.title.data or "",
                budget_eur=form.budget_eur.data,
                deadline=form.deadline.data,
                anonymise_experts=form.anonymise_experts.data,
                reviews_open_after_submit=form.reviews_open_after_submit.data,
                panel_review=form.panel_review.data,
                lottery_percent=lottery_percent(form),
                consensus_deadline=form.consensus_deadline.data,
                actor=current_user,
            )
        except SchemeError as exc:
            problems = [str(p) for p in exc.problems]
        except CallKeyTaken:
            add_error(form.key, _("Another call already uses this key."))
        else:
            db.session.commit()
            flash(_("The call “%(title)s” is created.", title=call.title), "success")
            return redirect(url_for(".call_detail", key=call.key))
    status = 400 if (form.errors or problems) else 200
    return render_template("coordinator/call_new.html", form=form, problems=problems), status


@bp.route("/<key>/")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def call_detail(key: str) -> Any:
    """A call's overview: phase, counts, the next step and links to every page of the call."""
    call = call_or_404(key)
    [summary] = call_summaries([call])
    target = next_phase(call.phase)
    blocker = None
    if target is not None:
        try:
            check_move(
                call,
                target,
                confirm_open_reviews=True,
                confirm_unfinished_consensus=True,
                confirm_close=True,
            )
        except PhaseError as exc:
            blocker = exc.message
    return render_template(
        "coordinator/call_detail.html",
        call=call,
        summary=summary,
        scheme=scheme_for_reader(call.scheme),
        target=target,
        blocker=blocker,
    )


@bp.route("/<key>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit_call(key: str) -> Any:
    """Edit the title, budget, deadline and anonymisation of a call."""
    call = call_or_404(key)
    form = CallSettingsForm(obj=call)
    if call.phase is Phase.DECIDED:
        flash(_("The call is decided: its settings can no longer change."), "warning")
        return redirect(url_for(".call_detail", key=call.key))
    if form.validate_on_submit():
        try:
            changes = update_call(
                call,
                title=form.title.data or "",
                budget_eur=form.budget_eur.data,
                deadline=form.deadline.data,
                anonymise_experts=form.anonymise_experts.data,
                reviews_open_after_submit=form.reviews_open_after_submit.data,
                panel_review=form.panel_review.data,
                lottery_percent=lottery_percent(form),
                consensus_deadline=form.consensus_deadline.data,
                actor=current_user,
            )
        except CallFrozen as exc:
            if exc.field is None:
                abort(409)
            db.session.rollback()
            add_error(form[exc.field], str(exc))
            return render_template("coordinator/call_edit.html", call=call, form=form), 400
        db.session.commit()
        flash(_("The call is saved.") if changes else _("Nothing changed."), "success")
        return redirect(url_for(".call_detail", key=call.key))
    return render_template("coordinator/call_edit.html", call=call, form=form), (
        400 if form.errors else 200
    )


@bp.route("/<key>/scheme")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def call_scheme(key: str) -> Any:
    """The call's criteria, questions, scale, thresholds, weights and rules as experts see them."""
    call = call_or_404(key)
    scheme = scheme_for_reader(call.scheme)
    # The same sentences as the decision report's method chapter (one rules text).
    rules = rules_text(
        scheme, call.budget_eur, Formatter(reader_language()), panel=call.panel_review
    )
    languages = [language_name(lang) for lang in call.scheme.languages]
    return render_template(
        "coordinator/scheme.html",
        call=call,
        scheme=scheme,
        rules=rules,
        languages=languages,
        untranslated=call.scheme.untranslated(),
    )


@bp.route("/<key>/phase", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def change_phase(key: str) -> Any:
    """Confirm and make the move of a call to its next phase."""
    call = call_or_404(key)
    target = next_phase(call.phase)
    if target is Phase.DECIDED:
        # Closing the call has a page of its own: the decisions, the funded total, the budget.
        return redirect(url_for(".decide", key=call.key))
    form = PhaseForm()
    error = None
    if request.method == "GET":
        form.target.data = target.value if target else ""
        if target is not None:
            try:
                check_move(
                    call, target, confirm_open_reviews=True, confirm_unfinished_consensus=True
                )
            except PhaseError as exc:
                error = exc.message
    elif form.validate_on_submit():
        try:
            wanted = Phase(form.target.data or "")
        except ValueError:
            abort(400)
        try:
            move_phase(
                call,
                wanted,
                confirm_open_reviews=form.confirm_open_reviews.data,
                confirm_unfinished_consensus=form.confirm_unfinished_consensus.data,
                actor=current_user,
            )
        except PhaseError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash(
                _("The call is now in the phase “%(phase)s”.", phase=phase_label(wanted)),
                "success",
            )
            return redirect(url_for(".call_detail", key=call.key))
    else:
        abort(400)
    open_reviews = 0
    if target is Phase.CONSENSUS:
        from .phases import open_review_count

        open_reviews = open_review_count(call)
    unfinished = unfinished_consensus(call) if target is Phase.RANKING else []
    return render_template(
        "coordinator/phase.html",
        call=call,
        target=target,
        form=form,
        error=error,
        effect=PHASE_EFFECTS.get(target) if target else None,
        open_reviews=open_reviews,
        unfinished=unfinished,
    ), (400 if request.method == "POST" else 200)


@bp.route("/<key>/reviews/<int:review_id>/reopen", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def reopen(key: str, review_id: int) -> Any:
    """Reopen one submitted review during evaluation, with a reason."""
    call = call_or_404(key)
    review = review_or_404(
        call, review_id, joinedload(Review.assignment).joinedload(Assignment.expert)
    )
    form = ReopenForm()
    error = None
    if form.validate_on_submit():
        try:
            reason = form.reason.data or ""
            reopen_review(review, reason, actor=current_user)
            notify_reopened(review, reason)
        except ReopenError as exc:
            db.session.rollback()
            error = exc.message
        except MailError as exc:
            db.session.rollback()
            error = _(
                "The e-mail to the expert could not be sent (%(error)s). The review stays "
                "submitted; try again later.",
                error=str(exc),
            )
        else:
            db.session.commit()
            flash(
                _(
                    "The review of %(expert)s on %(proposal)s is open again.",
                    expert=review.assignment.expert.name,
                    proposal=review.assignment.proposal.reference,
                ),
                "success",
            )
            return redirect(
                url_for(".proposal_detail", key=call.key, proposal_id=review.assignment.proposal_id)
            )
    return render_template(
        "coordinator/reopen.html", call=call, review=review, form=form, error=error
    ), (400 if form.errors or error else 200)
