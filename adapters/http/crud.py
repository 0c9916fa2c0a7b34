"""List/get/create/update/delete endpoints built once for every REST resource."""

# No `from __future__ import annotations` here: FastAPI must see the real body classes that
# `register` closes over, not their names.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from adapters.http.auth import Caller, authenticate
from adapters.http.errors import ApiError
from adapters.runtime import Runtime
from engine.clock import Clock
from engine.errors import NotFound

MAX_PAGE_SIZE = 500


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def paginate(
    request: Request,
    session: Session,
    query: Select[Any],
    page: int,
    page_size: int,
    view: Callable[[Any], Any],
) -> dict[str, Any]:
    """SPEC §3 pagination: ``{"count", "next", "previous", "results"}``."""
    count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * page_size).limit(page_size)).unique().all()

    def link(number: int) -> str:
        return str(request.url.include_query_params(page=number, page_size=page_size))

    return {
        "count": count,
        "next": link(page + 1) if page * page_size < count else None,
        "previous": link(page - 1) if page > 1 and count else None,
        "results": [view(row) for row in rows],
    }


class PageParams:
    def __init__(
        self,
        page: int = Query(1, ge=1, description="1-based page number"),
        page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    ) -> None:
        self.page = page
        self.page_size = page_size


@dataclass
class Resource:
    """How one REST resource maps to its engine service functions."""

    name: str
    model: type[Any]
    create_schema: type[BaseModel]
    patch_schema: type[BaseModel]
    create: Callable[[Session, Clock, dict[str, Any]], Any]
    update: Callable[[Session, str, dict[str, Any]], Any]
    delete: Callable[[Session, str], None]
    view: Callable[[Any, Runtime], dict[str, Any]]
    # Attribute holding the owning team, so team-scoped tokens see only their own objects.
    team_attr: str | None = "team_id"


def check_scope(caller: Caller, resource: Resource, obj: Any) -> None:
    if caller.is_admin or resource.team_attr is None:
        return
    if getattr(obj, resource.team_attr, None) != caller.team_id:
        raise NotFound(f"{resource.name} {getattr(obj, 'id', '?')!r} does not exist")


def _scope_fields(caller: Caller, resource: Resource, fields: dict[str, Any]) -> None:
    if caller.is_admin or resource.team_attr is None:
        return
    team = fields.get(resource.team_attr)
    if team is None:
        fields[resource.team_attr] = caller.team_id
    elif team != caller.team_id:
        raise ApiError(403, f"this token may only manage team {caller.team_id}")


def register(router: APIRouter, path: str, resource: Resource) -> None:
    model = resource.model

    def load(session: Session, caller: Caller, obj_id: str) -> Any:
        obj = session.get(model, obj_id)
        if obj is None:
            raise NotFound(f"{resource.name} {obj_id!r} does not exist")
        check_scope(caller, resource, obj)
        return obj

    @router.get(f"/{path}/", name=f"list_{path}", tags=[path])
    def list_objects(
        request: Request, paging: PageParams = Depends(), caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        query = select(model).order_by(model.created_at, model.id)
        if not caller.is_admin and resource.team_attr:
            query = query.where(getattr(model, resource.team_attr) == caller.team_id)
        with runtime.db.unit() as uow:
            return paginate(
                request,
                uow.session,
                query,
                paging.page,
                paging.page_size,
                lambda o: resource.view(o, runtime),
            )

    @router.get(f"/{path}/{{obj_id}}/", name=f"get_{path}", tags=[path])
    def get_object(obj_id: str, request: Request, caller: Caller = Depends(authenticate)) -> dict[str, Any]:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            return resource.view(load(uow.session, caller, obj_id), runtime)

    create_schema = resource.create_schema
    patch_schema = resource.patch_schema

    @router.post(f"/{path}/", name=f"create_{path}", tags=[path], status_code=201)
    def create_object(
        body: create_schema,  # type: ignore[valid-type]
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> JSONResponse:
        runtime = runtime_of(request)
        fields = body.model_dump(exclude_unset=True)
        _scope_fields(caller, resource, fields)
        with runtime.db.unit() as uow:
            obj = resource.create(uow.session, runtime.deps.clock, fields)
            out = resource.view(obj, runtime)
        return JSONResponse(out, status_code=201)

    def update_object(obj_id: str, body: BaseModel, request: Request, caller: Caller) -> dict[str, Any]:
        runtime = runtime_of(request)
        fields = body.model_dump(exclude_unset=True)
        with runtime.db.unit() as uow:
            load(uow.session, caller, obj_id)
            if resource.team_attr in fields:
                _scope_fields(caller, resource, fields)
            obj = resource.update(uow.session, obj_id, fields)
            return resource.view(obj, runtime)

    @router.put(f"/{path}/{{obj_id}}/", name=f"update_{path}", tags=[path])
    def put_object(
        obj_id: str,
        body: patch_schema,  # type: ignore[valid-type]
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        return update_object(obj_id, body, request, caller)

    @router.patch(f"/{path}/{{obj_id}}/", name=f"patch_{path}", tags=[path])
    def patch_object(
        obj_id: str,
        body: patch_schema,  # type: ignore[valid-type]
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        return update_object(obj_id, body, request, caller)

    @router.delete(f"/{path}/{{obj_id}}/", name=f"delete_{path}", tags=[path], status_code=204)
    def delete_object(obj_id: str, request: Request, caller: Caller = Depends(authenticate)) -> Response:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            load(uow.session, caller, obj_id)
            resource.delete(uow.session, obj_id)
        return Response(status_code=204)
