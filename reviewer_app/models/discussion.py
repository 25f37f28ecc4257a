"""The discussion of a proposal among its experts, its rapporteur and the coordinators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import utcnow

if TYPE_CHECKING:
    from .proposals import Proposal
    from .users import User


class DiscussionMessage(Model):
    """One message of a proposal's discussion (consensus phase). For the panel and the
    coordinators; never in the applicant's evaluation summary."""

    __tablename__ = "discussion_messages"
    __table_args__ = (
        CheckConstraint("text <> ''", name="text_not_empty"),
        Index("ix_discussion_messages_proposal_id_id", "proposal_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    author: Mapped[User | None] = relationship()
