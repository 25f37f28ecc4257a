"""The ranking page of a call, and its CSV."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from ..auth.access import role_required
from ..consensus.services import expert_labels
from ..labels import expert_letter_label
from ..models import Role
from ..ranking import rank_call, ranking_csv, rows_with_scores
from ..scoring.engine import Status
from . import bp
from .ranking_helpers import (
    load_ranked_call,
    page_helpers,
    proposals_by_reference,
    ranking_page,
)
from .view_helpers import export_response


@bp.route("/<key>/ranking")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def ranking(key: str) -> Any:
    """The scoring engine's ranking with the funding line and the scores behind every number."""
    call = load_ranked_call(key)
    result = rank_call(call)
    shown = ranking_page(
        result,
        page=request.args.get("page", 1, type=int) or 1,
        status=request.args.get("status", ""),
        query=request.args.get("q", "")[:200],
    )
    # Only the proposals on the page (and around the funding line): the work and the HTML of
    # the page stay the same whatever the size of the call.
    proposals = proposals_by_reference(call, shown.references)
    labels = {
        ref: {str(uid): label for uid, label in expert_labels(p, expert_letter_label).items()}
        for ref, p in proposals.items()
    }
    # The scores behind the numbers of the rows on the page, read for those rows alone.
    details = rows_with_scores(call, [row.reference for _i, row in shown.rows])
    # Only experts whose scores count get a column, in the same stable order as everywhere.
    columns = {
        reference: [
            (uid, label)
            for uid, label in labels[reference].items()
            if any(uid == expert for c in row.criteria for expert, _v in c.by_expert)
        ]
        for reference, row in details.items()
    }
    return render_template(
        "coordinator/ranking.html",
        call=call,
        ranking=result,
        shown=shown,
        proposals=proposals,
        columns=columns,
        details=details,
        last_main=shown.last_main,
        statuses=[s.value for s in Status],
        **page_helpers(call),
    )


@bp.route("/<key>/ranking.csv")
@role_required(Role.COORDINATOR, Role.OBSERVER)
def ranking_download(key: str) -> Any:
    """The ranking as CSV: byte for byte what ``reviewer-app ranking KEY --format csv`` prints."""
    call = load_ranked_call(key)
    text = ranking_csv(rank_call(call))
    return export_response(call, "ranking", "csv", text, mimetype="text/csv")
