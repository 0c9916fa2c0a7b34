"""An incident as chat cards, SMS and calls show it: plain values read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class TimelineLine:
    id: int
    at: datetime
    kind: str
    text: str
    actor: str | None = None


@dataclass(frozen=True)
class IncidentSnapshot:
    id: str
    number: int
    title: str
    message: str
    state: str
    severity: str | None
    labels: dict[str, str]
    alerts_count: int
    alerts_resolved: int
    created_at: datetime
    web_link: str
    source_link: str | None = None
    runbook_url: str | None = None
    links: tuple[Link, ...] = ()
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    silenced_until: datetime | None = None
    integration_name: str | None = None
    team_id: str | None = None
    slack_channel_id: str | None = None
    telegram_chat_id: str | None = None
    in_maintenance: bool = False
    is_test: bool = False
    template_error: str | None = None
    alert_titles: tuple[str, ...] = ()
    manual_webhooks: tuple[tuple[str, str], ...] = ()
    timeline: tuple[TimelineLine, ...] = field(default_factory=tuple)
