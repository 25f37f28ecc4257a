"""Every kind of audit event, defined once: the code that records and the code that reads both
use these classes, so a key cannot be written one way and read another.

Each event is a frozen dataclass with its ``action`` name. ``to_data()`` gives the JSON stored
in ``audit_events.data``; ``from_data()`` reads it back into the same class, typed (phases and
outcomes as their enums). ``parse(action, data)`` finds the class by action name. A field
marked ``confidential`` (a conflict-of-interest reason) is shown to coordinators only.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from flask_babel import lazy_gettext as _l

from ..models.calls import Phase
from ..models.jobs import ReportKind
from ..models.reviews import DecisionOutcome

CONFIDENTIAL = {"confidential": True}


class AuditData:
    """Base of every event. Subclasses are frozen dataclasses with an ``action``."""

    action: ClassVar[str]
    label: ClassVar[Any]  # what people read for the action (a lazy translation)
    # A read (a download) changes nothing: it is recorded, but a report made before and after
    # it describes the same state, so the chain head a report carries skips reads.
    is_read: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[AuditData]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        action = cls.__dict__.get("action")
        if action is not None:
            if action in AuditData.registry:
                raise TypeError(f"two audit events for {action!r}")
            if "label" not in cls.__dict__:
                raise TypeError(f"the audit event {action!r} has no label")
            AuditData.registry[action] = cls

    def to_data(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        hints = get_type_hints(cls)
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                values[f.name] = _typed(hints[f.name], data[f.name])
            elif f.default is MISSING and f.default_factory is MISSING:
                values[f.name] = None  # written before the field existed
        return cls(**values)

    @classmethod
    def confidential_fields(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls) if f.metadata.get("confidential"))  # type: ignore[arg-type]


def label_of(action: str) -> str:
    """What people read for ``action``, in the current language; the code itself for an action
    this version does not know."""
    kind = AuditData.registry.get(action)
    return str(kind.label) if kind is not None else action


def parse(action: str, data: dict[str, Any]) -> AuditData | None:
    """The typed event of a stored row, or None for an action this version does not know."""
    kind = AuditData.registry.get(action)
    return kind.from_data(data or {}) if kind is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        for option in get_args(hint):
            if option is not type(None):
                return _typed(option, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


# --- accounts -------------------------------------------------------------------------------


class SignInFailure(StrEnum):
    PASSWORD = "password"
    CODE = "code"
    LOCKED = "locked"
    WRONG = "wrong"  # re-authentication on the account page


@dataclass(frozen=True)
class UserCreated(AuditData):
    action = "user.create"
    label = _l("Account created")
    email: str
    role: str


@dataclass(frozen=True)
class UserInvited(AuditData):
    action = "user.invite"
    label = _l("Invitation sent")
    email: str
    earlier_links_ended: int = 0


@dataclass(frozen=True)
class ResetLinkSent(AuditData):
    action = "user.password_reset_link"
    label = _l("Password reset link sent")
    email: str
    earlier_links_ended: int = 0


@dataclass(frozen=True)
class ResetLinkRefused(AuditData):
    """A reset asked for an unknown or inactive address, or over the hourly limit."""

    action = "user.password_reset_refused"
    label = _l("Password reset refused")
    email: str


@dataclass(frozen=True)
class InvitationAccepted(AuditData):
    action = "user.accept_invitation"
    label = _l("Invitation accepted")
    sessions_ended: int = 0


@dataclass(frozen=True)
class PasswordReset(AuditData):
    action = "user.password_reset"
    label = _l("Password reset")
    sessions_ended: int = 0


@dataclass(frozen=True)
class PasswordChanged(AuditData):
    action = "user.password_change"
    label = _l("Password changed")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class SignedIn(AuditData):
    action = "user.login"
    label = _l("Signed in")
    two_factor: bool = False


@dataclass(frozen=True)
class SignInFailed(AuditData):
    action = "user.login_failed"
    label = _l("Sign-in failed")
    email: str
    reason: SignInFailure
    locked_now: bool = False


@dataclass(frozen=True)
class ReauthenticationFailed(AuditData):
    action = "user.reauth_failed"
    label = _l("Password check failed")
    reason: SignInFailure
    locked_now: bool = False


@dataclass(frozen=True)
class SignedOut(AuditData):
    action = "user.logout"
    label = _l("Signed out")


@dataclass(frozen=True)
class OtherSessionsEnded(AuditData):
    action = "user.sessions_ended"
    label = _l("Sessions ended")
    count: int


@dataclass(frozen=True)
class RecoveryCodeUsed(AuditData):
    action = "user.recovery_code_used"
    label = _l("Recovery code used")
    left: int


@dataclass(frozen=True)
class RecoveryCodesRenewed(AuditData):
    action = "user.recovery_codes_renewed"
    label = _l("Recovery codes renewed")


@dataclass(frozen=True)
class TwoFactorEnabled(AuditData):
    action = "user.two_factor_enable"
    label = _l("Two-factor sign-in turned on")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class TwoFactorDisabled(AuditData):
    action = "user.two_factor_disable"
    label = _l("Two-factor sign-in turned off")
    other_sessions_ended: int = 0


@dataclass(frozen=True)
class TwoFactorReset(AuditData):
    action = "user.two_factor_reset"
    label = _l("Two-factor sign-in reset")
    sessions_ended: int = 0


# --- calls and proposals ------------------------------------------------------------------


@dataclass(frozen=True)
class CallCreated(AuditData):
    action = "call.create"
    label = _l("Call created")
    key: str
    scheme: str
    scheme_sha256: str


@dataclass(frozen=True)
class CallUpdated(AuditData):
    action = "call.update"
    label = _l("Call changed")
    changes: dict[str, Any]  # field -> [old, new]


@dataclass(frozen=True)
class PhaseMoved(AuditData):
    action = "call.phase"
    label = _l("Phase moved")
    from_phase: Phase
    to_phase: Phase
    # Reviews still open when the evaluation closed (they no longer count).
    open_reviews: int | None = None
    # Consensus reports not final when the call moved to ranking.
    unfinished_consensus: int | None = None


@dataclass(frozen=True)
class CallDecided(AuditData):
    action = "call.decide"
    label = _l("Call decided")
    decisions: dict[str, int]  # outcome -> count
    funded_total_eur: str | None = None
    budget_eur: str | None = None


@dataclass(frozen=True)
class ProposalCreated(AuditData):
    action = "proposal.create"
    label = _l("Proposal added")
    reference: str


@dataclass(frozen=True)
class ProposalUpdated(AuditData):
    action = "proposal.update"
    label = _l("Proposal changed")
    changes: dict[str, Any]


@dataclass(frozen=True)
class ProposalsImported(AuditData):
    action = "proposal.import"
    label = _l("Proposals imported")
    count: int
    references: list[str]


@dataclass(frozen=True)
class DocumentUploaded(AuditData):
    action = "document.upload"
    label = _l("Document uploaded")
    proposal: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class DocumentDeleted(AuditData):
    action = "document.delete"
    label = _l("Document deleted")
    proposal: str
    filename: str


# --- experts and assignments ----------------------------------------------------------------


@dataclass(frozen=True)
class ExpertInvited(AuditData):
    action = "expert.invite"
    label = _l("Expert invited")
    email: str


@dataclass(frozen=True)
class AssignmentAdded(AuditData):
    action = "assignment.add"
    label = _l("Expert assigned")
    proposal: str  # reference
    expert_id: int


@dataclass(frozen=True)
class AssignmentRemoved(AuditData):
    action = "assignment.remove"
    label = _l("Assignment removed")
    proposal: str
    expert_id: int


@dataclass(frozen=True)
class RapporteurChosen(AuditData):
    action = "assignment.rapporteur"
    label = _l("Rapporteur chosen")
    proposal: str
    expert_id: int


@dataclass(frozen=True)
class AutoAssigned(AuditData):
    action = "assignment.auto"
    label = _l("Experts assigned automatically")
    new: list[list[int]]  # [proposal id, expert id]
    rapporteurs: list[list[int]]
    shortfalls: list[int]  # proposal ids


@dataclass(frozen=True)
class DueDateSet(AuditData):
    action = "assignment.due_date"
    label = _l("Due date set")
    due_date: str | None  # ISO date, None: back to the call's deadline
    proposals: list[str]


@dataclass(frozen=True)
class ReminderSent(AuditData):
    action = "reminder.send"
    label = _l("Reminder sent")
    proposals: list[str]


@dataclass(frozen=True)
class RapporteurReminded(AuditData):
    action = "consensus.remind"
    label = _l("Rapporteur reminded")
    proposals: list[str]  # whose consensus reports were not final


@dataclass(frozen=True)
class ConflictDeclared(AuditData):
    action = "assignment.declare"
    label = _l("Conflict of interest declared")
    proposal: str
    has_conflict: bool
    reason: str = field(default="", metadata=CONFIDENTIAL)
    confidentiality_accepted: bool = False


@dataclass(frozen=True)
class LateConflictDeclared(AuditData):
    """A conflict found after the proposal opened: the review is kept and no longer counts."""

    action = "assignment.late_conflict"
    label = _l("Conflict of interest declared after opening")
    proposal: str
    reason: str = field(default="", metadata=CONFIDENTIAL)
    review_withdrawn: bool = (
        False  # a review (draft or submitted) was written and now counts no more
    )
    was_rapporteur: bool = False


# --- reviews, consensus, decisions ----------------------------------------------------------


@dataclass(frozen=True)
class ReviewDraftSaved(AuditData):
    action = "review.save_draft"
    label = _l("Review saved")
    proposal: str
    scores: dict[str, str | None]
    autosave: bool = False
    version: int | None = None  # the kept version (review_versions.number) of the review


@dataclass(frozen=True)
class ReviewSubmitted(AuditData):
    action = "review.submit"
    label = _l("Review submitted")
    proposal: str
    scores: dict[str, str | None]
    version: int | None = None


@dataclass(frozen=True)
class ReviewReopened(AuditData):
    action = "review.reopen"
    label = _l("Review reopened")
    proposal: str
    expert_id: int
    reason: str
    version: int | None = None


@dataclass(frozen=True)
class ReviewImported(AuditData):
    action = "review.import"
    label = _l("Review imported")
    proposal: str
    expert_id: int
    replaced: bool
    scores: dict[str, str | None]
    version: int | None = None


@dataclass(frozen=True)
class ConsensusSaved(AuditData):
    action = "consensus.save"
    label = _l("Consensus saved")
    proposal: str
    version: int  # the kept version (consensus_versions.number) of the report
    scores: dict[str, str | None]
    justification: str = ""  # why the consensus crosses a threshold (see ConsensusFinalised)
    overall_comment: str = ""  # for the applicant


@dataclass(frozen=True)
class ConsensusApproved(AuditData):
    action = "consensus.approve"
    label = _l("Consensus approved")
    proposal: str
    version: int
    comment: str = ""


@dataclass(frozen=True)
class ConsensusCommented(AuditData):
    action = "consensus.comment"
    label = _l("Consensus commented")
    proposal: str
    version: int
    comment: str = ""


@dataclass(frozen=True)
class ConsensusFinalised(AuditData):
    action = "consensus.finalise"
    label = _l("Consensus made final")
    proposal: str
    all_approved: bool = False  # made final with the others of a call-wide "approved" step
    version: int | None = None
    # The thresholds the consensus crosses against the reviews' aggregate (criterion keys and
    # "overall"), and the justification given for it.
    crossed: list[str] = field(default_factory=list)
    justification: str = ""


@dataclass(frozen=True)
class ConsensusReopened(AuditData):
    action = "consensus.reopen"
    label = _l("Consensus reopened")
    proposal: str
    version: int | None = None


@dataclass(frozen=True)
class ConsensusImported(AuditData):
    action = "consensus.import"
    label = _l("Consensus imported")
    proposal: str
    replaced: bool
    scores: dict[str, str | None]
    version: int | None = None
    crossed: list[str] = field(default_factory=list)
    justification: str = ""


@dataclass(frozen=True)
class MinorityViewRecorded(AuditData):
    """An expert's minority view on the consensus, written, changed or withdrawn (empty)."""

    action = "consensus.minority_view"
    label = _l("Minority view recorded")
    proposal: str
    expert_id: int  # whose view it is; the actor may record it on their behalf
    text: str = ""
    withdrawn: bool = False


