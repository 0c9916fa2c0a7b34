"""Schedules and their overrides: create, update, delete, with SPEC 4.2 validation.

Shifts are validated by :mod:`engine.rules.shift_input` and stored in a canonical JSON form
(UTC instants, ``HH:MM:SS`` times, ``MO``-style days), so what the API shows back, and what
``tocsin apply`` compares, does not depend on how the input was spelled. Imported calendars are
:mod:`engine.services.calendar_sync`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.db import Override as OverrideRow
from engine.db import Schedule as ScheduleRow
from engine.db import Shift as ShiftRow
from engine.db import Team, User
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.model.schedule import Shift
from engine.rules.shift_input import parse_override, parse_schedule
from engine.services import calendar_sync
from engine.services.deps import Deps
from engine.services.directory import require_team
from engine.services.oncall import ICAL_OVERRIDES, ICAL_PRIMARY, api_shifts, load_schedule

SCHEDULE_TYPES = ("calendar", "ical", "web")
CONFIG_FIELDS = ("name", "team_id", "type", "time_zone", ICAL_PRIMARY, ICAL_OVERRIDES)
# Every spelling parse_shift reads; anything else in a shift is a typo worth a 422.
SHIFT_FIELDS = frozenset(
    {
        "name",
        "type",
        "users",
        "rolling_users",
        "rotation_start",
        "start",
        "duration",
        "frequency",
        "interval",
        "week_start",
        "by_day",
        "by_monthday",
        "start_time",
        "end_time",
        "until",
        "priority_level",
        "level",
        "time_zone",
        "start_rotation_from_user_index",
    }
)


def create_schedule(
    session: Session,
    deps: Deps,
    fields: Mapping[str, Any],
    fetched: Mapping[str, calendar_sync.Fetched] | None = None,
) -> ScheduleRow:
    """Create a schedule; an ``ical`` one has its calendars fetched (or taken from ``fetched``)."""
    schedule_id = fields.get("id") or new_id("S")
    if session.get(ScheduleRow, schedule_id) is not None:
        raise Conflict(f"schedule {schedule_id!r} already exists")
    row = ScheduleRow(id=schedule_id, created_at=deps.clock.now())
    _apply(session, deps, row, {"type": "calendar", "time_zone": "UTC", **fields}, fetched, creating=True)
    session.add(row)
    session.flush()
    return row


def update_schedule(
    session: Session,
    deps: Deps,
    schedule_id: str,
    fields: Mapping[str, Any],
    fetched: Mapping[str, calendar_sync.Fetched] | None = None,
) -> ScheduleRow:
    """Change the given fields; ``shifts``, when given, replace the schedule's shifts."""
    row = load_schedule(session, schedule_id)
    _apply(session, deps, row, {k: v for k, v in fields.items() if k != "id"}, fetched, creating=False)
    session.flush()
    return row


def delete_schedule(session: Session, schedule_id: str) -> None:
    row = load_schedule(session, schedule_id)
    # Teams point at their primary schedule without a foreign key; do not leave them dangling.
    session.execute(
        update(Team).where(Team.primary_schedule_id == schedule_id).values(primary_schedule_id=None)
    )
    session.delete(row)
    session.flush()


def config_of(row: ScheduleRow) -> dict[str, Any]:
    """The schedule as configured (no computed or fetched state): what ``apply`` compares."""
    return {**{f: getattr(row, f) for f in CONFIG_FIELDS}, "shifts": shift_views(row)}


def shift_views(row: ScheduleRow) -> list[dict[str, Any]]:
    return [{"name": s.name or "", "type": s.type, **s.spec} for s in api_shifts(row)]


def _apply(
    session: Session,
    deps: Deps,
    row: ScheduleRow,
    fields: Mapping[str, Any],
    fetched: Mapping[str, calendar_sync.Fetched] | None,
    *,
    creating: bool,
) -> None:
    merged = {**(config_of(row) if not creating else {}), **fields}
    merged["time_zone"] = merged.get("time_zone") or "UTC"
    if not isinstance(merged.get("name"), str) or not merged["name"].strip():
        raise ValidationFailed("a schedule needs a name", field="name")
    kind = merged.get("type")
    if kind not in SCHEDULE_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(SCHEDULE_TYPES)}", field="type")
    require_team(session, merged.get("team_id"))
    raw_shifts = merged.get("shifts") or []
    if kind == "ical":
        if not merged.get(ICAL_PRIMARY):
            raise ValidationFailed(
                "an ical schedule needs ical_url_primary (an http(s) URL or a file path)", field=ICAL_PRIMARY
            )
        if raw_shifts:
            raise ValidationFailed(
                "an ical schedule takes its shifts from the calendar; leave shifts out", field="shifts"
            )
    elif merged.get(ICAL_PRIMARY):
        raise ValidationFailed(
            "only an ical schedule reads ical_url_primary; set type to ical", field=ICAL_PRIMARY
        )
    shifts = _parse_shifts(raw_shifts, merged["time_zone"])
    _require_users(session, raw_shifts, shifts)
    # Calendars are (re)loaded only when their location is new: an unchanged one is the sweeper's.
    wanted: dict[str, str | None] = {
        f: merged.get(f) or None
        for f in calendar_sync.ICAL_FIELDS
        if (creating and merged.get(f))
        or (not creating and f in fields and (fields[f] or None) != getattr(row, f))
    }
    for name in CONFIG_FIELDS:
        value = merged.get(name)
        setattr(row, name, (value or None) if name in calendar_sync.ICAL_FIELDS else value)
    if creating or "shifts" in fields:
        _store_shifts(row, shifts)
    if wanted:
        calendar_sync.import_calendars(session, deps, row, wanted, fetched)


