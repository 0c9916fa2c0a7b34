"""Schedule rows and on-call answers as the JSON of SPEC 4.2 and Grafana OnCall's field names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.http.views import iso
from engine.db import Override, User
from engine.db import Schedule as ScheduleRow
from engine.model.schedule import FinalShift, Handoff, TimeRange
from engine.rules.oncall import on_call_at
from engine.services.oncall import calendar_layers, schedule_value
from engine.services.schedules import config_of

Users = Mapping[str, User]


def users_by_id(session: Session, ids: Iterable[str]) -> dict[str, User]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def person(users: Users, user_id: str) -> dict[str, Any]:
    """``{"id", "name", "email"}``; a user deleted since the shift was written keeps only the id."""
    user = users.get(user_id)
    return {"id": user_id, "name": user.name if user else None, "email": user.email if user else None}


def schedule_view(row: ScheduleRow, now: datetime) -> dict[str, Any]:
    unmatched = [
        {"summary": summary, "start": start, "end": end, "calendar": layer.name}
        for layer in calendar_layers(row)
        for summary, start, end in layer.spec.get("unmatched", ())
    ]
    return {
        "id": row.id,
        **config_of(row),
        # Grafana OnCall's field: who is on call at the moment of the answer.
        "on_call_now": list(on_call_at(schedule_value(row), now)),
        "ical_fetched_at": iso(row.ical_fetched_at),
        "ical_error": row.ical_error,
        "ical_unmatched_events": unmatched,
    }


def override_view(override: Override) -> dict[str, Any]:
    return {
        "id": override.id,
        "schedule_id": override.schedule_id,
        "user_id": override.user_id,
        "start": iso(override.start),
        "end": iso(override.end),
        "replaces_user_id": override.replaces_user_id,
    }


def final_shift_view(users: Users, shift: FinalShift) -> dict[str, Any]:
    user = users.get(shift.user_id)
    return {
        "user_pk": shift.user_id,
        "user_email": user.email if user else None,
        "user_username": user.username if user else None,
        "shift_start": iso(shift.start),
        "shift_end": iso(shift.end),
    }


def gap_view(gap: TimeRange) -> dict[str, Any]:
    return {
        "start": iso(gap.start),
        "end": iso(gap.end),
        "seconds": int((gap.end - gap.start).total_seconds()),
    }


def handoff_view(users: Users, handoff: Handoff) -> dict[str, Any]:
    return {
        "at": iso(handoff.at),
        "before": [person(users, u) for u in handoff.before],
        "after": [person(users, u) for u in handoff.after],
    }


def page_of(
    request: Request, items: Sequence[Any], page: int, page_size: int, view: Callable[[Any], Any]
) -> dict[str, Any]:
    """SPEC §3 pagination over an already computed list (final shifts are not table rows)."""

    def link(number: int) -> str:
        return str(request.url.include_query_params(page=number, page_size=page_size))

    count = len(items)
    return {
        "count": count,
        "next": link(page + 1) if page * page_size < count else None,
        "previous": link(page - 1) if page > 1 and count else None,
        "results": [view(item) for item in items[(page - 1) * page_size : page * page_size]],
    }
