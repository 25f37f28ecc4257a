from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import limits
from ..extensions import Model
from .types import Cents, Hundredths, utcnow
from .users import enum_column

if TYPE_CHECKING:
    from ..scoring.scheme import Scheme
    from .proposals import Proposal
    from .users import User


class Phase(StrEnum):
    SETUP = "setup"
    EVALUATION = "evaluation"
    CONSENSUS = "consensus"
    RANKING = "ranking"
    DECIDED = "decided"


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)


class Call(Model):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(
            "(lottery_low_percent IS NULL AND lottery_high_percent IS NULL) OR "
            "(0 < lottery_low_percent AND lottery_low_percent < lottery_high_percent "
            "AND lottery_high_percent < 100)",
            name="lottery_bounds",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(limits.CALL_KEY), unique=True)
    title: Mapped[str] = mapped_column(String(limits.CALL_TITLE))
    # A snapshot of the criteria file: later edits of the file never change a running call.
    scheme_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    scheme_sha256: Mapped[str] = mapped_column(String(64))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "call_phase"), default=Phase.SETUP)
    deadline: Mapped[date | None]
    # The rapporteurs' due date for their consensus reports (the reviews' is ``deadline``).
    consensus_deadline: Mapped[date | None]
    budget_eur: Mapped[Decimal | None] = mapped_column(Cents)
    anonymise_experts: Mapped[bool] = mapped_column(default=True)
    # An expert who has submitted a review of a proposal may read the panel's other submitted
    # reviews of it (HotCRP's "see the others after submitting mine"); off: each review alone.
    reviews_open_after_submit: Mapped[bool] = mapped_column(default=False)
    # A panel review inside the ranking phase: the panel orders ex aequo groups (with a reason
    # per place), comments on proposals and writes its report. Off: the ranking is the rules'.
    panel_review: Mapped[bool] = mapped_column(default=False)
    panel_report: Mapped[str] = mapped_column(Text, default="")
    # An optional partial lottery (issue 14): proposals with a funded probability from
    # ``lottery_low_percent`` to ``lottery_high_percent`` share the budget left by a draw whose
    # seed the coordinator publishes while the evaluation is open (nobody knows the pool then),
    # drawn once in the ranking phase and kept as drawn (call_analytics.lottery_json).
    lottery_low_percent: Mapped[int | None]
    lottery_high_percent: Mapped[int | None]
    lottery_seed: Mapped[int | None] = mapped_column(BigInteger)
    lottery_seed_published_at: Mapped[datetime | None]
    lottery_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by: Mapped[User | None] = relationship()

    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="call", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="call", order_by="Proposal.reference", cascade="all, delete-orphan"
    )

    @property
    def scheme(self) -> Scheme:
        from ..scoring.scheme import Scheme

        return Scheme.from_json(self.scheme_json)

    def __repr__(self) -> str:
        return f"<Call {self.key} {self.phase}>"


class Criterion(Model):
    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("call_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(limits.CRITERION_TITLE))
    question: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[Decimal] = mapped_column(Hundredths, default=Decimal(1))
    threshold: Mapped[Decimal | None] = mapped_column(Hundredths)
    position: Mapped[int]

    call: Mapped[Call] = relationship(back_populates="criteria")
