"""A sender's payload normalised: what every inbound parser produces."""

from __future__ import annotations

import hashlib
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


MAX_FINGERPRINT = 128


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

    def __post_init__(self) -> None:
        # Senders may use anything as an alert id (a formatted webhook's alert_uid can be a whole JSON
        # object); a long one is kept as its digest, so it fits the column and still tells alerts apart.
        if len(self.fingerprint) > MAX_FINGERPRINT:
            digest = hashlib.sha256(self.fingerprint.encode("utf-8", "surrogatepass")).hexdigest()
            object.__setattr__(self, "fingerprint", f"sha256:{digest}")


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
