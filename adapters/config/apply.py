"""``tocsin apply``: config as code over the same schemas and services as the REST API.

The whole file is validated first and applied in one transaction: an invalid file changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.config.yamlsource import Path, YamlError, line_of, load_with_lines
from adapters.http import api, schemas, views
from adapters.http.crud import Resource
from adapters.runtime import Runtime
from engine.db import Schedule
from engine.errors import TocsinError, ValidationFailed
from engine.services import calendar_sync, directory, schedules
from engine.services.calendar_sync import Fetched

# The order objects are created in, so references resolve; deletion (--prune) runs backwards.
# A team's primary_schedule_id names a schedule created after it; it is set in a second pass.
KINDS = ("teams", "users", "schedules", "webhooks", "escalation_chains", "integrations", "routes")
_EXTRA_USER_FIELDS = {"notification_channels", "notification_timing", "default_rules", "important_rules"}


@dataclass
class Change:
    kind: str
    obj_id: str
    action: str  # "create", "update", "delete", "unchanged"
    fields: list[str] = field(default_factory=list)

    def line(self) -> str:
        symbol = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}[self.action]
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{symbol} {self.kind[:-1]} {self.obj_id}{detail}"


@dataclass
class Plan:
    items: list[tuple[str, int, dict[str, Any], BaseModel, dict[str, Any] | None]]


class ApplyError(Exception):
    """The file is invalid; nothing was applied. ``str()`` names the line and field."""


def _error(lines: dict[Path, int], path: Path, detail: str) -> ApplyError:
    line = line_of(lines, path)
    where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
    return ApplyError(f"line {line}: {where}: {detail}" if line else f"{where}: {detail}")


def field_path(field_name: str | None) -> Path:
    """``"steps[2].duration"`` → ``("steps", 2, "duration")``."""
    if not field_name:
        return ()
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", field_name):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def parse_file(text: str) -> tuple[Plan, dict[Path, int]]:
    try:
        data, lines = load_with_lines(text)
    except YamlError as exc:
        raise ApplyError(str(exc)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApplyError("line 1: the file must be a mapping with keys such as teams:, users:")
    for key in data:
        if key not in KINDS:
            raise _error(lines, (key,), f"unknown section; expected one of {', '.join(KINDS)}")
    items: list[tuple[str, int, dict[str, Any], BaseModel, dict[str, Any] | None]] = []
    seen: dict[tuple[str, str], int] = {}
    for kind in KINDS:
        objects = data.get(kind) or []
        if not isinstance(objects, list):
            raise _error(lines, (kind,), "must be a list of objects")
        schema = schemas.ScheduleIn if kind == "schedules" else api.RESOURCES[kind].create_schema
        for index, raw in enumerate(objects):
            path: Path = (kind, index)
            if not isinstance(raw, dict):
                raise _error(lines, path, "must be an object")
            if not raw.get("id"):
                raise _error(lines, path, "needs an id, so applying the file again updates the same object")
            key = (kind, str(raw["id"]))
            if key in seen:
                raise _error(lines, (*path, "id"), f"duplicate id {raw['id']!r} (also item {seen[key]})")
            seen[key] = index
            body = dict(raw)
            extra = None
            if kind == "users":
                extra = {k: body.pop(k) for k in list(body) if k in _EXTRA_USER_FIELDS} or None
            model = _validate(schema, body, lines, path)
            if extra is not None:
                _validate(schemas.NotificationChannelsIn, extra, lines, path)
            items.append((kind, index, body, model, extra))
    return Plan(items), lines


def _validate(schema: type[BaseModel], body: dict[str, Any], lines: dict[Path, int], path: Path) -> BaseModel:
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first.get("loc", ()))
        raise _error(lines, (*path, *loc), first.get("msg", "invalid")) from exc


def apply_text(runtime: Runtime, text: str, prune: bool = False) -> list[Change]:
    """Validate and apply; raise :class:`ApplyError` (nothing applied) on any problem."""
    plan, lines = parse_file(text)
    changes: list[Change] = []
    clock = runtime.deps.clock
    calendars = _fetch_new_calendars(runtime, plan)
    primary_schedules: list[tuple[int, Change, str | None]] = []
    with runtime.db.unit() as uow:
        session = uow.session
        for kind, index, body, model, extra in plan.items:
            try:
                if kind == "schedules":
                    change = _apply_schedule(session, runtime, body, model, calendars.get(str(body["id"])))
                else:
                    change = _apply_one(session, runtime, kind, body, model, extra, clock)
            except TocsinError as exc:
                path: Path = (kind, index, *field_path(getattr(exc, "field", None)))
                raise _error(lines, path, exc.detail) from exc
            changes.append(change)
            if kind == "teams" and "primary_schedule_id" in model.model_fields_set:
                primary_schedules.append((index, change, getattr(model, "primary_schedule_id", None)))
        for index, change, schedule_id in primary_schedules:
            try:
                _set_primary_schedule(session, change, schedule_id)
            except TocsinError as exc:
                raise _error(lines, ("teams", index, "primary_schedule_id"), exc.detail) from exc
        if prune:
            changes.extend(_prune(session, plan))
    return changes


def _apply_one(
    session: Session,
    runtime: Runtime,
    kind: str,
    body: dict[str, Any],
    model: BaseModel,
    extra: dict[str, Any] | None,
    clock: Any,
) -> Change:
    resource: Resource = api.RESOURCES[kind]
    obj_id = str(body["id"])
    fields = model.model_dump(exclude_unset=True)
    if kind == "teams":
        fields.pop("primary_schedule_id", None)  # the second pass sets it, once schedules exist
    existing = session.get(resource.model, obj_id)
    if existing is None:
        obj = resource.create(session, clock, fields)
        _apply_extra(session, obj_id, extra)
        return Change(kind, obj_id, "create")
    before = resource.view(existing, runtime)
    before_settings = views.notification_view(existing) if kind == "users" else None
    update = {k: v for k, v in fields.items() if k != "id"}
    obj = resource.update(session, obj_id, update)
    _apply_extra(session, obj_id, extra)
    after = resource.view(obj, runtime)
    changed = sorted(k for k in after if before.get(k) != after.get(k))
    if kind == "users" and before_settings != views.notification_view(obj):
        changed.append("notification_channels")
    return Change(kind, obj_id, "update" if changed else "unchanged", changed)


def _fetch_new_calendars(runtime: Runtime, plan: Plan) -> dict[str, dict[str, Fetched]]:
    """Fetch the calendars of new schedules and changed locations, before the transaction opens."""
    wanted: dict[str, dict[str, Any]] = {}
    with runtime.db.unit() as uow:
        for kind, _index, body, model, _extra in plan.items:
            if kind != "schedules":
                continue
            fields = model.model_dump(exclude_unset=True)
            existing = uow.session.get(Schedule, str(body["id"]))
            wanted[str(body["id"])] = {
                f: fields[f]
                for f in calendar_sync.ICAL_FIELDS
                if fields.get(f) and (existing is None or getattr(existing, f) != fields[f])
            }
    return {
        obj_id: calendar_sync.fetch_fields(runtime.deps.calendars, f) for obj_id, f in wanted.items() if f
    }


def _apply_schedule(
    session: Session,
    runtime: Runtime,
    body: dict[str, Any],
    model: BaseModel,
    fetched: dict[str, Fetched] | None,
) -> Change:
    obj_id = str(body["id"])
    fields = model.model_dump(exclude_unset=True)
    existing = session.get(Schedule, obj_id)
    if existing is None:
        schedules.create_schedule(session, runtime.deps, fields, fetched)
        return Change("schedules", obj_id, "create")
    # Only the configuration counts: on-call answers and fetch times change by themselves.
    before = schedules.config_of(existing)
    after = schedules.config_of(schedules.update_schedule(session, runtime.deps, obj_id, fields, fetched))
    changed = sorted(k for k in after if before.get(k) != after.get(k))
    return Change("schedules", obj_id, "update" if changed else "unchanged", changed)


def _set_primary_schedule(session: Session, change: Change, schedule_id: str | None) -> None:
    if schedule_id is not None and session.get(Schedule, schedule_id) is None:
        raise ValidationFailed(f"schedule {schedule_id!r} does not exist", field="primary_schedule_id")
    team = directory.get_team(session, change.obj_id)
    if team.primary_schedule_id == schedule_id:
        return
    directory.update_team(session, change.obj_id, {"primary_schedule_id": schedule_id})
    if change.action == "unchanged":
        change.action = "update"
    if change.action == "update":
        change.fields = sorted({*change.fields, "primary_schedule_id"})


def _apply_extra(session: Session, user_id: str, extra: dict[str, Any] | None) -> None:
    if extra is None:
        return
    settings = schemas.NotificationChannelsIn.model_validate(extra)
    dumped = settings.model_dump(exclude={"user_id"}, exclude_none=True, mode="json")
    directory.update_user(session, user_id, {"notification_settings": dumped})


def _prune(session: Session, plan: Plan) -> list[Change]:
    keep: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, _index, body, _model, _extra in plan.items:
        keep[kind].add(str(body["id"]))
    changes: list[Change] = []
    for kind in reversed(KINDS):
        if kind == "schedules":
            for obj_id in list(session.scalars(select(Schedule.id))):
                if obj_id not in keep[kind]:
                    schedules.delete_schedule(session, obj_id)
                    changes.append(Change(kind, obj_id, "delete"))
            continue
        resource = api.RESOURCES[kind]
        query = select(resource.model.id)
        if kind == "routes":
            query = query.where(resource.model.is_default.is_(False))
        for obj_id in list(session.scalars(query)):
            if obj_id not in keep[kind]:
                resource.delete(session, obj_id)
                changes.append(Change(kind, obj_id, "delete"))
    return changes
