"""The analytics page of a call (issue 14): agreement, leniency and how sure the ranking is,
beside the official ranking; and its figures as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ..analytics_display import agreement_reading, robustness_view
from ..auth.access import role_required
from ..call_analytics import analytics_csv, analytics_json_text, call_analytics
from ..models import Role
from . import bp
from .ranking_helpers import load_ranked_call, page_helpers, proposals_by_reference
from .view_helpers import export_response


@bp.route("/<key>/analytics")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def analytics(key: str) -> Any:
    """Agreement per criterion, each expert's leniency, and each proposal's funded probability
    and rank interval against the funding line."""
    call = load_ranked_call(key)
    made = call_analytics(call)
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
    return render_template(
        "coordinator/analytics.html",
        call=call,
        made=made,
        view=view,
        reading=agreement_reading,
        name=name,
        **page_helpers(call),
    )


@bp.route("/<key>/analytics.<any(json, csv):fmt>")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def analytics_download(key: str, fmt: str) -> Any:
    """The figures: byte for byte what ``reviewer-app analytics KEY --format FMT`` prints."""
    call = load_ranked_call(key)
    made = call_analytics(call)
    text = analytics_json_text(made) if fmt == "json" else analytics_csv(made)
    mimetype = "application/json" if fmt == "json" else "text/csv"
    return export_response(call, "analytics", fmt, text, mimetype=mimetype)
