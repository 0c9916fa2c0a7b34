"""Incidents with their alerts, raw payloads, timeline, notes and chat message references."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db.base import Base


class Counter(Base):
    """Installation-wide sequences (the incident ``number`` chat and SMS use)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, default="")
    source_link: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="firing")
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    integration_id: Mapped[str | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), index=True
    )
    route_id: Mapped[str | None] = mapped_column(String(64))
    escalation_chain_id: Mapped[str | None] = mapped_column(String(64))
    grouping_key: Mapped[str] = mapped_column(Text)
    # Set while the incident accepts new alerts; unique, so two racing requests cannot open twins.
    open_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    alerts_count: Mapped[int] = mapped_column(default=0)
    alerts_resolved: Mapped[int] = mapped_column(default=0)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    in_maintenance: Mapped[bool] = mapped_column(default=False)
    is_test: Mapped[bool] = mapped_column(default=False)
    template_error: Mapped[str | None] = mapped_column(Text)
    slack_channel_id: Mapped[str | None] = mapped_column(String(64))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    last_alert_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    silenced_until: Mapped[datetime | None]
    # Escalation: the chain frozen when the incident opened, the machine's state, and the wake-up
    # that the sweeper re-derives from the database when a queue loses it.
    escalation_snapshot: Mapped[list[Any] | None]
    escalation_state: Mapped[dict[str, Any] | None]
    escalation_token: Mapped[str | None] = mapped_column(String(64))
    next_at: Mapped[datetime | None] = mapped_column(index=True)

    alerts: Mapped[list[Alert]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Alert.received_at"
    )


class AlertPayload(Base):
    """Every delivery exactly as received (parsed JSON), stored before ingest answers."""

    __tablename__ = "alert_payloads"
    __table_args__ = (UniqueConstraint("integration_id", "body_hash"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    body_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSON)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime]


class Alert(Base):
    """One alert of an incident, updated in place when its sender repeats it."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("incident_id", "fingerprint"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    # Indexed: a duplicate delivery is answered from the alerts its payload touched.
    payload_id: Mapped[str | None] = mapped_column(
        ForeignKey("alert_payloads.id", ondelete="SET NULL"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_link: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    in_maintenance: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="alerts")


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    author: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    is_resolution: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class ChatMessage(Base):
    """Where an incident's card was posted, so later changes edit the same message."""

    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("incident_id", "provider", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    # The last timeline entry already replied into the thread; a claim stops two workers posting twins.
    last_entry_id: Mapped[int] = mapped_column(default=0, server_default="0")
    # Digest of the card last shown, so a change that leaves the card as it was edits nothing.
    card_digest: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
