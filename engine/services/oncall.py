"""Who is on call in a stored schedule at an instant: database rows in, the pure rules answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Schedule as ScheduleRow
from engine.db import Team
from engine.model.schedule import Override, Schedule
from engine.rules.oncall import on_call_at
from engine.rules.shift_input import parse_shift


def schedule_value(row: ScheduleRow) -> Schedule:
    """The rules' view of a stored schedule (shifts as stored, overrides from their rows)."""
    shifts = tuple(
        parse_shift({"type": s.type, "name": s.name or "", **s.spec}, default_time_zone=row.time_zone)
        for s in row.shifts
    )
    overrides = tuple(Override(o.user_id, o.start, o.end, o.replaces_user_id, o.id) for o in row.overrides)
    return Schedule(time_zone=row.time_zone, shifts=shifts, overrides=overrides, id=row.id, name=row.name)


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
