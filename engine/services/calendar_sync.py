"""Imported iCal feeds: fetching them, keeping the last good copy, and the snapshot lookups read.

An ``ical`` schedule's ``ical_url_primary`` (and any schedule's ``ical_url_overrides``) is fetched
through the :class:`engine.ports.CalendarSource` port. The raw text of the last good fetch stays in
``ical_primary_cache``/``ical_overrides_cache``; its occurrences, expanded for a window around
now, are stored in a snapshot row (a ``Shift`` of type ``ical``) so that the escalation engine's
on-call lookup needs neither the network nor an iCal parser. A failed refresh keeps paging from
the last good copy (re-expanded, so its window keeps moving) and records why in ``ical_error``.

Fetching can take seconds, so callers fetch before opening a transaction (:func:`fetch_fields`)
and hand the result in; nothing here holds a database transaction open across the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.db import Schedule as ScheduleRow
from engine.db import Shift as ShiftRow
from engine.db import User
from engine.db.base import new_id
from engine.errors import ValidationFailed
from engine.ports import CalendarReading, CalendarSource
from engine.services.deps import Deps
from engine.services.oncall import ICAL_LAYER, ICAL_OVERRIDES, ICAL_PRIMARY, calendar_layers, encode_intervals

ICAL_FIELDS = (ICAL_PRIMARY, ICAL_OVERRIDES)
REFRESH_EVERY = timedelta(minutes=5)
# The snapshot covers this much around the day of the fetch; lookups outside it see no imported
# shifts. Whole days, so that refreshes within a day store the same snapshot.
SNAPSHOT_PAST = timedelta(days=92)
SNAPSHOT_AHEAD = timedelta(days=400)
# Bounds what one feed may put into a row (an hourly event for 16 months is about 12,000).
MAX_INTERVALS = 20_000
MAX_UNMATCHED = 50
_CACHE_COLUMN = {ICAL_PRIMARY: "ical_primary_cache", ICAL_OVERRIDES: "ical_overrides_cache"}


@dataclass(frozen=True)
class Fetched:
    """The outcome of fetching one calendar location: its text, or why it could not be had."""

    location: str
    text: str | None = None
    error: str | None = None


def fetch(calendars: CalendarSource | None, location: str) -> Fetched:
    """Fetch ``location``; never raises, the failure is in ``error``."""
    if calendars is None:
        return Fetched(location, error="this server has no calendar source configured")
    try:
        return Fetched(location, text=calendars.fetch(location))
    except ValidationFailed as error:
        return Fetched(location, error=error.detail)


def fetch_fields(calendars: CalendarSource | None, fields: Mapping[str, object]) -> dict[str, Fetched]:
    """Fetch every calendar location named in a schedule body (call this outside a transaction)."""
    return {f: fetch(calendars, str(fields[f])) for f in ICAL_FIELDS if fields.get(f)}


def import_calendars(
    session: Session,
    deps: Deps,
    row: ScheduleRow,
    wanted: Mapping[str, str | None],
    fetched: Mapping[str, Fetched] | None = None,
) -> None:
    """Load the calendars of ``wanted`` (field → location) into ``row``, or drop those set to None.

    Used on create and update, where a calendar that cannot be fetched or read is an error in the
    request: raises ``ValidationFailed`` naming the field. ``fetched`` holds what the caller already
    fetched; anything missing from it is fetched here.
    """
    now = deps.clock.now()
    people = directory_people(session)
    for field, location in wanted.items():
        if location is None:
            _drop(row, field)
            continue
        got = (fetched or {}).get(field)
        if got is None or got.location != location:
            got = fetch(deps.calendars, location)
        if got.text is None:
            raise ValidationFailed(f"cannot fetch the calendar at {location}: {got.error}", field=field)
        try:
            reading = _read(deps.calendars, got.text, now, people)
        except ValidationFailed as error:
            raise ValidationFailed(
                f"{location} is not a usable calendar: {error.detail}", field=field
            ) from None
        _store(row, field, got.text, reading, now, now)
    row.ical_fetched_at = now if _sources(row) else None
    row.ical_error = _error_text({k: v for k, v in _errors(row).items() if k not in wanted})


def is_stale(row: ScheduleRow, now: datetime) -> bool:
    return row.ical_fetched_at is None or now - row.ical_fetched_at >= REFRESH_EVERY


def refresh_schedule(deps: Deps, schedule_id: str, *, force: bool = False) -> bool:
    """Re-fetch a schedule's calendars if they are stale (or ``force``); True if it tried.

    A feed that fails keeps its last good copy, and ``ical_error`` says what went wrong.
    """
    if deps.calendars is None:
        return False  # nothing could be fetched; leave the stored copies and errors as they are
    now = deps.clock.now()
    with deps.db.unit() as uow:
        row = uow.session.get(ScheduleRow, schedule_id)
        if row is None or not _sources(row) or not (force or is_stale(row, now)):
            return False
        sources = _sources(row)
    fetched = {field: fetch(deps.calendars, location) for field, location in sources.items()}
    with deps.db.unit() as uow:
        row = uow.session.get(ScheduleRow, schedule_id)
        if row is None:
            return False
        people = directory_people(uow.session)
        errors: dict[str, str] = {}
        for field, got in fetched.items():
            if getattr(row, field) != got.location:
                continue  # changed while we were fetching; that change loaded the new calendar
            problem = got.error
            if got.text is not None:
                try:
                    _store(row, field, got.text, _read(deps.calendars, got.text, now, people), now, now)
                    continue
                except ValidationFailed as error:
                    problem = f"not a usable calendar: {error.detail}"
            errors[field] = _keep_last_copy(deps, row, field, now, people, f"{problem} (tried {_iso(now)})")
        row.ical_fetched_at = now
        row.ical_error = _error_text(errors)
    return True


def refresh_due_calendars(deps: Deps) -> int:
    """Refresh every schedule whose calendars are stale; for the sweeper. Returns how many it tried."""
    now = deps.clock.now()
    with deps.db.unit() as uow:
        ids = list(
            uow.session.scalars(
                select(ScheduleRow.id).where(
                    or_(
                        ScheduleRow.ical_url_primary.is_not(None), ScheduleRow.ical_url_overrides.is_not(None)
                    ),
                    or_(
                        ScheduleRow.ical_fetched_at.is_(None),
                        ScheduleRow.ical_fetched_at <= now - REFRESH_EVERY,
                    ),
                )
            )
        )
    return sum(refresh_schedule(deps, schedule_id) for schedule_id in ids)


def directory_people(session: Session) -> dict[str, list[str]]:
    """Who an event may name: each user's username, e-mail and name, strongest first."""
    people: dict[str, list[str]] = {}
    for user in session.scalars(select(User).order_by(User.created_at, User.id)):
        people[user.id] = [v for v in (user.username, user.email, user.name) if v]
    return people


