"""PagerDuty Events API v2 (``/v2/enqueue`` bodies): ``event_action`` trigger, acknowledge or resolve.

Group key and fingerprint: ``dedup_key``. A trigger without one gets a fresh unique key, as PagerDuty
generates a UUID, so it always opens a new incident. ``routing_key`` is the HTTP layer's business
(it names the integration) and is not read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from adapters.inbound.values import (
    first_text,
    http_link,
    optional_object,
    parse_timestamp,
    require_object,
    string_map,
    text,
    title_text,
)
from engine.errors import ValidationFailed
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload, SenderAction

# PagerDuty's own limit; a longer key is answered with 400 there too.
MAX_DEDUP_KEY = 255
_LABEL_FIELDS = ("severity", "source", "component", "group", "class")


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse one event; an unknown ``event_action`` or a missing key where one is needed is rejected."""
    body = require_object(payload)
    action = _action(body.get("event_action"))
    dedup_key = first_text(body.get("dedup_key"))
    if len(dedup_key) > MAX_DEDUP_KEY:
        raise ValidationFailed(f"dedup_key is longer than {MAX_DEDUP_KEY} characters", field="dedup_key")
    if not dedup_key:
        if action is not SenderAction.TRIGGER:
            raise ValidationFailed(f"dedup_key is required to {action.value}", field="dedup_key")
        dedup_key = uuid.uuid4().hex

    details = optional_object(body.get("payload"), "payload")
    labels = {name: first_text(details.get(name)) for name in _LABEL_FIELDS if first_text(details.get(name))}
    summary = first_text(details.get("summary"))
    title = title_text(summary or f"PagerDuty {action.value}: {dedup_key}")
    annotations = _details(details.get("custom_details"))
    if summary:
        annotations["summary"] = summary
    link = http_link(body.get("client_url")) or _first_link(body.get("links"))
    status = AlertStatus.RESOLVED if action is SenderAction.RESOLVE else AlertStatus.FIRING
    alert = AlertEvent(
        fingerprint=dedup_key,
        status=status,
        title=title,
        labels=labels,
        annotations=annotations,
        starts_at=parse_timestamp(details.get("timestamp")),
        source_link=link,
        raw=body,
    )
    return ParsedPayload(
        group_key=dedup_key,
        status=status,
        alerts=(alert,),
        title=title,
        message=summary,
        action=action,
        source_link=link,
        labels=labels,
    )


def _action(value: Any) -> SenderAction:
    if value is None:
        raise ValidationFailed(
            "event_action is required: trigger, acknowledge or resolve", field="event_action"
        )
    word = first_text(value).lower()
    try:
        return SenderAction(word)
    except ValueError:
        raise ValidationFailed(
            f"event_action must be trigger, acknowledge or resolve, not {word[:40]!r}", field="event_action"
        ) from None


def _details(value: Any) -> dict[str, str]:
    """``custom_details`` as annotations; senders put text there as often as an object."""
    if isinstance(value, dict):
        return string_map(value, "payload.custom_details")
    return {"custom_details": text(value)} if value is not None else {}


def _first_link(value: Any) -> str | None:
    """The first usable ``links[].href``; links are decoration, so malformed entries are skipped."""
    if not isinstance(value, list):
        return None
    for item in value:
        if isinstance(item, dict) and (link := http_link(item.get("href"))):
            return link
    return None
