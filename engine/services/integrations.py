"""Integrations (alert sources) and their ordered routes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import EscalationChain, Integration, Route
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.services.directory import require_team

INTEGRATION_TYPES = (
    "grafana_alerting",
    "alertmanager",
    "grafana",
    "webhook",
    "formatted_webhook",
    "pagerduty",
)
TEMPLATE_NAMES = (
    "title",
    "message",
    "source_link",
    "grouping_key",
    "resolve_condition",
    "acknowledge_condition",
)
TEMPLATE_CHANNELS = ("slack", "telegram", "sms", "phone_call")


def get_integration(session: Session, integration_id: str) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound(f"integration {integration_id!r} does not exist")
    return integration


def find_by_token(session: Session, token: str) -> Integration | None:
    return session.scalar(select(Integration).where(Integration.token == token))


def create_integration(session: Session, clock: Clock, fields: Mapping[str, Any]) -> Integration:
    integration_id = fields.get("id") or new_id("C")
    if session.get(Integration, integration_id) is not None:
        raise Conflict(f"integration {integration_id!r} already exists")
    if fields["type"] not in INTEGRATION_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(INTEGRATION_TYPES)}", field="type")
    now = clock.now()
    integration = Integration(
        id=integration_id,
        type=fields["type"],
        name=fields.get("name") or fields["type"],
        token=fields.get("token") or secrets.token_urlsafe(24),
        templates={},
        grouping={},
        created_at=now,
    )
    _apply_fields(session, integration, fields)
    default = Route(
        id=new_id("R"),
        position=0,
        routing_type="regex",
        is_default=True,
        created_at=now,
        integration=integration,
    )
    _apply_route_fields(session, default, fields.get("default_route") or {}, prefix="default_route.")
    session.add(integration)
    session.flush()
    return integration


def update_integration(session: Session, integration_id: str, fields: Mapping[str, Any]) -> Integration:
    integration = get_integration(session, integration_id)
    if "type" in fields and fields["type"] != integration.type:
        raise ValidationFailed("an integration's type cannot change; create a new one", field="type")
    _apply_fields(session, integration, fields)
    if fields.get("default_route") is not None:
        _apply_route_fields(
            session, default_route(integration), fields["default_route"], prefix="default_route."
        )
    session.flush()
    return integration


def _apply_fields(session: Session, integration: Integration, fields: Mapping[str, Any]) -> None:
    require_team(session, fields.get("team_id"))
    for name in ("name", "team_id", "slack_channel_id", "telegram_chat_id", "heartbeat_interval"):
        if name in fields:
            setattr(integration, name, fields[name])
    if "templates" in fields:
        integration.templates = validate_templates(fields["templates"] or {})
    if "grouping" in fields:
        integration.grouping = validate_grouping(fields["grouping"] or {})


def validate_templates(templates: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only known template names (per-channel overrides nested under the channel's name)."""
    clean: dict[str, Any] = {}
    for name, value in templates.items():
        if name in TEMPLATE_CHANNELS:
            if not isinstance(value, Mapping):
                raise ValidationFailed(f"templates.{name} must be an object", field=f"templates.{name}")
            clean[name] = {k: _template_text(v, f"templates.{name}.{k}") for k, v in value.items()}
            for key in value:
                if key not in TEMPLATE_NAMES:
                    raise ValidationFailed(f"unknown template {key!r}", field=f"templates.{name}.{key}")
        elif name in TEMPLATE_NAMES:
            if value is not None:
                clean[name] = _template_text(value, f"templates.{name}")
        else:
            raise ValidationFailed(f"unknown template {name!r}", field=f"templates.{name}")
    return clean


def _template_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed("a template must be a string", field=field)
    return value


