"""A sender's payload normalised: what every inbound parser produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class SenderAction(StrEnum):
    """What the sender asks for; only PagerDuty-style senders acknowledge."""

    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class AlertEvent:
    """One alert inside a payload.

    ``fingerprint`` identifies the alert within its group across deliveries (Alertmanager's
    fingerprint, or a hash of its labels when the sender gives none), so a repeated notification
    updates the alert instead of adding a new one.
    """

    fingerprint: str
    status: AlertStatus
    title: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    source_link: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedPayload:
    """A whole delivery from a sender, before templates and grouping.

    ``group_key`` is the sender's own grouping key (``groupKey``, ``dedup_key`` …); ``status`` is the
    group's status as the sender states it, which is the truth over any ``endsAt``.
    """

    group_key: str
    status: AlertStatus
    alerts: tuple[AlertEvent, ...]
    title: str
    message: str = ""
    action: SenderAction = SenderAction.TRIGGER
    source_link: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    truncated_alerts: int = 0
