"""Plain webhook: any JSON value is one alert.

Group key: a hash of the canonical JSON body, so only an identical body (a sender's retry) joins the same
incident unless the integration's ``grouping_key`` template or grouping fields say otherwise. Fields are
read when the body is an object and they are there: ``title``/``alert_name``/``name``/``summary`` for
the title, ``message``/``description``, ``labels``, a link, and ``status``/``state``
(``resolved``/``ok`` resolve).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.inbound.canonical import stable_hash
from adapters.inbound.values import first_text, http_link, is_resolved_word, text, title_text
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload

_TITLE_FIELDS = ("title", "alert_name", "alertname", "name", "summary", "subject")
_MESSAGE_FIELDS = ("message", "description", "text", "body", "details")
_LINK_FIELDS = ("link_to_upstream_details", "source_link", "link", "url", "generatorURL")


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse any JSON value; never rejects a decoded body."""
    body: Mapping[str, Any] = payload if isinstance(payload, dict) else {}
    raw: Mapping[str, Any] = body if isinstance(payload, dict) else {"payload": payload}
    labels = _labels(body.get("labels"))
    resolved = is_resolved_word(body.get("status")) or is_resolved_word(body.get("state"))
    status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    key = stable_hash(payload, length=32)
    title = title_text(
        first_text(*(body.get(name) for name in _TITLE_FIELDS), labels.get("alertname"))
        or _scalar_title(payload)
        or "Webhook alert"
    )
    link = next((found for name in _LINK_FIELDS if (found := http_link(body.get(name)))), None)
    alert = AlertEvent(fingerprint=key, status=status, title=title, labels=labels, source_link=link, raw=raw)
    return ParsedPayload(
        group_key="body:" + key,
        status=status,
        alerts=(alert,),
        title=title,
        message=first_text(*(body.get(name) for name in _MESSAGE_FIELDS)),
        source_link=link,
        labels=labels,
    )


def _labels(value: Any) -> dict[str, str]:
    # Leniency over strictness: a plain webhook has no schema, so odd ``labels`` are ignored, not rejected.
    if not isinstance(value, dict):
        return {}
    return {str(key): text(item) for key, item in value.items()}


def _scalar_title(payload: Any) -> str:
    """A bare string or number body is its own title."""
    return (
        first_text(payload)
        if isinstance(payload, str | int | float) and not isinstance(payload, bool)
        else ""
    )