def _parse_shifts(raw_shifts: Any, time_zone: Any) -> tuple[Shift, ...]:
    if not isinstance(raw_shifts, list | tuple):
        raise ValidationFailed("shifts must be a list", field="shifts")
    for index, raw in enumerate(raw_shifts):
        if isinstance(raw, Mapping):
            for key in raw:
                if key not in SHIFT_FIELDS:
                    raise ValidationFailed(f"unknown shift field {key!r}", field=f"shifts[{index}].{key}")
    return parse_schedule({"time_zone": time_zone, "shifts": list(raw_shifts)}).shifts


def _require_users(
    session: Session, raw_shifts: Sequence[Mapping[str, Any]], shifts: Sequence[Shift]
) -> None:
    wanted = {u for shift in shifts for u in shift.all_users}
    if not wanted:
        return
    known = set(session.scalars(select(User.id).where(User.id.in_(wanted))))
    errors: list[Mapping[str, Any]] = []
    for index, (raw, shift) in enumerate(zip(raw_shifts, shifts, strict=True)):
        field = "users" if "users" in raw or "rolling_users" not in raw else "rolling_users"
        for position, (item, group) in enumerate(zip(raw[field], shift.users, strict=True)):
            for member, user_id in enumerate(group):
                if user_id not in known:
                    where = f"shifts[{index}].{field}[{position}]" + (
                        "" if isinstance(item, str) else f"[{member}]"
                    )
                    errors.append({"field": where, "detail": f"user {user_id!r} does not exist"})
    if errors:
        raise ValidationFailed(str(errors[0]["detail"]), field=str(errors[0]["field"]), errors=errors)


def _store_shifts(row: ScheduleRow, shifts: Sequence[Shift]) -> None:
    """Rewrite the API shifts in place, reusing rows by position so unchanged ones stay untouched."""
    existing = api_shifts(row)
    for position, shift in enumerate(shifts):
        spec = shift_spec(shift)
        if position < len(existing):
            stored = existing[position]
            if (stored.name, stored.type, stored.spec) != (shift.name, shift.type.value, spec):
                stored.name, stored.type, stored.spec = shift.name, shift.type.value, spec
        else:
            row.shifts.append(
                ShiftRow(id=new_id("H"), position=position, name=shift.name, type=shift.type.value, spec=spec)
            )
    for stale in existing[len(shifts) :]:
        row.shifts.remove(stale)


def shift_spec(shift: Shift) -> dict[str, Any]:
    """A shift's canonical JSON (without name and type, which have their own columns)."""
    return {
        "users": [group[0] if len(group) == 1 else list(group) for group in shift.users],
        "rotation_start": _iso(shift.rotation_start),
        "duration": None if shift.duration is None else int(shift.duration.total_seconds()),
        "frequency": None if shift.frequency is None else shift.frequency.value,
        "interval": shift.interval,
        "week_start": shift.week_start.value,
        "by_day": [day.value for day in shift.by_day],
        "by_monthday": list(shift.by_monthday),
        "start_time": None if shift.start_time is None else shift.start_time.isoformat(),
        "end_time": None if shift.end_time is None else shift.end_time.isoformat(),
        "until": None if shift.until is None else _iso(shift.until),
        "priority_level": shift.priority_level,
        "time_zone": shift.time_zone,
        "start_rotation_from_user_index": shift.start_rotation_from_user_index,
    }


def add_override(session: Session, deps: Deps, schedule_id: str, fields: Mapping[str, Any]) -> OverrideRow:
    """SPEC 4.2: put ``user_id`` on call for ``[start, end)``, alone or in place of ``replaces_user_id``."""
    row = load_schedule(session, schedule_id)
    value = parse_override(fields, default_time_zone=row.time_zone)
    for field in ("user_id", "replaces_user_id"):
        user_id = getattr(value, field)
        if user_id is not None and session.get(User, user_id) is None:
            raise ValidationFailed(f"user {user_id!r} does not exist", field=field)
    if value.replaces_user_id == value.user_id:
        raise ValidationFailed("a user cannot replace themselves", field="replaces_user_id")
    override_id = value.id or new_id("O")
    if session.get(OverrideRow, override_id) is not None:
        raise Conflict(f"override {override_id!r} already exists")
    override = OverrideRow(
        id=override_id,
        schedule_id=row.id,
        user_id=value.user_id,
        replaces_user_id=value.replaces_user_id,
        start=value.start,
        end=value.end,
        source="api",
        created_at=deps.clock.now(),
    )
    session.add(override)
    session.flush()
    return override


def delete_override(session: Session, schedule_id: str, override_id: str) -> None:
    load_schedule(session, schedule_id)
    override = session.get(OverrideRow, override_id)
    if override is None or override.schedule_id != schedule_id:
        raise NotFound(f"override {override_id!r} does not exist in schedule {schedule_id!r}")
    session.delete(override)
    session.flush()


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
