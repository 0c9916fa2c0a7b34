"""The REST API under ``/api/v1/`` (SPEC §3)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from adapters.http import schemas, views
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import Resource, check_scope, register, runtime_of
from adapters.templating import JinjaTemplateRenderer, template_context
from engine.clock import Clock
from engine.db import EscalationChain, Integration, MaintenanceWindow, OutgoingWebhook, Route, Team, User
from engine.errors import NotFound, ValidationFailed
from engine.services import chains, directory, integrations, lookup, maintenance, webhooks

TEAMS = Resource(
    "team",
    Team,
    schemas.TeamIn,
    schemas.TeamPatch,
    directory.create_team,
    directory.update_team,
    directory.delete_team,
    lambda t, _r: views.team_view(t),
    team_attr="id",
)
USERS = Resource(
    "user",
    User,
    schemas.UserIn,
    schemas.UserPatch,
    directory.create_user,
    directory.update_user,
    directory.delete_user,
    lambda u, _r: views.user_view(u),
    team_attr=None,
)


@functools.cache
def _template_renderer() -> JinjaTemplateRenderer:
    return JinjaTemplateRenderer()


def check_templates(integration: Integration | None, templates: Mapping[str, Any] | None) -> None:
    """Refuse templates that would fail at ingest, naming the first as ``templates.<name>`` (422).

    Each new or changed template is rendered against the integration's last payload, so an error
    shows when it is saved rather than on the next alert; with no payload yet only its syntax is
    checked. Unchanged templates are not re-checked: a payload that arrived since must not block an
    unrelated edit (or ``tocsin apply``).
    """
    renderer = _template_renderer()
    stored = integrations.validate_templates(integration.templates or {}) if integration else {}
    payload = integration.last_payload if integration else None
    context = template_context(
        payload,
        integration={"id": integration.id, "name": integration.name, "type": integration.type}
        if integration
        else None,
    )
    for field, text, before in _template_texts(integrations.validate_templates(templates or {}), stored):
        if text == before:
            continue
        try:
            if payload is None:
                renderer.check(text)
            else:
                renderer.render(text, context)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{field}: {exc.detail}", field=field) from exc


def _template_texts(
    templates: Mapping[str, Any], stored: Mapping[str, Any], prefix: str = "templates."
) -> list[tuple[str, str, Any]]:
    """``(field, new text, stored text)`` for every template, channel overrides included."""
    found: list[tuple[str, str, Any]] = []
    for name, value in templates.items():
        before = stored.get(name)
        if isinstance(value, Mapping):
            found += _template_texts(value, before if isinstance(before, Mapping) else {}, f"{prefix}{name}.")
        elif isinstance(value, str):
            found.append((prefix + name, value, before))
    return found


def _create_integration(session: Session, clock: Clock, fields: dict[str, Any]) -> Integration:
    check_templates(None, fields.get("templates"))
    return integrations.create_integration(session, clock, fields)


def _update_integration(session: Session, integration_id: str, fields: dict[str, Any]) -> Integration:
    if fields.get("templates"):
        check_templates(integrations.get_integration(session, integration_id), fields["templates"])
    return integrations.update_integration(session, integration_id, fields)


INTEGRATIONS = Resource(
    "integration",
    Integration,
    schemas.IntegrationIn,
    schemas.IntegrationPatch,
    _create_integration,
    _update_integration,
    integrations.delete_integration,
    lambda i, r: views.integration_view(i, r.settings.public_base, r.deps.clock.now()),
)
ROUTES = Resource(
    "route",
    Route,
    schemas.RouteIn,
    schemas.RoutePatch,
    integrations.create_route,
    integrations.update_route,
    integrations.delete_route,
    lambda r, _r: views.route_view(r),
    team_attr=None,
)
CHAINS = Resource(
    "escalation chain",
    EscalationChain,
    schemas.EscalationChainIn,
    schemas.EscalationChainPatch,
    chains.create_chain,
    chains.update_chain,
    chains.delete_chain,
    lambda c, _r: views.chain_view(c),
)
MAINTENANCE = Resource(
    "maintenance window",
    MaintenanceWindow,
    schemas.MaintenanceIn,
    schemas.MaintenancePatch,
    maintenance.create_window,
    maintenance.update_window,
    maintenance.delete_window,
    lambda m, _r: views.maintenance_view(m),
    team_attr=None,
)
WEBHOOKS = Resource(
    "webhook",
    OutgoingWebhook,
    schemas.WebhookIn,
    schemas.WebhookPatch,
    webhooks.create_webhook,
    webhooks.update_webhook,
    webhooks.delete_webhook,
    lambda w, _r: views.webhook_view(w),
)
RESOURCES = {
    "teams": TEAMS,
    "users": USERS,
    "integrations": INTEGRATIONS,
    "routes": ROUTES,
    "escalation_chains": CHAINS,
    "webhooks": WEBHOOKS,
}
# Not config-as-code objects: maintenance windows are operations, not configuration.
API_ONLY = {"maintenance": MAINTENANCE}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    for path, resource in {**RESOURCES, **API_ONLY}.items():
        register(router, path, resource)

    @router.post("/webhooks/{webhook_id}/trigger/", tags=["webhooks"], status_code=202)
    def trigger_webhook(
        webhook_id: str,
        body: schemas.WebhookTriggerIn,
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            check_scope(caller, WEBHOOKS, webhooks.get_webhook(uow.session, webhook_id))
            check_scope(caller, INTEGRATIONS, lookup.find_incident(uow.session, body.incident_id))
        webhooks.trigger_manual(runtime.deps, webhook_id, body.incident_id, caller.name)
        return {"status": "queued", "webhook_id": webhook_id, "incident_id": body.incident_id}

    def integration_action(
        request: Request, caller: Caller, integration_id: str, action: Any
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            integration = integrations.get_integration(uow.session, integration_id)
            check_scope(caller, INTEGRATIONS, integration)
            action(uow.session, runtime.deps.clock.now())
            return INTEGRATIONS.view(integration, runtime)

    @router.post("/integrations/{integration_id}/maintenance_start/", tags=["integrations"])
    def maintenance_start(
        integration_id: str,
        request: Request,
        body: schemas.MaintenanceStart | None = None,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        seconds = (body or schemas.MaintenanceStart()).duration
        return integration_action(
            request,
            caller,
            integration_id,
            lambda session, now: maintenance.start_maintenance(session, integration_id, now, seconds),
        )

    @router.post("/integrations/{integration_id}/maintenance_stop/", tags=["integrations"])
    def maintenance_stop(
        integration_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        return integration_action(
            request,
            caller,
            integration_id,
            lambda session, _now: maintenance.stop_maintenance(session, integration_id),
        )

    @router.put("/integrations/{integration_id}/grouping/", tags=["integrations"])
    def put_grouping(
        integration_id: str,
        body: schemas.GroupingIn,
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        grouping = body.model_dump()
        return integration_action(
            request,
            caller,
            integration_id,
            lambda session, _now: integrations.update_integration(
                session, integration_id, {"grouping": grouping}
            ),
        )

    @router.put("/users/{user_id}/notification_channels/", tags=["users"])
    def put_notification_channels(
        user_id: str,
        body: schemas.NotificationChannelsIn,
        request: Request,
        _caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        if body.user_id is not None and body.user_id != user_id:
            raise NotFound(f"user_id {body.user_id!r} in the body does not match the URL's {user_id!r}")
        settings = body.model_dump(exclude={"user_id"}, exclude_none=True, mode="json")
        with runtime.db.unit() as uow:
            user = directory.update_user(uow.session, user_id, {"notification_settings": settings})
            return views.notification_view(user)

    @router.get("/users/{user_id}/notification_channels/", tags=["users"])
    def get_notification_channels(
        user_id: str, request: Request, _caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            return views.notification_view(directory.get_user(uow.session, user_id))

    return router
