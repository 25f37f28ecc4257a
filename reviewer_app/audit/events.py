"""Every kind of audit event, defined once: the code that records and the code that reads both
use these classes, so a key cannot be written one way and read another.

Each event is a frozen dataclass with its ``action`` name. ``to_data()`` gives the JSON stored
in ``audit_events.data``; ``from_data()`` reads it back into the same class, typed (phases and
outcomes as their enums). ``parse(action, data)`` finds the class by action name. A field
marked ``confidential`` (a conflict-of-interest reason) is shown to coordinators only.

The base class and the readers are in ``data.py``, the accounts' events in
``account_events.py``; this module names them all, so writers and readers import one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models.calls import Phase
from ..models.jobs import ReportKind
from ..models.reviews import DecisionOutcome
from .account_events import (
    InvitationAccepted,
    OtherSessionsEnded,
    PasswordChanged,
    PasswordReset,
    ReauthenticationFailed,
    RecoveryCodesRenewed,
    RecoveryCodeUsed,
    ResetLinkRefused,
    ResetLinkSent,
    SignedIn,
    SignedOut,
    SignInFailed,
    SignInFailure,
    TwoFactorDisabled,
    TwoFactorEnabled,
    TwoFactorReset,
    UserCreated,
    UserInvited,
)
from .data import CONFIDENTIAL, AuditData, label_of, parse, read_actions

__all__ = [
    "AuditData",
    "CONFIDENTIAL",
    "InvitationAccepted",
    "OtherSessionsEnded",
    "PasswordChanged",
    "PasswordReset",
    "ReauthenticationFailed",
    "RecoveryCodeUsed",
    "RecoveryCodesRenewed",
    "ResetLinkRefused",
    "ResetLinkSent",
    "SignInFailed",
    "SignInFailure",
    "SignedIn",
    "SignedOut",
    "TwoFactorDisabled",
    "TwoFactorEnabled",
    "TwoFactorReset",
    "UserCreated",
    "UserInvited",
    "label_of",
    "parse",
    "read_actions",
]


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
class DiscussionPosted(AuditData):
    action = "discussion.post"
    label = _l("Discussion message posted")
    proposal: str
    text: str = field(default="", metadata=CONFIDENTIAL)


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
class LotterySeedPublished(AuditData):
    """The seed of the call's partial lottery, fixed and published before the draw."""

    action = "lottery.seed"
    label = _l("Lottery seed published")
    seed: int
    low_percent: int
    high_percent: int


@dataclass(frozen=True)
class LotteryDrawn(AuditData):
    """The call's lottery drawn with its published seed: the result as it stands from now on
    (``call_analytics.lottery_json``)."""

    action = "lottery.draw"
    label = _l("Lottery drawn")
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelPlaced(AuditData):
    """The panel placed a proposal inside its ex aequo group (``place`` None: took it out)."""

    action = "panel.place"
    label = _l("Placed by the panel")
    proposal: str
    place: int | None
    reason: str = ""


@dataclass(frozen=True)
class PanelCommented(AuditData):
    action = "panel.comment"
    label = _l("Panel comment saved")
    proposal: str
    comment: str = ""


@dataclass(frozen=True)
class PanelReportSaved(AuditData):
    action = "panel.report"
    label = _l("Panel report saved")
    text: str = ""


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
class IndividualReportDownloaded(AuditData):
    """An expert's own individual evaluation report (IER) as PDF."""

    action = "report.individual_download"
    label = _l("Individual evaluation report downloaded")
    is_read = True
    proposal: str
    version: int
    language: str


@dataclass(frozen=True)
class ExportDownloaded(AuditData):
    action = "export.download"
    label = _l("Export downloaded")
    is_read = True
    what: str  # "ranking", "reviews", "audit"
    format: str
