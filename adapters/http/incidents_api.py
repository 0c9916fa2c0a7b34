"""Incidents: list, read, timeline and actions (SPEC §3); direct paging (``POST escalation/``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Select, select

from adapters.http import views
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import PageParams, paginate, runtime_of
from adapters.http.errors import ApiError
from adapters.http.schemas import Body
from engine.clock import ensure_utc
from engine.db import Incident, Note, TimelineEntry
from engine.errors import NotFound
from engine.model.incident import IncidentState
from engine.services import incidents, paging, stats
from engine.services.incidents import Actor


class SilenceIn(Body):
    duration: int = Field(ge=1, le=30 * 86400, description="seconds")


class NoteIn(Body):
    text: str = Field(min_length=1, max_length=10_000)


class ResolveIn(Body):
    note: str | None = Field(default=None, max_length=10_000)


class ResponderIn(Body):
    id: str
    important: bool = False


class PageIn(Body):
    incident_id: str | None = Field(default=None, description="add responders to this incident instead")
    title: str = Field(default="", max_length=1000)
    message: str = Field(default="", max_length=20_000)
    team_id: str | None = None
    users: list[ResponderIn] = Field(default_factory=list)


class IncidentFilters:
    """The incident list's filters, shared by ``incidents/`` and the Grafana OnCall ``alert_groups/``."""

    def __init__(
        self,
        state: str | None = Query(None, description="firing, acknowledged, resolved or silenced"),
        team_id: str | None = None,
        integration_id: str | None = None,
        from_: datetime | None = Query(None, alias="from", description="created at or after"),
        to: datetime | None = Query(None, description="created before"),
        label: list[str] = Query(
            default_factory=list, description="key:value (repeatable; all must match)", max_length=20
        ),
    ) -> None:
        self.state = state
        self.team_id = team_id
        self.integration_id = integration_id
        self.from_ = from_
        self.to = to
        self.labels = [_label_pair(text) for text in label]

    def query(self, caller: Caller) -> Select[tuple[Incident]]:
        query = select(Incident).order_by(Incident.created_at.desc(), Incident.number.desc())
        if self.state:
            try:
                query = query.where(Incident.state == IncidentState.parse(self.state).value)
            except ValueError as exc:
                raise ApiError(
                    400, f"unknown state {self.state!r}; use firing, acknowledged, resolved or silenced"
                ) from exc
        team_id = self.team_id if caller.is_admin else caller.team_id
        if team_id:
            query = query.where(Incident.team_id == team_id)
        if self.integration_id:
            query = query.where(Incident.integration_id == self.integration_id)
        if self.from_:
            query = query.where(Incident.created_at >= ensure_utc(self.from_))
        if self.to:
            query = query.where(Incident.created_at < ensure_utc(self.to))
        for key, value in self.labels:
            query = query.where(Incident.labels[key].as_string() == value)
        return query


def apply_action(request: Request, caller: Caller, ref: str, action: Callable[[Any, str, Actor], Any]) -> str:
    """Run one incident action as the caller (team-scoped); answers the incident's id."""
    runtime = runtime_of(request)
    with runtime.db.unit() as uow:
        incident_id = scoped(caller, incidents.find(uow.session, ref)).id
    action(runtime.deps, incident_id, actor_of(caller))
    return incident_id


