"""Outgoing webhooks (SPEC §4.8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base


class OutgoingWebhook(Base):
    __tablename__ = "outgoing_webhooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    webhook_url: Mapped[str] = mapped_column(Text)
    trigger_type: Mapped[str] = mapped_column(String(32), default="manual")
    http_method: Mapped[str] = mapped_column(String(8), default="POST")
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
