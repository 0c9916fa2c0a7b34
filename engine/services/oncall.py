"""Stored schedules as the rules' values, and the on-call questions the escalation engine asks.

A schedule's rows become one :class:`engine.model.schedule.Schedule`: API shifts are re-read from
their stored JSON, imported calendars from the snapshot rows that
:mod:`engine.services.calendar_sync` keeps (already expanded, so no iCal parsing happens here),
and overrides from their rows. Everything after that is the pure rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import ensure_utc
from engine.db import Schedule as ScheduleRow
from engine.db import Shift as ShiftRow
from engine.db import Team
from engine.errors import NotFound
from engine.model.schedule import FinalShift, Override, Schedule, Segment, ShiftInterval
from engine.rules.handoff import on_call_segment
from engine.rules.oncall import final_shifts, on_call_at
from engine.rules.shift_input import overrides_from_intervals, parse_shift

# Shift rows of this type hold an imported calendar's expanded intervals, not an API shift;
# their ``name`` is the schedule field the calendar came from.
ICAL_LAYER = "ical"
ICAL_PRIMARY = "ical_url_primary"
ICAL_OVERRIDES = "ical_url_overrides"


def schedule_value(row: ScheduleRow) -> Schedule:
    """The rules' view of a stored schedule: API shifts, imported calendars and overrides."""
    shifts = tuple(
        parse_shift({"type": s.type, "name": s.name or "", **s.spec}, default_time_zone=row.time_zone)
        for s in api_shifts(row)
    )
    intervals: tuple[ShiftInterval, ...] = ()
    imported: tuple[Override, ...] = ()
    for layer in calendar_layers(row):
        found = snapshot_intervals(layer.spec)
        if layer.name == ICAL_OVERRIDES:
            imported += overrides_from_intervals(found)
        else:
            intervals += found
    # API overrides come last so that, among replace overrides, the API's win ("listed last wins").
    overrides = imported + tuple(
        Override(o.user_id, o.start, o.end, o.replaces_user_id, o.id) for o in row.overrides
    )
    return Schedule(
        time_zone=row.time_zone,
        shifts=shifts,
        overrides=overrides,
        intervals=intervals,
        id=row.id,
        name=row.name,
    )


def api_shifts(row: ScheduleRow) -> list[ShiftRow]:
    """The schedule's own shifts, in order (imported calendar layers left out)."""
    return [s for s in row.shifts if s.type != ICAL_LAYER]


def calendar_layers(row: ScheduleRow) -> list[ShiftRow]:
    """The snapshot rows of the schedule's imported calendars."""
    return [s for s in row.shifts if s.type == ICAL_LAYER]


def snapshot_intervals(spec: Mapping[str, Any]) -> tuple[ShiftInterval, ...]:
    """The intervals stored in a calendar snapshot (``[start, end, [users], level]`` each)."""
    return tuple(
        ShiftInterval(tuple(users), _instant(start), _instant(end), int(level))
        for start, end, users, level in spec.get("intervals", ())
    )


def encode_intervals(intervals: Iterable[ShiftInterval]) -> list[list[Any]]:
    """The JSON form :func:`snapshot_intervals` reads back."""
    return [[_iso(i.start), _iso(i.end), list(i.users), i.priority_level] for i in intervals]


def load_schedule(session: Session, schedule_id: str) -> ScheduleRow:
    row = session.get(ScheduleRow, schedule_id)
    if row is None:
        raise NotFound(f"schedule {schedule_id!r} does not exist")
    return row


def oncall_user_ids(session: Session, schedule_id: str, at: datetime) -> list[str] | None:
    """User ids on call at ``at``; None when the schedule does not exist."""
    row = session.get(ScheduleRow, schedule_id)
    if row is None:
        return None
    return list(on_call_at(schedule_value(row), at))


def team_schedule_id(session: Session, team_id: str | None) -> str | None:
    """The schedule ``current_oncall`` means: the team's primary one, else its first (SPEC §4.3)."""
    if team_id is None:
        return None
    team = session.get(Team, team_id)
    if team is None:
        return None
    if team.primary_schedule_id and session.get(ScheduleRow, team.primary_schedule_id) is not None:
        return team.primary_schedule_id
    return session.scalar(
        select(ScheduleRow.id).where(ScheduleRow.team_id == team_id).order_by(ScheduleRow.created_at).limit(1)
    )


def on_call_stretch(session: Session, schedule_id: str, at: datetime) -> Segment:
    """Who is on call at ``at`` and for how long that set lasts (the API's ``shift_end``)."""
    return on_call_segment(schedule_value(load_schedule(session, schedule_id)), at)


def user_final_shifts(
    session: Session, user_id: str, start: datetime, end: datetime, team_id: str | None = None
) -> list[tuple[ScheduleRow, FinalShift]]:
    """The user's final shifts in ``[start, end)`` across all schedules (of ``team_id`` when given)."""
    query = select(ScheduleRow).order_by(ScheduleRow.created_at, ScheduleRow.id)
    if team_id is not None:
        query = query.where(ScheduleRow.team_id == team_id)
    found: list[tuple[ScheduleRow, FinalShift]] = []
    for row in session.scalars(query):
        value = schedule_value(row)
        if not _may_name(value, user_id):
            continue
        found.extend((row, s) for s in final_shifts(value, start, end) if s.user_id == user_id)
    return sorted(found, key=lambda pair: (pair[1].start, pair[0].id))


def _may_name(value: Schedule, user_id: str) -> bool:
    # Skips the layering work for schedules that cannot put this user on call at all.
    return (
        any(user_id in shift.all_users for shift in value.shifts)
        or any(user_id in interval.users for interval in value.intervals)
        or any(user_id == override.user_id for override in value.overrides)
    )


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _instant(text: str) -> datetime:
    return ensure_utc(datetime.fromisoformat(text))
