"""Writing final shifts out as an iCalendar feed (``GET schedules/<id>/export.ics``).

One VEVENT per final shift, times in UTC, CRLF line endings and folding done by icalendar. A
shift's UID depends only on the calendar id, the user and the shift's edges, so re-exporting an
unchanged schedule gives calendar clients the same events; a shift that an override cuts short
becomes a new event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import icalendar

from engine.model.schedule import FinalShift

_PRODID = "-//Tocsin//On-call schedule//EN"


def shift_uid(calendar_id: str, shift: FinalShift) -> str:
    """The stable UID of ``shift`` in the feed of ``calendar_id``."""
    key = "\x1f".join((calendar_id, shift.user_id, shift.start.isoformat(), shift.end.isoformat()))
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@tocsin"


@dataclass(frozen=True)
class FeedEvent:
    """One shift in a feed that mixes calendars (a user's shifts across all their schedules)."""

    shift: FinalShift
    calendar_id: str
    summary: str


def render_ics(
    shifts: Iterable[FinalShift],
    *,
    calendar_id: str,
    generated_at: datetime,
    calendar_name: str | None = None,
    user_labels: Mapping[str, str] | None = None,
) -> str:
    """The .ics text for ``shifts`` (aware UTC), events ordered by start then user.

    ``generated_at`` becomes every event's DTSTAMP (pass the clock's now; it is a parameter so
    that the output is a pure function of the arguments). ``user_labels`` maps user ids to the
    names shown in SUMMARY (``On call: Ana``); the id is shown otherwise and is always carried
    in ``X-TOCSIN-USER-ID``.
    """
    labels = user_labels or {}
    events = [
        FeedEvent(shift, calendar_id, f"On call: {labels.get(shift.user_id, shift.user_id)}")
        for shift in shifts
    ]
    return render_feed(events, generated_at=generated_at, calendar_name=calendar_name)


def render_feed(
    events: Iterable[FeedEvent], *, generated_at: datetime, calendar_name: str | None = None
) -> str:
    """The .ics text for events from possibly several calendars; UIDs stay distinct per calendar."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if calendar_name:
        calendar.add("x-wr-calname", calendar_name)
    ordered = sorted(events, key=lambda e: (e.shift.start, e.shift.user_id, e.shift.end, e.calendar_id))
    for item in ordered:
        shift = item.shift
        event = icalendar.Event()
        event.add("uid", shift_uid(item.calendar_id, shift))
        event.add("dtstamp", generated_at)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("summary", item.summary)
        event.add("x-tocsin-user-id", shift.user_id)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    rendered: bytes = calendar.to_ical()
    return rendered.decode("utf-8")
