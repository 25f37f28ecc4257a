"""The analytics page of a call (issue 14): agreement, leniency and how sure the ranking is,
beside the official ranking; and its figures as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..analytics import DEFAULT_SAMPLES
from ..analytics_display import agreement_reading, lottery_rows, robustness_view
from ..auth.access import role_required
from ..call_analytics import (
    CallAnalytics,
    analytics_csv,
    analytics_json_text,
    analytics_of_job,
    call_analytics,
    computed_in_background,
    draw_lottery,
    lottery_rule,
    publish_lottery_seed,
    published_draw,
)
from ..extensions import db
from ..models import Call, JobStatus, ReportJob, ReportKind, Role
from ..ranking import rank_call
from ..refusals import back_on_refusal
from ..reports.jobs import request_report
from . import bp
from .forms import LotteryDrawForm, LotterySeedForm
from .ranking_helpers import load_ranked_call, page_helpers, proposals_by_reference
from .view_helpers import export_response


def _figures(call: Call) -> CallAnalytics | ReportJob:
    """The figures, computed here for a call of up to ``ANALYTICS_INLINE_PROPOSALS``; for a
    larger one read from the report job that computes them (the job while it runs)."""
    if not computed_in_background(call, current_app.config["ANALYTICS_INLINE_PROPOSALS"]):
        return call_analytics(call)
    job = request_report(call, ReportKind.ANALYTICS, "en", current_user)
    if job.status is not JobStatus.DONE:
        return job
    return analytics_of_job(job, rank_call(call))


@bp.route("/<key>/analytics")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def analytics(key: str) -> Any:
    """Agreement per criterion, each expert's leniency, and each proposal's funded probability
    and rank interval against the funding line."""
    call = load_ranked_call(key)
    made = _figures(call)
    if isinstance(made, ReportJob):  # a large call's figures, still being computed
        return render_template(
            "coordinator/analytics.html",
            call=call,
            job=made,
            samples=DEFAULT_SAMPLES,
            **page_helpers(call),
        )
    shown = {
        p.reference
        for p in made.proposals
        if p.crosses_line or p.side_changes or p.official_rank is not None
    }
    proposals = proposals_by_reference(call, shown) if len(shown) <= 200 else {}

    def name(reference: str) -> str:
        p = proposals.get(reference)
        return f"{reference} {p.acronym}".strip() if p is not None else reference

    # Experts by e-mail for staff: the analytics describe people's scoring, as the progress
    # page does; the page is coordinators' and observers' only.
    view = robustness_view(made, name, lambda expert: made.emails.get(expert, expert))
    rule = lottery_rule(call)
    drawn = published_draw(call)
    return render_template(
        "coordinator/analytics.html",
        call=call,
        made=made,
        rule=rule,
        lottery=drawn,
        lottery_table=lottery_rows(drawn) if drawn is not None else None,
        seed_form=LotterySeedForm(formdata=None),
        draw_form=LotteryDrawForm(formdata=None),
        probability={p.reference: p.funded_probability for p in made.proposals},
        view=view,
        reading=agreement_reading,
        name=name,
        **page_helpers(call),
    )


@bp.route("/<key>/analytics/lottery-seed", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".analytics")
def lottery_seed(key: str) -> Any:
    """Publish the seed of the call's partial lottery (once, audited, while the evaluation is
    open)."""
    call = load_ranked_call(key)
    form = LotterySeedForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for(".analytics", key=call.key, _anchor="lottery"))
    publish_lottery_seed(call, form.seed.data or 0, actor=current_user)
    db.session.commit()
    flash(_("The seed is published."), "success")
    return redirect(url_for(".analytics", key=call.key, _anchor="lottery"))


@bp.route("/<key>/analytics/lottery-draw", methods=["POST"])
@role_required(Role.COORDINATOR)
@back_on_refusal(".analytics")
def lottery_draw(key: str) -> Any:
    """Draw the call's partial lottery with its published seed (once, in the ranking phase)."""
    call = load_ranked_call(key)
    form = LotteryDrawForm()
    if not form.validate_on_submit():
        abort(400)
    draw_lottery(call, actor=current_user)
    db.session.commit()
    flash(_("The lottery is drawn; its result is kept as it is."), "success")
    return redirect(url_for(".analytics", key=call.key, _anchor="lottery"))


@bp.route("/<key>/analytics.<any(json, csv):fmt>")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def analytics_download(key: str, fmt: str) -> Any:
    """The figures, with the call's lottery once drawn: byte for byte what ``reviewer-app
    analytics KEY --format FMT`` prints."""
    call = load_ranked_call(key)
    made = _figures(call)
    if isinstance(made, ReportJob):
        return redirect(url_for(".analytics", key=call.key))
    drawn = published_draw(call)
    text = (
        analytics_json_text(made, lottery=drawn)
        if fmt == "json"
        else analytics_csv(made, lottery=drawn)
    )
    mimetype = "application/json" if fmt == "json" else "text/csv"
    return export_response(call, "analytics", fmt, text, mimetype=mimetype)
