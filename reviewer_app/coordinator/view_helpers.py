"""What the coordinator's pages share: the phases' names and effects, the helpers every page
template reads, and the answer to a change that lost a race with another."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..audit.events import ExportDownloaded
from ..extensions import db
from ..models import Call, Phase, Role
from ..models.audit import record
from . import bp

PHASE_EFFECTS = {
    Phase.EVALUATION: _l(
        "Experts see their assignments, declare conflicts and write their reviews. "
        "Proposals can no longer be added or imported."
    ),
    Phase.CONSENSUS: _l(
        "Individual reviews are frozen: experts can no longer change or submit them. "
        "Rapporteurs draft the consensus reports."
    ),
    Phase.RANKING: _l(
        "Consensus reports are frozen. The ranking is computed and decisions can be recorded."
    ),
    Phase.DECIDED: _l(
        "Everything is frozen: decisions, scores and reports can no longer change. "
        "This cannot be undone."
    ),
}


@bp.context_processor
def coordinator_helpers() -> dict[str, Any]:
    return {
        "phase_order": list(Phase),
        "has_endpoint": lambda name: name in current_app.view_functions,
        "is_coordinator": current_user_is_coordinator(),
    }


def current_user_is_coordinator() -> bool:

    return bool(current_user.is_authenticated and current_user.role is Role.COORDINATOR)


@bp.errorhandler(IntegrityError)
def concurrent_change(_error: IntegrityError) -> Any:
    """Two people saved the same thing at the same moment: the database kept the first."""
    db.session.rollback()
    flash(
        _("Someone else changed the same data at the same moment. Nothing was saved; try again."),
        "error",
    )
    back = urlsplit(request.referrer or "")
    if back.netloc == request.host and back.path.startswith("/"):
        return redirect(back.path + (f"?{back.query}" if back.query else ""))
    key = (request.view_args or {}).get("key")
    return redirect(url_for(".call_detail", key=key) if key else url_for(".calls"))


def export_response(
    call: Call, what: str, fmt: str, body: str | Iterable[str], *, mimetype: str
) -> Response:
    """A call's export as a download named ``<key>-<what>.<fmt>``, its reading audited and
    committed first (a download is on the record even if the transfer breaks off)."""
    record(ExportDownloaded(what=what, format=fmt), call, call_id=call.id, actor_id=current_user.id)
    db.session.commit()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{call.key}-{what}.{fmt}"'
    return response
