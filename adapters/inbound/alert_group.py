"""The Alertmanager-shaped notification that Grafana unified alerting and Alertmanager both send.

One payload is one alert group: ``alerts[]`` plus group fields (``groupKey``, ``groupLabels``,
``commonLabels``, ``externalURL``, ``truncatedAlerts``). What the sender says is the truth:
an alert's ``status`` decides whether it is resolved, never its ``endsAt`` (older Alertmanagers send
a future ``endsAt`` on firing alerts, newer ones the zero time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.inbound.canonical import stable_hash
from adapters.inbound.values import (
    first_text,
    http_link,
    is_resolved_word,
    optional_list,
    parse_timestamp,
    require_object,
    string_map,
    title_text,
)
from engine.errors import ValidationFailed
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload

# Titles name at most this many distinct alertnames when a group mixes several.
_TITLE_NAMES = 3
# Longer digit strings are not counts (and int() refuses very long ones).
_COUNT_DIGITS = 18


def parse_alert_group(payload: Any) -> ParsedPayload:
    """Parse one group notification; raises ``ValidationFailed`` when ``alerts`` is missing or malformed."""
    body = require_object(payload)
    if body.get("alerts") is None:
        raise ValidationFailed(
            "alerts is required: a notification carries at least one alert", field="alerts"
        )
    items = optional_list(body["alerts"], "alerts")
    if not items:
        raise ValidationFailed("alerts is empty: a notification carries at least one alert", field="alerts")

    # Grafana adds a top-level ``state`` ("ok" once everything recovered) next to ``status``.
    sender_resolved = is_resolved_word(body.get("status")) or is_resolved_word(body.get("state"))
    external_url = body.get("externalURL")
    alerts = tuple(
        _parse_alert(item, f"alerts[{index}]", sender_resolved, external_url)
        for index, item in enumerate(items)
    )
    group_labels = string_map(body.get("groupLabels"), "groupLabels")
    common_labels = (
        string_map(body["commonLabels"], "commonLabels")
        if body.get("commonLabels") is not None
        else _shared_labels(alerts)
    )
    every_alert_resolved = all(alert.status is AlertStatus.RESOLVED for alert in alerts)
    common_annotations = string_map(body.get("commonAnnotations"), "commonAnnotations")
    return ParsedPayload(
        group_key=_group_key(body, group_labels),
        status=AlertStatus.RESOLVED if sender_resolved or every_alert_resolved else AlertStatus.FIRING,
        alerts=alerts,
        title=title_text(group_title(group_labels, common_labels, alerts, body.get("receiver"))),
        message=first_text(
            common_annotations.get("summary"),
            common_annotations.get("description"),
            common_annotations.get("message"),
            *(_summary(alert.annotations) for alert in alerts[:1]),
        ),
        source_link=next((a.source_link for a in alerts if a.source_link), None) or http_link(external_url),
        labels=common_labels,
        truncated_alerts=_count(body.get("truncatedAlerts")),
    )


def group_title(
    group_labels: Mapping[str, str],
    common_labels: Mapping[str, str],
    alerts: Sequence[AlertEvent],
    receiver: Any = None,
) -> str:
    """The alertname with the other group labels: ``HighLatency (service=api)``.

    With no group label besides ``alertname`` (``group_by: [alertname]`` or ``[...]``) the common labels
    stand in, as Grafana's own titles do.
    """
    name = group_labels.get("alertname") or common_labels.get("alertname")
    if not name:
        names = list(dict.fromkeys(a.labels["alertname"] for a in alerts if a.labels.get("alertname")))
        name = ", ".join(names[:_TITLE_NAMES])
        if len(names) > _TITLE_NAMES:
            name += f" +{len(names) - _TITLE_NAMES} more"
    name = name or first_text(receiver) or "Alert"
    others = {k: v for k, v in group_labels.items() if k != "alertname"} or {
        k: v for k, v in common_labels.items() if k != "alertname"
    }
    if not others:
        return name
    return name + " (" + ", ".join(f"{key}={others[key]}" for key in sorted(others)) + ")"


def _parse_alert(item: Any, field: str, sender_resolved: bool, external_url: Any) -> AlertEvent:
    raw = require_object(item, field)
    labels = string_map(raw.get("labels"), f"{field}.labels")
    annotations = string_map(raw.get("annotations"), f"{field}.annotations")
    stated = raw.get("status")
    resolved = is_resolved_word(stated) if stated is not None else sender_resolved
    name = labels.get("alertname") or "Alert"
    summary = _summary(annotations)
    return AlertEvent(
        # Alertmanager's fingerprint is a hash of the label set; ours stands in when a sender omits it.
        fingerprint=first_text(raw.get("fingerprint")) or stable_hash(labels),
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        title=title_text(f"{name}: {summary}" if summary else name),
        labels=labels,
        annotations=annotations,
        starts_at=parse_timestamp(raw.get("startsAt")),
        # A firing alert's endsAt is only a guess at expiry, so it is not an end.
        ends_at=parse_timestamp(raw.get("endsAt")) if resolved else None,
        source_link=http_link(raw.get("generatorURL"), external_url),
        raw=raw,
    )


def _summary(annotations: Mapping[str, str]) -> str:
    return first_text(
        annotations.get("title"),
        annotations.get("summary"),
        annotations.get("message"),
        annotations.get("description"),
    )


def _group_key(body: Mapping[str, Any], group_labels: Mapping[str, str]) -> str:
    given = first_text(body.get("groupKey"))
    if given:
        return given
    return "group:" + stable_hash({"receiver": first_text(body.get("receiver")), "groupLabels": group_labels})


def _shared_labels(alerts: Sequence[AlertEvent]) -> dict[str, str]:
    first, *rest = alerts
    return {k: v for k, v in first.labels.items() if all(a.labels.get(k) == v for a in rest)}


def _count(value: Any) -> int:
    """A non-negative whole number, or 0 for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= _COUNT_DIGITS:
        return int(value.strip())
    return 0
