"""Incident states and the names of timeline entries."""

from __future__ import annotations

from enum import StrEnum


class IncidentState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SILENCED = "silenced"

    @classmethod
    def parse(cls, value: str) -> IncidentState:
        """Accept Grafana OnCall's ``new`` as an alias of ``firing``."""
        return cls.FIRING if value == "new" else cls(value)


class TimelineKind(StrEnum):
    ALERT_RECEIVED = "alert_received"
    INCIDENT_OPENED = "incident_opened"
    ROUTED = "routed"
    MAINTENANCE = "maintenance"
    TEMPLATE_ERROR = "template_error"
    ESCALATION_STEP = "escalation_step"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    PAGE_SENT = "page_sent"
    PAGE_FAILED = "page_failed"
    UPDATE_SENT = "update_sent"  # someone already paged was told about a change
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    NOTE = "note"
    WEBHOOK = "webhook"


class IngestOutcome(StrEnum):
    CREATED = "created"
    GROUPED = "grouped"
    DUPLICATE = "duplicate"
    RESOLVED = "resolved"
    MAINTENANCE = "maintenance"
