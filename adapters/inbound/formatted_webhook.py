"""Formatted webhook (Grafana OnCall's shape): ``title``, ``message``, ``image_url``, ``state``,
``alert_uid``, ``link_to_upstream_details``.

Group key: ``alert_uid``; without one, a hash of the title, so a later ``state: ok`` with the same title
resolves what the first one opened. ``state`` "ok" (or "resolved") resolves; anything else fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.inbound.canonical import stable_hash
from adapters.inbound.values import first_text, http_link, is_resolved_word, require_object, title_text
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse a formatted webhook; the body must be a JSON object."""
    body = require_object(payload)
    message = first_text(body.get("message"))
    title = title_text(first_text(body.get("title")) or message.partition("\n")[0] or "Untitled alert")
    resolved = is_resolved_word(body.get("state")) or is_resolved_word(body.get("status"))
    status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    uid = first_text(body.get("alert_uid"))
    group_key = uid or "title:" + stable_hash(title, length=32)
    link = http_link(body.get("link_to_upstream_details"))
    image = http_link(body.get("image_url"))
    alert = AlertEvent(
        fingerprint=uid or stable_hash(title, length=32),
        status=status,
        title=title,
        annotations={k: v for k, v in (("message", message), ("image_url", image or "")) if v},
        source_link=link,
        raw=body,
    )
    return ParsedPayload(
        group_key=group_key,
        status=status,
        alerts=(alert,),
        title=title,
        message=message,
        source_link=link,
    )
