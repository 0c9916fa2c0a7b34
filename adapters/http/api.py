"""The REST API under ``/api/v1/`` (SPEC §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from adapters.http import schemas, views
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import PageParams, Resource, check_scope, paginate, register, runtime_of
from engine.clock import ensure_utc
from engine.db import EscalationChain, Incident, Integration, Route, Team, User
from engine.errors import NotFound
from engine.model.incident import IncidentState
from engine.services import chains, directory, integrations

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
    lambda i, r: views.integration_view(i, r.settings.public_base),
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
RESOURCES = {
    "teams": TEAMS,
    "users": USERS,
    "integrations": INTEGRATIONS,
    "routes": ROUTES,
    "escalation_chains": CHAINS,
}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    for path, resource in RESOURCES.items():
        register(router, path, resource)

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

    @router.get("/incidents/", tags=["incidents"])
    def list_incidents(
        request: Request,
        paging: PageParams = Depends(),
        state: str | None = Query(None, description="firing, acknowledged, resolved or silenced"),
        team_id: str | None = None,
        integration_id: str | None = None,
        from_: datetime | None = Query(None, alias="from"),
        to: datetime | None = None,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        query = select(Incident).order_by(Incident.created_at.desc(), Incident.number.desc())
        if state:
            try:
                query = query.where(Incident.state == IncidentState.parse(state).value)
            except ValueError as exc:
                raise NotFound(f"unknown state {state!r}") from exc
        if not caller.is_admin:
            team_id = caller.team_id
        if team_id:
            query = query.where(Incident.team_id == team_id)
        if integration_id:
            query = query.where(Incident.integration_id == integration_id)
        if from_:
            query = query.where(Incident.created_at >= ensure_utc(from_))
        if to:
            query = query.where(Incident.created_at < ensure_utc(to))
        public = runtime.settings.public_base
        with runtime.db.unit() as uow:
            return paginate(
                request,
                uow.session,
                query,
                paging.page,
                paging.page_size,
                lambda i: views.incident_view(i, public),
            )

    @router.get("/incidents/{incident_ref}/", tags=["incidents"])
    def get_incident(
        incident_ref: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            incident = find_incident(uow.session, incident_ref)
            check_scope(caller, INTEGRATIONS, incident)
            return views.incident_view(incident, runtime.settings.public_base)

    return router


def find_incident(session: Any, ref: str) -> Incident:
    """An incident by its id or its number (SPEC §3)."""
    incident = session.get(Incident, ref)
    if incident is None and ref.isdigit():
        incident = session.scalar(select(Incident).where(Incident.number == int(ref)))
    if incident is None:
        raise NotFound(f"incident {ref!r} does not exist")
    return incident
