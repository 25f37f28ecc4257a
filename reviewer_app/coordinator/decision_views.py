"""The decisions page of a call, and closing the call with them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, FormField, SelectField, TextAreaField
from wtforms.validators import Length

from .. import limits
from ..auth.access import role_required
from ..auth.stash import keeps_input_on_expiry, pop_stashed_form
from ..extensions import db
from ..formhelpers import choice, subform
from ..labels import outcome_label, phase_label
from ..models import Call, DecisionOutcome, Phase, Role
from ..ranking import rank_call
from ..scoring.engine import Ranking, Status
from . import bp
from .decisions import (
    NO_DECISION,
    DecisionEntry,
    DecisionError,
    DecisionsInvalid,
    DecisionsOverBudget,
    close_call,
    decision_rows,
    decision_state,
    funding_summary,
    outcome_counts,
    record_decisions,
    references_with_outcome,
)
from .forms import CloseCallForm, amount_field
from .ranking_helpers import RankingPage, load_ranked_call, page_helpers, ranking_page


def _decision_form_class(rows: list[Any]) -> type[FlaskForm]:
    class DecisionsForm(FlaskForm):
        pass

    choices = [choice("", _l("No decision yet"))] + [
        choice(o.value, label) for o, label in _outcome_choices()
    ]
    for row in rows:

        class RowForm(Form):  # the enclosing form carries the CSRF token
            outcome = SelectField(_l("Decision"), choices=choices)
            rationale = TextAreaField(
                _l("Rationale"), validators=[Length(max=limits.DECISION_RATIONALE)]
            )
            amount_eur = amount_field(_l("Granted amount (EUR)"))

        setattr(DecisionsForm, f"d_{row.proposal.id}", FormField(RowForm))
    return DecisionsForm


def _page_args(shown: RankingPage, decision: str) -> dict[str, Any]:
    """The page and filters, to come back to after a save."""
    args: dict[str, Any] = {"page": shown.page} if shown.page > 1 else {}
    if shown.status:
        args["status"] = shown.status
    if shown.query:
        args["q"] = shown.query
    if decision:
        args["decision"] = decision
    return args


def _shown_page(call: Call, result: Ranking) -> tuple[RankingPage, str]:
    """The page of rows the request asks for (``page``, ``status``, ``q``, and ``decision``:
    those without a decision yet, or with one outcome), and the decision filter in force."""
    asked = request.args.get("decision", "")
    only = references_with_outcome(call, asked)
    shown = ranking_page(
        result,
        page=request.args.get("page", 1, type=int) or 1,
        status=request.args.get("status", ""),
        query=request.args.get("q", "")[:200],
        only=only,
    )
    return shown, (asked if only is not None else "")


def _decision_filter() -> list[tuple[str, Any]]:
    """The decision filter's choices: none yet, then each outcome."""
    return [(NO_DECISION, _("No decision yet")), *_outcome_choices()]


def _outcome_choices() -> list[tuple[DecisionOutcome, Any]]:
    return [(outcome, outcome_label(outcome)) for outcome in DecisionOutcome]


