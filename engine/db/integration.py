"""Integrations (alert sources), their routes, and maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db.base import Base


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    templates: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grouping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    slack_channel_id: Mapped[str | None] = mapped_column(String(64))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    maintenance_until: Mapped[datetime | None]
    maintenance_started_at: Mapped[datetime | None]
    heartbeat_interval: Mapped[int | None]
    last_heartbeat_at: Mapped[datetime | None]
    last_payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]

    routes: Mapped[list[Route]] = relationship(
        back_populates="integration", cascade="all, delete-orphan", order_by="Route.position"
    )


class Route(Base):
    __tablename__ = "routes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    routing_type: Mapped[str] = mapped_column(String(16), default="regex")
    routing_regex: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(default=False)
    escalation_chain_id: Mapped[str | None] = mapped_column(
        ForeignKey("escalation_chains.id", ondelete="SET NULL")
    )
    slack_channel_id: Mapped[str | None] = mapped_column(String(64))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    integration: Mapped[Integration] = relationship(back_populates="routes")


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration_ids: Mapped[list[Any]]
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
