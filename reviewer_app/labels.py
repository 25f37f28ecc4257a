"""What people read for the values the application stores: a call's phase, a ranked
proposal's status and flags, a decision's outcome, a saved version's status and path.

One definition for the pages, the exports' display columns and the PDFs; each function answers
in the current language. A value this version does not know is shown as it is stored.

The maps hold lazy translations, built once: a label costs one lookup and one translation,
which matters on pages that label every row of a large call.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import DecisionOutcome, Phase, Role, SavedThrough
from .scoring.engine import Status
from .scoring.flags import Flag, FlagKind

# Keys are StrEnum members, so the stored text ("setup") finds its label as the member does.
_PHASES: dict[str, str] = {
    Phase.SETUP: _l("Set-up"),
    Phase.EVALUATION: _l("Evaluation"),
    Phase.CONSENSUS: _l("Consensus"),
    Phase.RANKING: _l("Ranking"),
    Phase.DECIDED: _l("Decided"),
}
_STATUSES: dict[str, str] = {
    Status.MAIN: _l("Main list"),
    Status.RESERVE: _l("Reserve list"),
    Status.BELOW_THRESHOLD: _l("Below threshold"),
    Status.INCOMPLETE: _l("Incomplete"),
}
_OUTCOMES: dict[str, str] = {
    DecisionOutcome.FUNDED: _l("Funded"),
    DecisionOutcome.RESERVE: _l("Reserve"),
    DecisionOutcome.REJECTED: _l("Rejected"),
    DecisionOutcome.INELIGIBLE: _l("Ineligible"),
}
_VERSION_STATUSES: dict[str, str] = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "final": _l("final"),
}
_SAVED_THROUGH: dict[str, str] = {
    SavedThrough.PAGE: _l("saved on the page"),
    SavedThrough.AUTOSAVE: _l("saved automatically"),
    SavedThrough.IMPORT: _l("imported"),
    SavedThrough.REOPEN: _l("reopened by a coordinator"),
    SavedThrough.FINALISE: _l("made final"),
    SavedThrough.EARLIER: _l("found when the history began"),
}
# The progress dashboard's filters (coordinator/progress_page.py: PROPOSAL_STATES, EXPERT_STATES).
_PROGRESS_STATES: dict[str, str] = {
    "open": _l("Open work"),
    "complete": _l("All reviews in"),
    "conflicts": _l("With conflicts"),
    "overdue": _l("Overdue"),
    "done": _l("All done"),
}
# Where one assignment stands (expert.services.AssignmentState), as a coordinator reads it.
_ASSIGNMENT_STATES: dict[str, str] = {
    "declaration_needed": _l("No declaration yet"),
    "conflict": _l("Conflict of interest"),
    "not_started": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
}
# The scheme's rule for the individual scores of a criterion (scoring/scheme.py: AGGREGATES).
_AGGREGATES: dict[str, str] = {
    "mean": _l("mean of the reviews"),
    "median": _l("median of the reviews"),
}
# What an export or download holds (audit events' "what": ExportDownloaded).
_EXPORTS: dict[str, str] = {
    "ranking": _l("Ranking"),
    "reviews": _l("Reviews"),
    "audit": _l("Audit log"),
}
_ROLES: dict[str, str] = {
    Role.COORDINATOR: _l("coordinator"),
    Role.EXPERT: _l("expert"),
    Role.OBSERVER: _l("observer"),
}


def _label(labels: Mapping[str, str], value: str) -> str:
    return str(labels.get(value, value))


def phase_label(phase: Phase | str | None) -> str:
    return "–" if phase is None else _label(_PHASES, phase)


def status_label(status: Status | str) -> str:
    return _label(_STATUSES, status)


def outcome_label(outcome: DecisionOutcome | str | None) -> str:
    """A decision's outcome; no decision yet reads "Pending"."""
    return _("Pending") if outcome is None else _label(_OUTCOMES, outcome)


def flag_label(flag: Flag | str, titles: Mapping[str, str]) -> str:
    """A ranked proposal's flag; ``titles`` names the criteria by key."""
    try:
        parsed = flag if isinstance(flag, Flag) else Flag.parse(flag)
    except ValueError:
        return str(flag)
    if parsed.kind is FlagKind.EX_AEQUO:
        return _("ex aequo")
    if parsed.kind is FlagKind.NO_FUNDING_AMOUNT:
        return _("no funding amount")
    if parsed.kind is FlagKind.PANEL_ORDER:
        return _("placed by the panel")
    key = parsed.criterion or ""
    return _("experts disagree on %(criterion)s", criterion=titles.get(key, key))


def version_status_label(status: str) -> str:
    """The status a version was saved in (review: draft, submitted; consensus: draft, final)."""
    return _label(_VERSION_STATUSES, status)


def saved_through_label(path: SavedThrough | str) -> str:
    """How a version was saved."""
    return _label(_SAVED_THROUGH, path)


def progress_state_label(state: str) -> str:
    return _label(_PROGRESS_STATES, state)


def assignment_state_label(state: str) -> str:
    return _label(_ASSIGNMENT_STATES, state)


def expert_letter_label(letter: str) -> str:
    """An expert as the panel sees them in an anonymised call: "Expert B" (the letter from
    ``pseudonyms.panel_letters``)."""
    return _("Expert %(letter)s", letter=letter)


def role_label(role: Role | str) -> str:
    return _label(_ROLES, role)


def aggregate_label(aggregate: str) -> str:
    return _label(_AGGREGATES, aggregate)


def export_label(what: str) -> str:
    return _label(_EXPORTS, what)


def template_helpers() -> dict[str, object]:
    """The labels, for every template (registered in web.py)."""
    return {
        "phase_label": phase_label,
        "status_label": status_label,
        "outcome_label": outcome_label,
        "flag_label": flag_label,
        "version_status_label": version_status_label,
        "saved_through_label": saved_through_label,
        "progress_state_label": progress_state_label,
        "assignment_state_label": assignment_state_label,
        "aggregate_label": aggregate_label,
        "export_label": export_label,
    }
