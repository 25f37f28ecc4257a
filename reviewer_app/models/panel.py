"""The panel review: what the panel recorded about one proposal of a call."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import utcnow

if TYPE_CHECKING:
    from .proposals import Proposal
    from .users import User


class PanelEntry(Model):
    """The panel's place for a proposal inside its ex aequo group (with the reason the panel
    gave) and the panel's comment on it. One row per proposal at most; the scoring engine reads
    the places (``EvaluationIn.panel_order``) only when the call has a panel review."""

    __tablename__ = "panel_entries"
    __table_args__ = (
        CheckConstraint("place IS NULL OR place > 0", name="place_positive"),
        # A place without a reason would be a move nobody can defend.
        CheckConstraint("place IS NULL OR reason <> ''", name="place_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), unique=True
    )
    place: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    proposal: Mapped[Proposal] = relationship()
    updated_by: Mapped[User | None] = relationship()