def validate_grouping(grouping: Mapping[str, Any]) -> dict[str, Any]:
    """SPEC §4.7: ``{"enabled", "fields", "timeout"}``."""
    allowed = {"enabled", "fields", "timeout"}
    for key in grouping:
        if key not in allowed:
            raise ValidationFailed(f"unknown grouping option {key!r}", field=f"grouping.{key}")
    fields = grouping.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise ValidationFailed("fields must be a list of label or payload key names", field="grouping.fields")
    timeout = grouping.get("timeout")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1):
        raise ValidationFailed("timeout must be a whole number of seconds ≥ 1", field="grouping.timeout")
    enabled = grouping.get("enabled", bool(fields))
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled must be true or false", field="grouping.enabled")
    if enabled and not fields:
        raise ValidationFailed("grouping by fields needs at least one field", field="grouping.fields")
    return {"enabled": enabled, "fields": fields, "timeout": timeout}


def delete_integration(session: Session, integration_id: str) -> None:
    session.delete(get_integration(session, integration_id))
    session.flush()


def default_route(integration: Integration) -> Route:
    for route in integration.routes:
        if route.is_default:
            return route
    raise NotFound(f"integration {integration.id} has no default route")


def get_route(session: Session, route_id: str) -> Route:
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound(f"route {route_id!r} does not exist")
    return route


def create_route(session: Session, clock: Clock, fields: Mapping[str, Any]) -> Route:
    route_id = fields.get("id") or new_id("R")
    if session.get(Route, route_id) is not None:
        raise Conflict(f"route {route_id!r} already exists")
    integration_id = fields.get("integration_id")
    if not integration_id or session.get(Integration, integration_id) is None:
        raise ValidationFailed(f"integration {integration_id!r} does not exist", field="integration_id")
    integration = get_integration(session, integration_id)
    ordinary = [r for r in integration.routes if not r.is_default]
    route = Route(id=route_id, integration_id=integration_id, is_default=False, created_at=clock.now())
    _apply_route_fields(session, route, fields)
    position = fields.get("position")
    ordinary.insert(len(ordinary) if position is None else max(0, min(position, len(ordinary))), route)
    session.add(route)
    _renumber(integration, ordinary)
    session.flush()
    return route


def update_route(session: Session, route_id: str, fields: Mapping[str, Any]) -> Route:
    route = get_route(session, route_id)
    _apply_route_fields(session, route, fields)
    if "position" in fields and not route.is_default:
        integration = route.integration
        ordinary = [r for r in integration.routes if not r.is_default and r.id != route.id]
        ordinary.insert(max(0, min(fields["position"], len(ordinary))), route)
        _renumber(integration, ordinary)
    session.flush()
    return route


def delete_route(session: Session, route_id: str) -> None:
    route = get_route(session, route_id)
    if route.is_default:
        raise Conflict("the default route cannot be deleted; change its escalation chain instead")
    session.delete(route)
    session.flush()


def _renumber(integration: Integration, ordinary: list[Route]) -> None:
    for index, route in enumerate(ordinary):
        route.position = index
    for route in integration.routes:
        if route.is_default:
            route.position = len(ordinary)


def _apply_route_fields(session: Session, route: Route, fields: Mapping[str, Any], prefix: str = "") -> None:
    routing_type = fields.get("routing_type", route.routing_type or "regex")
    if routing_type not in ("regex", "jinja2"):
        raise ValidationFailed("routing_type must be regex or jinja2", field=prefix + "routing_type")
    if "routing_regex" in fields and fields["routing_regex"] is not None and routing_type == "regex":
        try:
            re.compile(fields["routing_regex"])
        except re.error as exc:
            raise ValidationFailed(
                f"invalid regular expression: {exc}", field=prefix + "routing_regex"
            ) from exc
    chain_id = fields.get("escalation_chain_id")
    if chain_id is not None and session.get(EscalationChain, chain_id) is None:
        raise ValidationFailed(
            f"escalation chain {chain_id!r} does not exist", field=prefix + "escalation_chain_id"
        )
    route.routing_type = routing_type
    for name in ("routing_regex", "escalation_chain_id", "slack_channel_id", "telegram_chat_id"):
        if name in fields:
            setattr(route, name, fields[name])
