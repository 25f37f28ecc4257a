"""What people read for the values the application stores: a call's phase, a ranked
proposal's status and flags, a decision's outcome, a saved version's status and path.

One definition for the pages, the exports' display columns and the PDFs; each function answers
in the current language. A value this version does not know is shown as it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from .models import DecisionOutcome, Phase, Role, SavedThrough
from .scoring.engine import Status
from .scoring.flags import Flag, FlagKind


def phase_label(phase: Phase | str | None) -> str:
    if phase is None:
        return "–"
    labels = {
        Phase.SETUP: _("Set-up"),
        Phase.EVALUATION: _("Evaluation"),
        Phase.CONSENSUS: _("Consensus"),
        Phase.RANKING: _("Ranking"),
        Phase.DECIDED: _("Decided"),
    }
    return labels.get(Phase(phase), str(phase)) if phase in set(Phase) else str(phase)


def status_label(status: Status | str) -> str:
    labels = {
        Status.MAIN: _("Main list"),
        Status.RESERVE: _("Reserve list"),
        Status.BELOW_THRESHOLD: _("Below threshold"),
        Status.INCOMPLETE: _("Incomplete"),
    }
    return labels[Status(status)] if status in set(Status) else str(status)


def outcome_label(outcome: DecisionOutcome | str | None) -> str:
    """A decision's outcome; no decision yet reads "Pending"."""
    if outcome is None:
        return _("Pending")
    labels = {
        DecisionOutcome.FUNDED: _("Funded"),
        DecisionOutcome.RESERVE: _("Reserve"),
        DecisionOutcome.REJECTED: _("Rejected"),
        DecisionOutcome.INELIGIBLE: _("Ineligible"),
    }
    return labels[DecisionOutcome(outcome)] if outcome in set(DecisionOutcome) else str(outcome)


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
    key = parsed.criterion or ""
    return _("experts disagree on %(criterion)s", criterion=titles.get(key, key))


def version_status_label(status: str) -> str:
    """The status a version was saved in (review: draft, submitted; consensus: draft, final)."""
    labels = {"draft": _("draft"), "submitted": _("submitted"), "final": _("final")}
    return labels.get(status, status)


def saved_through_label(path: SavedThrough | str) -> str:
    """How a version was saved."""
    labels = {
        SavedThrough.PAGE: _("saved on the page"),
        SavedThrough.AUTOSAVE: _("saved automatically"),
        SavedThrough.IMPORT: _("imported"),
        SavedThrough.REOPEN: _("reopened by a coordinator"),
        SavedThrough.FINALISE: _("made final"),
        SavedThrough.EARLIER: _("found when the history began"),
    }
    return labels[SavedThrough(path)] if path in set(SavedThrough) else str(path)


def role_label(role: Role | str) -> str:
    labels = {
        Role.COORDINATOR: _("coordinator"),
        Role.EXPERT: _("expert"),
        Role.OBSERVER: _("observer"),
    }
    return labels[Role(role)] if role in set(Role) else str(role)


def template_helpers() -> dict[str, object]:
    """The labels, for every template (registered in web.py)."""
    return {
        "phase_label": phase_label,
        "status_label": status_label,
        "outcome_label": outcome_label,
        "flag_label": flag_label,
        "version_status_label": version_status_label,
        "saved_through_label": saved_through_label,
    }
