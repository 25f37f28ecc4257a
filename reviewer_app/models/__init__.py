"""Typed models, one module per aggregate. Importing this package registers every table."""

from .audit import AuditEvent
from .calls import PHASE_ORDER, Call, Criterion, Phase
from .proposals import Document, Proposal
from .reviews import (
    Assignment,
    ConflictDeclaration,
    ConsensusApproval,
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
from .users import Invitation, Role, StashedForm, User

__all__ = [
    "PHASE_ORDER",
    "Assignment",
    "AuditEvent",
    "Call",
    "ConflictDeclaration",
    "ConsensusApproval",
    "ConsensusReport",
    "ConsensusScore",
    "ConsensusStatus",
    "Criterion",
    "Decision",
    "DecisionOutcome",
    "Document",
    "Invitation",
    "Phase",
    "Proposal",
    "Review",
    "ReviewStatus",
    "Role",
    "Score",
    "StashedForm",
    "User",
    "utcnow",
]
