"""Which open incident an alert joins: its grouping key, and whether that incident is still joinable.

Precedence (SPEC 4.7), most explicit first:

1. the integration's ``grouping`` config when ``enabled`` with fields: fields are read per alert (its
   labels first, then the payload's keys, a dotted name reaching into nested objects), so one delivery
   may split across incidents, and incidents time out after ``timeout`` seconds without alerts;
2. the output of the integration's ``grouping_key`` template, when it renders to non-blank text;
3. the sender's own key (``groupKey``, ``dedup_key`` …), which never times out.

Keys longer than :data:`MAX_KEY` are replaced by their SHA-256 so they fit an indexed column.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.errors import ValidationFailed
from engine.model.alert import AlertEvent

MAX_KEY = 255


@dataclass(frozen=True)
class GroupingConfig:
    """``{"enabled": true, "fields": ["namespace", "alertname"], "timeout": 300}``; no timeout when ``None``."""

    enabled: bool = False
    fields: tuple[str, ...] = ()
    timeout: int | None = None

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.fields)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GroupingConfig:
        """Validate the API/YAML shape; raises ``ValidationFailed`` naming the bad field."""
        enabled = data.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ValidationFailed("grouping.enabled must be true or false", field="enabled")
        fields = data.get("fields") or []
        if not isinstance(fields, list) or not all(isinstance(f, str) and f.strip() for f in fields):
            raise ValidationFailed("grouping.fields must be a list of non-empty names", field="fields")
        timeout = data.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0
        ):
            raise ValidationFailed("grouping.timeout must be a positive number of seconds", field="timeout")
        if enabled and not fields:
            raise ValidationFailed("grouping.fields is required when grouping is enabled", field="fields")
        return cls(enabled=enabled, fields=tuple(f.strip() for f in fields), timeout=timeout)


def grouping_key(
    alert: AlertEvent,
    payload: Any,
    sender_key: str,
    *,
    template_output: str | None = None,
    config: GroupingConfig | None = None,
) -> str:
    """The key under which ``alert`` joins an open incident (see the module docstring for precedence)."""
    if config is not None and config.active:
        return "fields:" + _digest([[name, field_value(alert, payload, name)] for name in config.fields])
    if template_output is not None and template_output.strip():
        return _bounded(template_output.strip())
    return _bounded(sender_key)


def group_timeout(config: GroupingConfig | None) -> int | None:
    """Seconds after its last alert that an incident stops taking new ones; ``None``: never."""
    return config.timeout if config is not None and config.active else None


def field_value(alert: AlertEvent, payload: Any, name: str) -> str | None:
    """A grouping field for one alert: its label, else the payload key (``a.b`` reaches into objects)."""
    if name in alert.labels:
        return alert.labels[name]
    if not isinstance(payload, Mapping):
        return None
    if name in payload:
        return _as_text(payload[name])
    value: Any = payload
    for part in name.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif (
            isinstance(value, Sequence) and not isinstance(value, str) and part.isdecimal() and len(part) < 10
        ):
            index = int(part)
            if index >= len(value):
                return None
            value = value[index]
        else:
            return None
    return _as_text(value)


def joins_open_incident(last_alert_at: datetime, now: datetime, timeout: float | None) -> bool:
    """Whether an alert at ``now`` still joins an incident whose last alert came at ``last_alert_at``.

    Without a timeout it always does (Alertmanager's repeat notifications must not reopen). With one, an
    alert exactly ``timeout`` seconds later still joins; later than that opens a new incident. Both
    datetimes must be aware.
    """
    if timeout is None:
        return True
    return (now - last_alert_at).total_seconds() <= timeout


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _digest(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def open_key_for(integration_id: str, group_key: str) -> str:
    """The unique key an open incident holds, so two racing deliveries cannot open twins."""
    digest = hashlib.sha256(group_key.encode("utf-8", "replace")).hexdigest()[:40]
    return f"{integration_id}:{digest}"
