"""Escalation chains and their ordered steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db.base import Base


class EscalationChain(Base):
    __tablename__ = "escalation_chains"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="chain", cascade="all, delete-orphan", order_by="EscalationStep.position"
    )


class EscalationStep(Base):
    __tablename__ = "escalation_steps"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[str] = mapped_column(ForeignKey("escalation_chains.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    # The step's own fields as the API takes them (persons, duration, schedule_id …).
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)

    chain: Mapped[EscalationChain] = relationship(back_populates="steps")
