"""Typed models, one module per aggregate. Importing this package registers every table."""

from .audit import AuditEvent
from .calls import PHASE_ORDER, Call, Criterion, Phase
from .discussion import DiscussionMessage
from .jobs import JobFailure, JobStatus, ReportJob, ReportKind
from .panel import PanelEntry
from .proposals import Document, Proposal
from .reviews import (
    Assignment,
    ConflictDeclaration,
    ConsensusApproval,
    ConsensusMinorityView,
    ConsensusReport,
    ConsensusScore,
    ConsensusStatus,
    Decision,
    DecisionOutcome,
    Review,
    ReviewStatus,
    Score,
)
from .types import utcnow
from .users import AccountLink, LinkPurpose, RecoveryCode, Role, StashedForm, User, UserSession
from .versions import (
    ConsensusVersion,
    ConsensusVersionScore,
    ReviewVersion,
    ReviewVersionScore,
    SavedThrough,
)

__all__ = [
    "PHASE_ORDER",
    "AccountLink",
    "Assignment",
    "AuditEvent",
    "Call",
    "PanelEntry",
    "ConflictDeclaration",
    "ConsensusApproval",
    "ConsensusMinorityView",
    "DiscussionMessage",
    "ConsensusReport",
    "ConsensusScore",
    "JobFailure",
    "JobStatus",
    "ReportJob",
    "ReportKind",
    "ConsensusStatus",
    "ConsensusVersion",
    "ConsensusVersionScore",
    "Criterion",
    "Decision",
    "DecisionOutcome",
    "Document",
    "LinkPurpose",
    "Phase",
    "Proposal",
    "RecoveryCode",
    "Review",
    "ReviewStatus",
    "ReviewVersion",
    "ReviewVersionScore",
    "Role",
    "SavedThrough",
    "Score",
    "StashedForm",
    "User",
    "UserSession",
    "utcnow",
]
