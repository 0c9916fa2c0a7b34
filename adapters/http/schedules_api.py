"""The schedules API (SPEC §3, 4.2): CRUD, on-call answers, overrides and calendar feeds.

Besides CRUD: who is on call, final shifts, gaps, handoffs and the ``.ics`` feeds. Calendars are fetched before a transaction opens (a slow feed must not hold the database), and an
``ical`` schedule that is read while its copy is older than the refresh interval is refreshed
first. The ``.ics`` feeds accept ``?token=`` because calendar apps cannot send headers.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime.

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from adapters.http import schedule_views as views
from adapters.http import schemas
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import PageParams, paginate, runtime_of
from adapters.http.errors import ApiError
from adapters.http.views import iso
from adapters.ical import FeedEvent, render_feed, render_ics
from adapters.runtime import Runtime
from engine.clock import ensure_utc
from engine.db import Override
from engine.db import Schedule as ScheduleRow
from engine.db.session import UnitOfWork
from engine.errors import NotFound, ValidationFailed
from engine.rules.handoff import DEFAULT_HORIZON, coverage_gaps, handoffs
from engine.rules.oncall import final_shifts
from engine.services import calendar_sync, directory, oncall, schedules

MAX_RANGE = timedelta(days=366)
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)
_CALENDAR = "text/calendar; charset=utf-8"


def feed_caller(
    request: Request,
    token: str | None = Query(None, description="API token, for calendar apps that cannot send headers"),
) -> Caller:
    """Bearer header as everywhere, or the same token in ``?token=`` (calendar subscriptions)."""
    if request.headers.get("authorization"):
        return authenticate(request)
    if not token:
        raise ApiError(401, "send 'Authorization: Bearer <token>', or ?token=<token> from a calendar app")
    runtime = runtime_of(request)
    with runtime.db.unit() as uow:
        found = directory.find_token(uow.session, token)
        if found is None:
            raise ApiError(401, "invalid API token")
        found.last_used_at = runtime.deps.clock.now()
        return Caller(token_id=found.id, name=found.name, team_id=found.team_id)


def _visible(caller: Caller, row: ScheduleRow) -> ScheduleRow:
    if not caller.is_admin and row.team_id != caller.team_id:
        raise NotFound(f"schedule {row.id!r} does not exist")
    return row


def _scoped_fields(caller: Caller, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    if caller.is_admin:
        return fields
    if creating and fields.get("team_id") is None:
        fields["team_id"] = caller.team_id
    if "team_id" in fields and fields["team_id"] != caller.team_id:
        raise ApiError(403, f"this token may only manage team {caller.team_id}")
    for field in calendar_sync.ICAL_FIELDS:
        location = fields.get(field)
        # A path is read by the server itself: only an admin may point a schedule at its files.
        if location and urlsplit(location.strip()).scheme.lower() not in ("http", "https", "webcal"):
            raise ApiError(403, f"{field}: only an admin token may use a file path; give an http(s) URL")
    return fields


def _load(caller: Caller, schedule_id: str, uow: UnitOfWork) -> ScheduleRow:
    return _visible(caller, oncall.load_schedule(uow.session, schedule_id))


def _fresh(runtime: Runtime, schedule_id: str) -> None:
    calendar_sync.refresh_schedule(runtime.deps, schedule_id)


def _instant(value: datetime | None, runtime: Runtime) -> datetime:
    # A naive instant in a query string is taken as UTC.
    return runtime.deps.clock.now() if value is None else ensure_utc(value)


def _span(start: datetime, end: datetime, end_field: str) -> None:
    if end <= start:
        raise ValidationFailed(f"{end_field} must be after the start", field=end_field)
    if end - start > MAX_RANGE:
        raise ValidationFailed(f"the range may cover at most {MAX_RANGE.days} days", field=end_field)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    register_crud(router)
    register_queries(router)
    register_overrides(router)
    register_feeds(router)
    return router


def register_crud(router: APIRouter) -> None:
    @router.get("/schedules/", tags=["schedules"])
    def list_schedules(
        request: Request,
        paging: PageParams = Depends(),
        name: str | None = None,
        team_id: str | None = None,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        query = select(ScheduleRow).order_by(ScheduleRow.created_at, ScheduleRow.id)
        if not caller.is_admin:
            team_id = caller.team_id
        if team_id is not None:
            query = query.where(ScheduleRow.team_id == team_id)
        if name is not None:
            query = query.where(ScheduleRow.name == name)
        now = runtime.deps.clock.now()
        with runtime.db.unit() as uow:
            return paginate(
                request,
                uow.session,
                query,
                paging.page,
                paging.page_size,
                lambda r: views.schedule_view(r, now),
            )

    @router.post("/schedules/", tags=["schedules"], status_code=201)
    def create_schedule(
        body: schemas.ScheduleIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        fields = _scoped_fields(caller, body.model_dump(exclude_unset=True), creating=True)
        fetched = calendar_sync.fetch_fields(runtime.deps.calendars, fields)
        with runtime.db.unit() as uow:
            row = schedules.create_schedule(uow.session, runtime.deps, fields, fetched)
            out = views.schedule_view(row, runtime.deps.clock.now())
        return JSONResponse(out, status_code=201)

    @router.get("/schedules/{schedule_id}/", tags=["schedules"])
    def get_schedule(
        schedule_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            return views.schedule_view(_load(caller, schedule_id, uow), runtime.deps.clock.now())

    def change(
        schedule_id: str, body: schemas.SchedulePatch, request: Request, caller: Caller
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        fields = _scoped_fields(caller, body.model_dump(exclude_unset=True), creating=False)
        fetched = calendar_sync.fetch_fields(runtime.deps.calendars, fields)
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            row = schedules.update_schedule(uow.session, runtime.deps, schedule_id, fields, fetched)
            return views.schedule_view(row, runtime.deps.clock.now())

    @router.put("/schedules/{schedule_id}/", tags=["schedules"])
    def put_schedule(
        schedule_id: str,
        body: schemas.SchedulePatch,
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        return change(schedule_id, body, request, caller)

    @router.patch("/schedules/{schedule_id}/", tags=["schedules"])
    def patch_schedule(
        schedule_id: str,
        body: schemas.SchedulePatch,
        request: Request,
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        return change(schedule_id, body, request, caller)

    @router.delete("/schedules/{schedule_id}/", tags=["schedules"], status_code=204)
    def delete_schedule(
        schedule_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> Response:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            schedules.delete_schedule(uow.session, schedule_id)
        return Response(status_code=204)


def register_queries(router: APIRouter) -> None:
    @router.get("/schedules/{schedule_id}/oncall/", tags=["schedules"])
    def who_is_on_call(
        schedule_id: str,
        request: Request,
        at: datetime | None = Query(None, description="ISO 8601 instant; default now; naive means UTC"),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        instant = _instant(at, runtime)
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            stretch = oncall.on_call_stretch(uow.session, schedule_id, instant)
            users = views.users_by_id(uow.session, stretch.users)
            # A stretch reaching the look-ahead horizon has no known end.
            known_end = stretch.end < instant + DEFAULT_HORIZON
            return {
                "at": iso(instant),
                "users": [views.person(users, u) for u in stretch.users],
                "shift_end": iso(stretch.end) if known_end else None,
            }

    @router.get("/schedules/{schedule_id}/final_shifts/", tags=["schedules"])
    def list_final_shifts(
        schedule_id: str,
        request: Request,
        start_date: date = Query(..., description="first day (UTC), inclusive"),
        end_date: date = Query(..., description="last day (UTC), inclusive"),
        paging: PageParams = Depends(),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        start = datetime.combine(start_date, time(), tzinfo=UTC)
        end = datetime.combine(end_date + timedelta(days=1), time(), tzinfo=UTC)
        _span(start, end, "end_date")
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            row = _load(caller, schedule_id, uow)
            found = final_shifts(oncall.schedule_value(row), start, end)
            users = views.users_by_id(uow.session, {s.user_id for s in found})
            return views.page_of(
                request, found, paging.page, paging.page_size, lambda s: views.final_shift_view(users, s)
            )

    @router.get("/schedules/{schedule_id}/gaps/", tags=["schedules"])
    def list_gaps(
        schedule_id: str,
        request: Request,
        days: int = Query(14, ge=1, le=MAX_RANGE.days, description="how many days ahead to look"),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        start = runtime.deps.clock.now()
        end = start + timedelta(days=days)
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            row = _load(caller, schedule_id, uow)
            gaps = coverage_gaps(oncall.schedule_value(row), start, end)
        return {"start": iso(start), "end": iso(end), "gaps": [views.gap_view(g) for g in gaps]}

    @router.get("/schedules/{schedule_id}/handoffs/", tags=["schedules"])
    def list_handoffs(
        schedule_id: str,
        request: Request,
        start: datetime | None = Query(None, description="default now; naive means UTC"),
        end: datetime | None = Query(None, description="default start + 7 days"),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        begin = _instant(start, runtime)
        finish = begin + timedelta(days=7) if end is None else ensure_utc(end)
        _span(begin, finish, "end")
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            row = _load(caller, schedule_id, uow)
            found = handoffs(oncall.schedule_value(row), begin, finish)
            users = views.users_by_id(uow.session, {u for h in found for u in (*h.before, *h.after)})
            return {
                "start": iso(begin),
                "end": iso(finish),
                "handoffs": [views.handoff_view(users, h) for h in found],
            }


def register_overrides(router: APIRouter) -> None:
    @router.post("/schedules/{schedule_id}/overrides/", tags=["schedules"], status_code=201)
    def create_override(
        schedule_id: str, body: schemas.OverrideIn, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            override = schedules.add_override(
                uow.session, runtime.deps, schedule_id, body.model_dump(exclude_none=True)
            )
            out = views.override_view(override)
        return JSONResponse(out, status_code=201)

    @router.get("/schedules/{schedule_id}/overrides/", tags=["schedules"])
    def list_overrides(
        schedule_id: str,
        request: Request,
        paging: PageParams = Depends(),
        caller: Caller = Depends(authenticate),
    ) -> dict[str, Any]:
        runtime = runtime_of(request)
        query = (
            select(Override).where(Override.schedule_id == schedule_id).order_by(Override.start, Override.id)
        )
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            return paginate(request, uow.session, query, paging.page, paging.page_size, views.override_view)

    @router.delete("/schedules/{schedule_id}/overrides/{override_id}/", tags=["schedules"], status_code=204)
    def delete_override(
        schedule_id: str, override_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> Response:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            _load(caller, schedule_id, uow)
            schedules.delete_override(uow.session, schedule_id, override_id)
        return Response(status_code=204)


def register_feeds(router: APIRouter) -> None:
    @router.get("/schedules/{schedule_id}/export.ics", tags=["schedules"], response_class=Response)
    def export_schedule(
        schedule_id: str, request: Request, caller: Caller = Depends(feed_caller)
    ) -> Response:
        runtime = runtime_of(request)
        now = runtime.deps.clock.now()
        _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            row = _load(caller, schedule_id, uow)
            found = final_shifts(oncall.schedule_value(row), now - FEED_PAST, now + FEED_AHEAD)
            users = views.users_by_id(uow.session, {s.user_id for s in found})
            text = render_ics(
                found,
                calendar_id=row.id,
                generated_at=now,
                calendar_name=row.name,
                user_labels={u.id: u.name for u in users.values()},
            )
        return Response(text, media_type=_CALENDAR)

    @router.get("/users/{user_id}/schedule.ics", tags=["users"], response_class=Response)
    def export_user(user_id: str, request: Request, caller: Caller = Depends(feed_caller)) -> Response:
        runtime = runtime_of(request)
        now = runtime.deps.clock.now()
        with runtime.db.unit() as uow:
            user = directory.get_user(uow.session, user_id)
            user_name = user.name
            team_id = None if caller.is_admin else caller.team_id
            query = select(ScheduleRow.id).where(
                ScheduleRow.ical_url_primary.is_not(None) | ScheduleRow.ical_url_overrides.is_not(None)
            )
            if team_id is not None:
                query = query.where(ScheduleRow.team_id == team_id)
            imported = list(uow.session.scalars(query))
        for schedule_id in imported:
            _fresh(runtime, schedule_id)
        with runtime.db.unit() as uow:
            found = oncall.user_final_shifts(uow.session, user_id, now - FEED_PAST, now + FEED_AHEAD, team_id)
            events = [FeedEvent(shift, row.id, f"On call: {row.name}") for row, shift in found]
        text = render_feed(events, generated_at=now, calendar_name=f"{user_name}: on call")
        return Response(text, media_type=_CALENDAR)
