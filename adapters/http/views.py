"""ORM rows to the JSON shapes of SPEC §3–4."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.db import (
    EscalationChain,
    Incident,
    Integration,
    MaintenanceWindow,
    Note,
    OutgoingWebhook,
    Route,
    Team,
    TimelineEntry,
    User,
)
from engine.services.chains import chain_steps
from engine.services.integrations import default_route


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def team_view(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "slack_channel_id": team.slack_channel_id,
        "telegram_chat_id": team.telegram_chat_id,
        "primary_schedule_id": team.primary_schedule_id,
    }


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "email": user.email,
        "team_ids": [m.team_id for m in user.memberships],
        "time_zone": user.time_zone,
        "slack_user_id": user.slack_user_id,
        "telegram_chat_id": user.telegram_chat_id,
        "phone_number": user.phone_number,
        "phone_verified": user.phone_verified,
    }


def notification_view(user: User) -> dict[str, Any]:
    settings = dict(user.notification_settings or {})
    settings.setdefault("notification_channels", [])
    settings.setdefault(
        "notification_timing", {"default_notification_delay": 0, "important_notification_delay": 0}
    )
    return {"user_id": user.id, **settings}


def route_view(route: Route) -> dict[str, Any]:
    return {
        "id": route.id,
        "integration_id": route.integration_id,
        "position": route.position,
        "routing_type": route.routing_type,
        "routing_regex": route.routing_regex,
        "is_default": route.is_default,
        "escalation_chain_id": route.escalation_chain_id,
        "slack_channel_id": route.slack_channel_id,
        "telegram_chat_id": route.telegram_chat_id,
    }


def integration_link(public_base: str, integration: Integration) -> str:
    return f"{public_base}/integrations/v1/{integration.type}/{integration.token}/"


def integration_view(integration: Integration, public_base: str, now: datetime) -> dict[str, Any]:
    until = integration.maintenance_until
    in_maintenance = until is not None and until > now
    return {
        "id": integration.id,
        "name": integration.name,
        "type": integration.type,
        "team_id": integration.team_id,
        "link": integration_link(public_base, integration),
        "heartbeat_link": integration_link(public_base, integration) + "heartbeat/",
        "templates": integration.templates or {},
        "grouping": integration.grouping or {"enabled": False, "fields": [], "timeout": None},
        "default_route": route_view(default_route(integration)),
        "maintenance_mode": in_maintenance,
        "maintenance_until": iso(until) if in_maintenance else None,
        "slack_channel_id": integration.slack_channel_id,
        "telegram_chat_id": integration.telegram_chat_id,
        "heartbeat_interval": integration.heartbeat_interval,
    }


def chain_view(chain: EscalationChain) -> dict[str, Any]:
    return {"id": chain.id, "name": chain.name, "team_id": chain.team_id, "steps": chain_steps(chain)}


def incident_view(
    incident: Incident, public_base: str, links: dict[str, str] | None = None
) -> dict[str, Any]:
    last = incident.alerts[-1] if incident.alerts else None
    return {
        "id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "message": incident.message,
        "state": incident.state,
        "team_id": incident.team_id,
        "integration_id": incident.integration_id,
        "route_id": incident.route_id,
        "escalation_chain_id": incident.escalation_chain_id,
        "alerts_count": incident.alerts_count,
        "alerts_resolved": incident.alerts_resolved,
        "created_at": iso(incident.created_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": iso(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "silenced_until": iso(incident.silenced_until),
        "labels": incident.labels or {},
        "in_maintenance": incident.in_maintenance,
        "template_error": incident.template_error,
        "source_link": incident.source_link,
        "links": {"web": f"{public_base}/api/v1/incidents/{incident.id}/", **(links or {})},
        "last_alert": None
        if last is None
        else {
            "id": last.id,
            "status": last.status,
            "title": last.title,
            "labels": last.labels,
            "received_at": iso(last.received_at),
            "payload": last.raw,
        },
    }


def maintenance_view(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": window.id,
        "integration_ids": list(window.integration_ids or []),
        "start_time": iso(window.start_time),
        "end_time": iso(window.end_time),
    }


def timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "kind": entry.kind,
        "text": entry.text,
        "actor": entry.actor,
        "channel": entry.channel,
        "data": entry.data or {},
    }


def note_view(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "incident_id": note.incident_id,
        "text": note.text,
        "author": note.author,
        "channel": note.channel,
        "is_resolution": note.is_resolution,
        "created_at": iso(note.created_at),
    }


def webhook_view(webhook: OutgoingWebhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "name": webhook.name,
        "team_id": webhook.team_id,
        "webhook_url": webhook.webhook_url,
        "trigger_type": webhook.trigger_type,
        "http_method": webhook.http_method,
        "headers": webhook.headers or {},
        "data": webhook.data,
        # The secret is write-only: show whether one is set, never its value.
        "has_secret": bool(webhook.secret),
    }
