"""Reading an on-call calendar (.ics) into engine shift intervals.

Recurrence (RRULE, RDATE, EXDATE, including UTC EXDATEs against a TZID start), RECURRENCE-ID
moves and VTIMEZONE definitions are expanded by recurring-ical-events; this module decides who each
occurrence puts on call and turns its times into aware UTC:

* timed events keep their instant; floating (zone-less) times are read in the calendar's
  ``X-WR-TIMEZONE``, else UTC;
* all-day events are whole UTC days, ``DTEND`` exclusive (a one-day event on 2021-01-27 covers
  2021-01-27T00:00Z to 2021-01-28T00:00Z), as Grafana OnCall treats them, whatever the calendar's
  zone says;
* ``[L2]`` in a SUMMARY sets that event's priority level, as in Grafana OnCall;
* cancelled events (``STATUS:CANCELLED``) are skipped.

Users are found by handing strings from the event to a caller-supplied matcher: each ATTENDEE
address (without ``mailto:``) and its CN, then the SUMMARY and the DESCRIPTION, whole and word by
word (``"@user_a, bob@example.com"`` offers ``"@user_a"`` and ``"bob@example.com"``). Every
string the matcher maps to a user id puts that user on call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from engine.errors import ValidationFailed
from engine.model.schedule import ShiftInterval

UserMatcher = Callable[[str], str | None]
"""Maps a string found in an event (an e-mail, a username, ``"@user_a"``) to a user id, or None."""

# Occurrences are fetched a day wider than asked because all-day events are read as UTC days,
# which the library, comparing in the calendar's own zone, may place on either side of the window.
_MARGIN = timedelta(days=1)
_LEVEL = re.compile(r"\[L(\d+)\]", re.IGNORECASE)
_WORD_BREAK = re.compile(r"[\s,;]+")
_WORD_TRIM = "()[]{}<>\"'.,;:!?*"


@dataclass(frozen=True)
class UnmatchedEvent:
    """An occurrence in which the matcher recognised nobody; it puts no one on call."""

    summary: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ParsedCalendar:
    """What a calendar says for a window: on-call intervals, and the events that named nobody."""

    intervals: tuple[ShiftInterval, ...]
    unmatched: tuple[UnmatchedEvent, ...]


def parse_ical_shifts(
    ics: bytes | str,
    start: datetime,
    end: datetime,
    match_user: UserMatcher,
    *,
    priority_level: int = 0,
) -> ParsedCalendar:
    """The on-call intervals of every event occurrence overlapping ``[start, end)``.

    ``start``/``end`` are aware datetimes. Occurrences are returned whole (not cut at the window),
    sorted by start. ``priority_level`` applies to events without an ``[Ln]`` marker. A calendar
    that cannot be read raises ``ValidationFailed`` with ``field="ical"``.
    """
    calendar = _read(ics)
    floating = _floating_zone(calendar)
    try:
        occurrences = recurring_ical_events.of(calendar).between(start - _MARGIN, end + _MARGIN)
    except ValueError as error:
        raise ValidationFailed(
            f"the calendar's recurrences cannot be expanded: {error}", field="ical"
        ) from None
    intervals: list[ShiftInterval] = []
    unmatched: list[UnmatchedEvent] = []
    for event in occurrences:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        span = _span(event, floating)
        if span is None or not (span[0] < end and span[1] > start):
            continue
        summary = str(event.get("SUMMARY", "")).strip()
        level, text = _level(summary, priority_level)
        users = _users(_candidates(event, text), match_user)
        if users:
            intervals.append(ShiftInterval(users, span[0], span[1], level))
        else:
            unmatched.append(UnmatchedEvent(summary, span[0], span[1]))
    intervals.sort(key=lambda i: (i.start, i.end, i.users))
    unmatched.sort(key=lambda u: (u.start, u.end, u.summary))
    return ParsedCalendar(tuple(intervals), tuple(unmatched))


def directory_matcher(identifiers: Mapping[str, Iterable[str]]) -> UserMatcher:
    """A matcher from ``{user_id: [username, email, ...]}``, ignoring case, ``@`` and ``mailto:``."""
    index: dict[str, str] = {}
    for user_id, names in identifiers.items():
        for name in (user_id, *names):
            if name:
                index.setdefault(_normal(name), user_id)

    def match(text: str) -> str | None:
        return index.get(_normal(text))

    return match


def _normal(text: str) -> str:
    text = text.strip().lower()
    text = text.removeprefix("mailto:")
    return text.removeprefix("@")


def _read(ics: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(ics)
    except ValueError as error:
        raise ValidationFailed(f"not an iCalendar file: {error}", field="ical") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise ValidationFailed("not an iCalendar file: no VCALENDAR", field="ical")
    return calendar


def _floating_zone(calendar: icalendar.Calendar) -> tzinfo:
    name = calendar.get("X-WR-TIMEZONE")
    if name:
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def _instant(value: date | datetime, floating: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=floating)
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _span(event: Any, floating: tzinfo) -> tuple[datetime, datetime] | None:
    dtstart = event.get("DTSTART")
    if dtstart is None:
        return None
    first = dtstart.dt
    if event.get("DTEND") is not None:
        last = event["DTEND"].dt
    elif event.get("DURATION") is not None:
        last = first + event["DURATION"].dt
    elif isinstance(first, datetime):
        return None
    else:
        last = first + timedelta(days=1)
    start, end = _instant(first, floating), _instant(last, floating)
    return (start, end) if start < end else None


def _level(summary: str, default: int) -> tuple[int, str]:
    found = _LEVEL.search(summary)
    if found is None:
        return default, summary
    return int(found.group(1)), _LEVEL.sub(" ", summary)


def _candidates(event: Any, summary: str) -> Iterator[str]:
    attendees = event.get("ATTENDEE")
    if attendees is not None:
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            yield str(attendee).removeprefix("mailto:").removeprefix("MAILTO:")
            name = getattr(attendee, "params", {}).get("CN")
            if name:
                yield str(name)
    for text in (summary, str(event.get("DESCRIPTION", ""))):
        text = text.strip()
        if text:
            yield text
            yield from (w.strip(_WORD_TRIM) for w in _WORD_BREAK.split(text))


def _users(candidates: Iterable[str], match_user: UserMatcher) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for candidate in dict.fromkeys(c for c in candidates if c):
        user_id = match_user(candidate)
        if user_id:
            found[user_id] = None
    return tuple(found)
