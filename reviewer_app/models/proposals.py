from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .. import limits
from ..extensions import Model
from .types import Cents, utcnow

if TYPE_CHECKING:
    from .calls import Call
    from .reviews import Assignment, ConsensusReport, Decision


class Proposal(Model):
    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("call_id", "reference"),
        CheckConstraint(
            "requested_funding_eur IS NULL OR requested_funding_eur >= 0",
            name="funding_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(limits.PROPOSAL_REFERENCE))
    acronym: Mapped[str] = mapped_column(String(limits.PROPOSAL_ACRONYM), default="")
    title: Mapped[str] = mapped_column(String(limits.PROPOSAL_TITLE))
    applicant: Mapped[str] = mapped_column(String(limits.PROPOSAL_APPLICANT), default="")
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166 alpha-2
    requested_funding_eur: Mapped[Decimal | None] = mapped_column(Cents)
    summary: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="proposals")
    documents: Mapped[list[Document]] = relationship(
        back_populates="proposal", order_by="Document.id", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    consensus: Mapped[ConsensusReport | None] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    decision: Mapped[Decision | None] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"{self.reference} {self.acronym}".strip()

    def __repr__(self) -> str:
        return f"<Proposal {self.reference}>"


class Document(Model):
    """A file attached to a proposal, kept in the database so an upload is saved whole or not."""

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship(back_populates="documents")