def snapshot_window(now: datetime) -> tuple[datetime, datetime]:
    day = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return day - SNAPSHOT_PAST, day + SNAPSHOT_AHEAD


def _sources(row: ScheduleRow) -> dict[str, str]:
    return {f: getattr(row, f) for f in ICAL_FIELDS if getattr(row, f)}


def _read(
    calendars: CalendarSource | None, text: str, now: datetime, people: Mapping[str, list[str]]
) -> CalendarReading:
    if calendars is None:
        raise ValidationFailed("this server has no calendar source configured")
    start, end = snapshot_window(now)
    reading = calendars.read(text, start, end, people)
    if len(reading.intervals) > MAX_INTERVALS:
        raise ValidationFailed(
            f"the calendar has {len(reading.intervals)} events between {start.date()} and {end.date()}; "
            f"at most {MAX_INTERVALS} are supported"
        )
    return reading


def _keep_last_copy(
    deps: Deps, row: ScheduleRow, field: str, now: datetime, people: Mapping[str, list[str]], problem: str
) -> str:
    """Re-expand the last good copy for the current window; the error text says which copy is used."""
    cache: str | None = getattr(row, _CACHE_COLUMN[field])
    layer = _layer(row, field)
    if cache is None or layer is None:
        return f"{problem}; no earlier copy, so this calendar puts nobody on call"
    copied_at = str(layer.spec.get("fetched_at"))
    try:
        reading = _read(deps.calendars, cache, now, people)
    except ValidationFailed:
        return f"{problem}; the copy fetched at {copied_at} is kept as it was"
    _store(row, field, cache, reading, datetime.fromisoformat(copied_at), now)
    return f"{problem}; using the copy fetched at {copied_at}"


def _store(
    row: ScheduleRow, field: str, text: str, reading: CalendarReading, fetched_at: datetime, now: datetime
) -> None:
    setattr(row, _CACHE_COLUMN[field], text)
    start, end = snapshot_window(now)
    spec = {
        "fetched_at": _iso(fetched_at),
        "window": [_iso(start), _iso(end)],
        "intervals": encode_intervals(reading.intervals),
        "unmatched": [[u.summary, _iso(u.start), _iso(u.end)] for u in reading.unmatched if u.end > now][
            :MAX_UNMATCHED
        ],
    }
    layer = _layer(row, field)
    if layer is None:
        row.shifts.append(ShiftRow(id=new_id("H"), position=-1, name=field, type=ICAL_LAYER, spec=spec))
    elif layer.spec != spec:
        layer.spec = spec


def _layer(row: ScheduleRow, field: str) -> ShiftRow | None:
    return next((s for s in calendar_layers(row) if s.name == field), None)


def _drop(row: ScheduleRow, field: str) -> None:
    setattr(row, _CACHE_COLUMN[field], None)
    layer = _layer(row, field)
    if layer is not None:
        row.shifts.remove(layer)


def _errors(row: ScheduleRow) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (row.ical_error or "").splitlines():
        field, _, text = line.partition(": ")
        if field in ICAL_FIELDS:
            found[field] = text
    return found


def _error_text(errors: Mapping[str, str]) -> str | None:
    return "\n".join(f"{field}: {text}" for field, text in errors.items()) or None


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
