"""Grafana OnCall-compatible aliases, so scripts written for its public API keep working after a move.

``/api/v1/alert_groups/`` lists and acts on incidents in OnCall's shape (states ``new``, ``acknowledged``,
``silenced``, ``resolved``; actions ``acknowledge``, ``unacknowledge``, ``resolve``, ``unresolve``,
``silence`` with ``{"delay": seconds}`` where -1 means "until further notice", ``unsilence``), and
``/api/v1/resolution_notes/`` reads and adds incident notes. Paths work with or without the trailing
slash, as OnCall's documentation writes them without. Everything goes through the same services, scoping
and timeline as ``incidents/``; only the names and shapes differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select

from adapters.http.auth import Caller, authenticate
from adapters.http.crud import PageParams, paginate, runtime_of
from adapters.http.errors import ApiError
from adapters.http.incidents_api import IncidentFilters, actor_of, apply_action, scoped
from adapters.http.schemas import Body
from adapters.http.views import iso
from engine.db import Incident, Note
from engine.errors import NotFound
from engine.services import incidents
from engine.services.incidents import Actor

# OnCall's "until further notice" silence; Tocsin silences are bounded, so it becomes 30 days.
FOREVER_SECONDS = 30 * 86400
_STATES_IN = {"new": "firing"}
_STATES_OUT = {"firing": "new"}


class SilenceIn(Body):
    delay: int = Field(description="seconds, or -1 for until further notice")


class ResolutionNoteIn(Body):
    alert_group_id: str
    text: str = Field(min_length=1, max_length=10_000)


def alert_group_view(incident: Incident, public_base: str) -> dict[str, Any]:
    return {
        "id": incident.id,
        "number": incident.number,
        "integration_id": incident.integration_id,
        "route_id": incident.route_id,
        "team_id": incident.team_id,
        "alerts_count": incident.alerts_count,
        "state": _STATES_OUT.get(incident.state, incident.state),
        "created_at": iso(incident.created_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": iso(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "silenced_at": None,
        "silenced_until": iso(incident.silenced_until),
        "title": incident.title,
        "labels": [
            {"key": {"name": k}, "value": {"name": str(v)}} for k, v in (incident.labels or {}).items()
        ],
        "permalinks": {"web": f"{public_base}/api/v1/incidents/{incident.id}/"},
    }


def resolution_note_view(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "alert_group_id": note.incident_id,
        "author": note.author,
        "source": note.channel or "web",
        "is_resolution": note.is_resolution,
        "created_at": iso(note.created_at),
        "text": note.text,
    }


def _route(router: APIRouter, path: str, endpoint: Callable[..., Any], method: str, **kwargs: Any) -> None:
    """Register ``path`` with and without its trailing slash (only the slashed one in the schema)."""
    router.add_api_route(path, endpoint, methods=[method], **kwargs)
    router.add_api_route(path.rstrip("/"), endpoint, methods=[method], include_in_schema=False)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["grafana oncall compatibility"])

    def list_alert_groups(
        request: Request,
        paging_params: PageParams = Depends(),
        state: str | None = Query(None, description="new, acknowledged, silenced or resolved"),
        team_id: str | None = None,
        integration_id: str | None = None,
        route_id: str | None = None,
        labels: list[str] = Query(default_factory=list, description="key:value", max_length=20),
        label: list[str] = Query(
            default_factory=list, description="the same, as incidents/ names it", max_length=20
        ),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        filters = IncidentFilters(
            state=_STATES_IN.get(state or "", state),
            team_id=team_id,
            integration_id=integration_id,
            from_=None,
            to=None,
            label=labels + label,
        )
        query = filters.query(caller)
        if route_id:
            query = query.where(Incident.route_id == route_id)
        runtime = runtime_of(request)
        public = runtime.settings.public_base
        with runtime.db.unit() as uow:
            return paginate(
                request,
                uow.session,
                query,
                paging_params.page,
                paging_params.page_size,
                lambda i: alert_group_view(i, public),
            )

    def get_alert_group(ref: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            return alert_group_view(
                scoped(caller, incidents.find(uow.session, ref)), runtime.settings.public_base
            )

    _route(router, "/alert_groups/", list_alert_groups, "GET")
    _route(router, "/alert_groups/{ref}/", get_alert_group, "GET")

    def answer(request: Request, incident_id: str) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            return alert_group_view(incidents.find(uow.session, incident_id), runtime.settings.public_base)

    def simple(action: Callable[[Any, str, Actor], Any]) -> Callable[..., dict[str, Any]]:
        def endpoint(ref: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
            return answer(request, apply_action(request, caller, ref, action))

        return endpoint

    actions: dict[str, Callable[[Any, str, Actor], Any]] = {
        "acknowledge": incidents.acknowledge,
        "unacknowledge": incidents.unacknowledge,
        "resolve": lambda deps, i, actor: incidents.resolve(deps, i, actor, None),
        "unresolve": incidents.unresolve,
        "unsilence": incidents.unsilence,
    }
    for name, action in actions.items():
        _route(router, f"/alert_groups/{{ref}}/{name}/", simple(action), "POST", name=f"alert_group_{name}")

    def silence(
        ref: str, body: SilenceIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        if body.delay == -1:
            seconds = FOREVER_SECONDS
        elif 1 <= body.delay <= FOREVER_SECONDS:
            seconds = body.delay
        else:
            raise ApiError(400, f"delay must be between 1 and {FOREVER_SECONDS} seconds, or -1")
        incident_id = apply_action(
            request, caller, ref, lambda deps, i, actor: incidents.silence(deps, i, actor, seconds)
        )
        return answer(request, incident_id)

    _route(router, "/alert_groups/{ref}/silence/", silence, "POST")

    def list_notes(
        request: Request,
        paging_params: PageParams = Depends(),
        alert_group_id: str | None = None,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        query = select(Note).join(Incident, Incident.id == Note.incident_id)
        if not caller.is_admin:
            query = query.where(Incident.team_id == caller.team_id)
        if alert_group_id:
            with runtime.db.unit() as uow:
                incident = scoped(caller, incidents.find(uow.session, alert_group_id))
            query = query.where(Note.incident_id == incident.id)
        # Same-instant ties: a resolution note comes after the notes written before resolving.
        query = query.order_by(Note.created_at, Note.is_resolution, Note.id)
        with runtime.db.unit() as uow:
            return paginate(
                request, uow.session, query, paging_params.page, paging_params.page_size, resolution_note_view
            )

    def get_note(note_id: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            note = uow.session.get(Note, note_id)
            if note is None:
                raise NotFound("resolution note does not exist")
            scoped(caller, incidents.find(uow.session, note.incident_id))
            return resolution_note_view(note)

    def add_note(
        body: ResolutionNoteIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            incident_id = scoped(caller, incidents.find(uow.session, body.alert_group_id)).id
        note = incidents.add_note(runtime.deps, incident_id, actor_of(caller), body.text)
        return JSONResponse(resolution_note_view(note), status_code=201)

    _route(router, "/resolution_notes/", list_notes, "GET")
    _route(router, "/resolution_notes/{note_id}/", get_note, "GET")
    _route(router, "/resolution_notes/", add_note, "POST", status_code=201)
    return router