def _day(text: str, name: str) -> date:
    """A day from ``2026-02-01`` or from a datetime such as ``2026-02-01T23:00:00Z`` (its date)."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError as exc:
        raise ApiError(400, f"{name} must be a date like 2026-02-01 (or a datetime), not {text!r}") from exc


def _label_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep or not key.strip():
        raise ApiError(400, f"label filter {text!r} must look like key:value, e.g. severity:critical")
    return key.strip(), value.strip()


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.name, "api")


def scoped(caller: Caller, incident: Incident) -> Incident:
    if not caller.is_admin and incident.team_id != caller.team_id:
        raise NotFound("incident does not exist")
    return incident


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["incidents"])

    @router.get("/incidents/")
    def list_incidents(
        request: Request,
        paging_params: PageParams = Depends(),
        filters: IncidentFilters = Depends(),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        public = runtime.settings.public_base
        with runtime.db.unit() as uow:
            return paginate(
                request,
                uow.session,
                filters.query(caller),
                paging_params.page,
                paging_params.page_size,
                lambda i: views.incident_view(i, public),
            )

    @router.get("/incidents/stats/")
    def get_stats(
        request: Request,
        from_: str = Query(alias="from", description="first day, e.g. 2026-02-01 (a datetime's date counts)"),
        to: str = Query(description="last day, inclusive (a datetime's date counts)"),
        time_zone: str = Query("UTC", description="zone for day buckets"),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        team_id = None if caller.is_admin else caller.team_id
        first, last = _day(from_, "from"), _day(to, "to")
        return stats.stats(runtime.deps, first, last, time_zone, team_id).as_dict()

    @router.get("/incidents/{ref}/")
    def get_incident(ref: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            incident = scoped(caller, incidents.find(uow.session, ref))
            return views.incident_view(incident, runtime.settings.public_base)

    @router.get("/incidents/{ref}/timeline/")
    def get_timeline(ref: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            incident = scoped(caller, incidents.find(uow.session, ref))
            entries = uow.session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.incident_id == incident.id)
                .order_by(TimelineEntry.at, TimelineEntry.id)
            )
            notes = uow.session.scalars(
                select(Note)
                .where(Note.incident_id == incident.id)
                .order_by(Note.is_resolution.desc(), Note.created_at)
            )
            return {
                "incident_id": incident.id,
                "number": incident.number,
                "results": [views.timeline_view(e) for e in entries],
                "notes": [views.note_view(n) for n in notes],
            }

    def act(
        request: Request, caller: Caller, ref: str, action: Callable[[Any, str, Actor], Any]
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        incident_id = apply_action(request, caller, ref, action)
        with runtime.db.unit() as uow:
            return views.incident_view(incidents.find(uow.session, incident_id), runtime.settings.public_base)

    simple = {
        "acknowledge": incidents.acknowledge,
        "unacknowledge": incidents.unacknowledge,
        "unresolve": incidents.unresolve,
        "unsilence": incidents.unsilence,
        "escalate": incidents.escalate,
    }
    for name, action in simple.items():
        router.add_api_route(
            f"/incidents/{{ref}}/{name}/",
            _simple_action(act, action),
            methods=["POST"],
            name=f"incident_{name}",
        )

    @router.post("/incidents/{ref}/resolve/")
    def resolve(
        ref: str, request: Request, body: ResolveIn | None = None, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        note = body.note if body else None
        return act(request, caller, ref, lambda deps, i, actor: incidents.resolve(deps, i, actor, note))

    @router.post("/incidents/{ref}/silence/")
    def silence(
        ref: str, body: SilenceIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        return act(
            request, caller, ref, lambda deps, i, actor: incidents.silence(deps, i, actor, body.duration)
        )

    @router.post("/incidents/{ref}/notes/", status_code=201)
    def add_note(
        ref: str, body: NoteIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            incident_id = scoped(caller, incidents.find(uow.session, ref)).id
        note = incidents.add_note(runtime.deps, incident_id, actor_of(caller), body.text)
        return JSONResponse(views.note_view(note), status_code=201)

    @router.post("/escalation/", status_code=201)
    def direct_page(body: PageIn, request: Request, caller: Caller = Depends(authenticate)) -> JSONResponse:
        runtime = runtime_of(request)
        responders = [paging.Responder(u.id, u.important) for u in body.users]
        if body.incident_id is not None:
            with runtime.db.unit() as uow:
                incident_id = scoped(caller, incidents.find(uow.session, body.incident_id)).id
            paging.add_responders(runtime.deps, incident_id, actor_of(caller), responders)
            with runtime.db.unit() as uow:
                view = views.incident_view(
                    incidents.find(uow.session, incident_id), runtime.settings.public_base
                )
            return JSONResponse(view, status_code=200)
        team_id = body.team_id if caller.is_admin else (body.team_id or caller.team_id)
        if not caller.is_admin and team_id != caller.team_id:
            raise ApiError(403, f"this token may only page team {caller.team_id}")
        incident = paging.page(
            runtime.deps,
            body.title,
            body.message,
            actor_of(caller),
            team_id,
            responders,
        )
        with runtime.db.unit() as uow:
            view = views.incident_view(incidents.find(uow.session, incident.id), runtime.settings.public_base)
        return JSONResponse(view, status_code=201)

    return router


def _simple_action(act: Callable[..., dict[str, Any]], action: Callable[[Any, str, Actor], Any]) -> Any:
    def endpoint(ref: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        return act(request, caller, ref, action)

    return endpoint
