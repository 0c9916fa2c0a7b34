"""iCalendar in and out for on-call schedules, on top of icalendar and recurring-ical-events.

:func:`parse_ical_shifts` reads a calendar into engine shift intervals (put them in
``Schedule.intervals``, or turn an overrides calendar into overrides with
``engine.rules.shift_input.overrides_from_intervals``); :func:`render_ics` writes final shifts out.
Both are pure; :mod:`adapters.ical.fetch` fetches feeds and serves them to the engine as its
``CalendarSource``.
"""

from adapters.ical.export import FeedEvent, render_feed, render_ics, shift_uid
from adapters.ical.parse import (
    ParsedCalendar,
    UnmatchedEvent,
    UserMatcher,
    directory_matcher,
    parse_ical_shifts,
)

__all__ = [
    "FeedEvent",
    "ParsedCalendar",
    "UnmatchedEvent",
    "UserMatcher",
    "directory_matcher",
    "parse_ical_shifts",
    "render_feed",
    "render_ics",
    "shift_uid",
]