@bp.route("/<key>/decisions", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.OBSERVER)
@keeps_input_on_expiry()
def decisions(key: str) -> Any:
    """A decision per proposal, prefilled from the ranking; saved all together or not at all."""
    call = load_ranked_call(key)
    result = rank_call(call)
    # A page of 50 at a time (the form saves the page it shows; the budget check counts every
    # decision of the call), filtered like the ranking page.
    shown, decision = _shown_page(call, result)
    rows = decision_rows(call, result, {row.reference for _i, row in shown.rows})
    here = url_for(".decisions", key=call.key, **_page_args(shown, decision))
    editable = call.phase is Phase.RANKING and current_user.role is Role.COORDINATOR
    form_class = _decision_form_class(rows)
    # Rationales sent after the session had expired come back once, to be checked and saved.
    restored = pop_stashed_form(request.path) if request.method == "GET" else None
    if restored is not None:
        db.session.commit()  # the stash is handed out once
        flash(_("We restored your unsaved input. Check it and save it again."), "warning")
    # Only a restored stash replaces the request's own form data (None would mean "none").
    restored_data = {"formdata": MultiDict(restored[1])} if restored is not None else {}
    form = form_class(
        **restored_data,
        data={
            f"d_{row.proposal.id}": {
                "outcome": (
                    row.decision.outcome.value
                    if row.decision
                    else (row.suggested.value if row.suggested else "")
                ),
                "rationale": row.decision.rationale if row.decision else row.suggested_rationale,
                "amount_eur": row.decision.amount_eur if row.decision else None,
            }
            for row in rows
        },
    )
    over_budget = False
    if form.is_submitted():
        if not editable:
            if current_user.role is not Role.COORDINATOR:
                abort(403)
            flash(
                _("Decisions can be recorded only while the call is in the ranking phase."), "error"
            )
            return redirect(here)
        if form.validate():
            entries = []
            for row in rows:
                sub = subform(form, f"d_{row.proposal.id}")
                if sub.outcome.data:  # left empty: no decision yet, nothing to record
                    entries.append(
                        DecisionEntry(
                            row.proposal,
                            DecisionOutcome(sub.outcome.data),
                            sub.rationale.data or "",
                            sub.amount_eur.data,
                        )
                    )
            try:
                written = record_decisions(call, entries, current_user, result)
            except DecisionsInvalid as exc:
                db.session.rollback()
                for proposal_id, problems in exc.errors.items():
                    for name, message in problems.items():
                        subform(form, f"d_{proposal_id}")[name].errors = [message]
                flash(str(exc), "error")
            except DecisionsOverBudget as exc:
                db.session.rollback()
                over_budget = True
                flash(str(exc), "error")
            except DecisionError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(
                    _("Decisions saved: %(num)d changed.", num=len(written))
                    if written
                    else _("No decision changed."),
                    "success",
                )
                return redirect(here)
    state = decision_state(call, result)
    return render_template(
        "coordinator/decisions.html",
        call=call,
        ranking=result,
        rows=rows,
        shown=shown,
        here=here,
        statuses=[s.value for s in Status],
        decision=decision,
        outcomes=_decision_filter(),
        no_decision=NO_DECISION,
        form=form,
        editable=editable,
        state=state,
        missing=state.missing,
        unexplained=state.unexplained,
        funding=funding_summary(call),
        decided_by=call.decided_by,
        **page_helpers(call),
    ), (400 if form.errors or over_budget else 200)


@bp.route("/<key>/decide", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def decide(key: str) -> Any:
    """Close the call after confirming its decisions, funded total and budget on this page."""
    from .phases import PhaseError, check_move

    call = load_ranked_call(key)
    if call.phase is Phase.DECIDED:
        flash(
            _("The call is already in the phase “%(phase)s”.", phase=phase_label(call.phase)),
            "info",
        )
        return redirect(url_for(".decisions", key=call.key))
    form = CloseCallForm()
    error = None
    if form.validate_on_submit():
        try:
            close_call(call, current_user, confirmed=form.confirm.data)
        except PhaseError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash(_("The call is decided. Decisions and scores are now read-only."), "success")
            return redirect(url_for(".decisions", key=call.key))
    try:
        check_move(call, Phase.DECIDED, confirm_close=True)
    except PhaseError as exc:
        error = exc.message
    # What is confirmed is the whole call (the counts, the funded total, every decision); the
    # table shows 50 rows a page, filtered like the decisions page (10,000 rows were 3 MB).
    result = rank_call(call)
    shown, decision = _shown_page(call, result)
    return render_template(
        "coordinator/decide.html",
        call=call,
        rows=decision_rows(call, result, {row.reference for _i, row in shown.rows}),
        shown=shown,
        decision=decision,
        outcomes=_decision_filter(),
        here=url_for(".decide", key=call.key, **_page_args(shown, decision)),
        statuses=[s.value for s in Status],
        total=len(result.rows),
        counts=outcome_counts(call),
        funding=funding_summary(call),
        form=form,
        error=error,
        **page_helpers(call),
    ), (400 if form.is_submitted() else 200)
