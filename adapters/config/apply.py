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
from engine.errors import TocsinError
from engine.services import directory

# The order objects are created in, so references resolve; deletion (--prune) runs backwards.
KINDS = ("teams", "users", "escalation_chains", "integrations", "routes")
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
        resource = api.RESOURCES[kind]
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
            model = _validate(resource.create_schema, body, lines, path)
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
    with runtime.db.unit() as uow:
        session = uow.session
        for kind, index, body, model, extra in plan.items:
            try:
                changes.append(_apply_one(session, runtime, kind, body, model, extra, clock))
            except TocsinError as exc:
                path: Path = (kind, index, *field_path(getattr(exc, "field", None)))
                raise _error(lines, path, exc.detail) from exc
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
        resource = api.RESOURCES[kind]
        query = select(resource.model.id)
        if kind == "routes":
            query = query.where(resource.model.is_default.is_(False))
        for obj_id in list(session.scalars(query)):
            if obj_id not in keep[kind]:
                resource.delete(session, obj_id)
                changes.append(Change(kind, obj_id, "delete"))
    return changes
