"""Schedules, their shifts (rotations) and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db.base import Base


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(16), default="calendar")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    ical_url_primary: Mapped[str | None] = mapped_column(Text)
    ical_url_overrides: Mapped[str | None] = mapped_column(Text)
    # Last good copies of the iCal feeds and the last fetch error, so a broken feed keeps paging.
    ical_primary_cache: Mapped[str | None] = mapped_column(Text)
    ical_overrides_cache: Mapped[str | None] = mapped_column(Text)
    ical_fetched_at: Mapped[datetime | None]
    ical_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    shifts: Mapped[list[Shift]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="Shift.position"
    )
    overrides: Mapped[list[Override]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="Override.start"
    )


class Shift(Base):
    __tablename__ = "shifts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), default="rolling_users")
    # The rotation as the API takes it (users, frequency, by_day, start_time …).
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)

    schedule: Mapped[Schedule] = relationship(back_populates="shifts")


class Override(Base):
    __tablename__ = "overrides"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    replaces_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime]

    schedule: Mapped[Schedule] = relationship(back_populates="overrides")
