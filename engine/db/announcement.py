"""Messages to a team's chat that belong to no incident: on-call handoffs and coverage-gap warnings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base


class Announcement(Base):
    """One message for a team's channels, stored before it is sent (an outbox row).

    ``key`` is unique: it names the event (``handoff:S001:2026-02-10T14:00:00+00:00``,
    ``gaps:S001:2026-02-10``), so every sweeper that notices the same event adds at most one row.
    """

    __tablename__ = "announcements"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
