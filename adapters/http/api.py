"""The REST API under ``/api/v1/`` (SPEC §3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from adapters.http import schemas, views
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import Resource, check_scope, register, runtime_of
from engine.db import EscalationChain, Integration, MaintenanceWindow, Route, Team, User
from engine.errors import NotFound
from engine.services import chains, directory, integrations, maintenance

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
INTEGRATIONS = Resource(
    "integration",
    Integration,
    schemas.IntegrationIn,
    schemas.IntegrationPatch,
    integrations.create_integration,
    integrations.update_integration,
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
RESOURCES = {
    "teams": TEAMS,
    "users": USERS,
    "integrations": INTEGRATIONS,
    "routes": ROUTES,
    "escalation_chains": CHAINS,
}
# Not config-as-code objects: maintenance windows are operations, not configuration.
API_ONLY = {"maintenance": MAINTENANCE}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    for path, resource in {**RESOURCES, **API_ONLY}.items():
        register(router, path, resource)

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
