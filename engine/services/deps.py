"""What every use case needs, wired once by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from engine.clock import Clock
from engine.db.session import Database
from engine.model.webhook import WebhookCaller
from engine.ports import CalendarSource, IncidentPublisher, JobQueue, Notifier, TemplateRenderer


@dataclass
class Deps:
    db: Database
    clock: Clock
    queue: JobQueue
    renderer: TemplateRenderer
    notifiers: Mapping[str, Notifier] = field(default_factory=dict)
    # Channels with no configured provider fall back to this one (the console in embedded mode).
    fallback_notifier: Notifier | None = None
    public_url: str = "http://127.0.0.1:8080"
    # Default templates per integration type (title, message, grouping_key …); users override them.
    default_templates: Callable[[str], Mapping[str, str]] = lambda _type: {}
    # Chat cards (Slack, Telegram); None when no chat is configured.
    publisher: IncidentPublisher | None = None
    # Outgoing webhook calls; None leaves webhooks recorded but not sent.
    webhooks: WebhookCaller | None = None
    # Fetches and reads iCal feeds for ical schedules; without it they cannot be created or refreshed.
    calendars: CalendarSource | None = None
    # Sends a realistic test alert for an integration (by id) through ingest; answers the incident id.
    test_alert: Callable[[str], str | None] | None = None

    def incident_link(self, incident_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/api/v1/incidents/{incident_id}/"