@dataclass(frozen=True)
class DecisionRecorded(AuditData):
    action = "decision.record"
    label = _l("Decision recorded")
    proposal: str
    outcome: DecisionOutcome
    previous: str | None
    status: str
    suggested: str | None
    rationale: str = ""
    amount_eur: str | None = None  # the granted amount; None: the requested funding


@dataclass(frozen=True)
class DemoSeeded(AuditData):
    action = "demo.seed"
    label = _l("Demo data seeded")


@dataclass(frozen=True)
class BackupMade(AuditData):
    """A copy of everything left the site (``reviewer-app backup``)."""

    action = "site.backup"
    label = _l("Backup made")
    is_read = True
    file: str
    size_bytes: int


@dataclass(frozen=True)
class BackupRestored(AuditData):
    """The site's data was replaced by a backup (``reviewer-app restore``)."""

    action = "site.restore"
    label = _l("Backup restored")
    file: str


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentDownloaded(AuditData):
    action = "document.download"
    label = _l("Document downloaded")
    is_read = True
    proposal: str
    filename: str


@dataclass(frozen=True)
class ReportDownloaded(AuditData):
    """A decision report or applicant feedback report (one proposal, or all as a ZIP)."""

    action = "report.download"
    label = _l("Report downloaded")
    is_read = True
    kind: ReportKind
    language: str
    proposal: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class ExportDownloaded(AuditData):
    action = "export.download"
    label = _l("Export downloaded")
    is_read = True
    what: str  # "ranking", "reviews", "audit"
    format: str


def read_actions() -> frozenset[str]:
    return frozenset(a for a, kind in AuditData.registry.items() if kind.is_read)
