"""On-call schedule values: shifts, overrides, pre-computed intervals, and what the rules answer.

Every ``datetime`` here is aware UTC. Wall-clock fields (``start_time``, ``end_time``) are plain
``time`` values read in the shift's zone (``Shift.time_zone``, else ``Schedule.time_zone``).
Build a :class:`Shift` from the API's JSON with :func:`engine.rules.shift_input.parse_shift`,
which names the offending field; the checks in ``__post_init__`` only catch programming errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum


class ShiftType(StrEnum):
    """How a shift hands out its windows: in turns, or to everyone at once."""

    ROLLING_USERS = "rolling_users"
    SINGLE_EVENT = "single_event"
    RECURRENT_EVENT = "recurrent_event"


class Frequency(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Weekday(StrEnum):
    """RFC 5545 day codes, as ``by_day`` spells them."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"

    @property
    def number(self) -> int:
        """Monday is 0, as ``date.weekday()`` counts."""
        return _WEEKDAY_ORDER.index(self)


_WEEKDAY_ORDER = (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR, Weekday.SA, Weekday.SU)


def _require_utc(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be an aware UTC datetime, got {value!r}")


@dataclass(frozen=True)
class Shift:
    """One layer of a schedule: a rotation or a (recurring) event.

    ``users`` is a tuple of groups. A ``rolling_users`` shift gives each window to one group in turn
    (a group of one is the usual case); the event types put every listed user on call together.
    ``rotation_start`` is both the first turn's start and the instant before which the shift covers
    nothing. ``duration`` is wall-clock length (a week across a DST change is 167 or 169 real hours);
    ``start_time``/``end_time`` give a daily window instead (end before start runs past midnight).
    ``start_rotation_from_user_index`` says which group takes turn 0, as in Grafana OnCall.
    """

    type: ShiftType
    users: tuple[tuple[str, ...], ...]
    rotation_start: datetime
    frequency: Frequency | None = None
    interval: int = 1
    duration: timedelta | None = None
    start_time: time | None = None
    end_time: time | None = None
    by_day: tuple[Weekday, ...] = ()
    by_monthday: tuple[int, ...] = ()
    week_start: Weekday = Weekday.MO
    until: datetime | None = None
    priority_level: int = 0
    time_zone: str | None = None
    start_rotation_from_user_index: int = 0
    name: str = ""
    id: str | None = None

    def __post_init__(self) -> None:
        _require_utc(self.rotation_start, "rotation_start")
        if self.until is not None:
            _require_utc(self.until, "until")
        if not self.users or not all(self.users):
            raise ValueError("a shift needs at least one user in every group")
        if self.interval < 1:
            raise ValueError("interval must be at least 1")
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError("start_time and end_time go together")
        if self.type is ShiftType.SINGLE_EVENT:
            if self.duration is None:
                raise ValueError("a single_event needs a duration")
        elif self.frequency is None:
            raise ValueError(f"a {self.type} shift needs a frequency")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        if self.frequency is Frequency.HOURLY and self.by_monthday:
            raise ValueError("by_monthday needs a daily, weekly or monthly frequency")

    @property
    def all_users(self) -> tuple[str, ...]:
        """Every user named by the shift, once each, in order of appearance."""
        return tuple(dict.fromkeys(user for group in self.users for user in group))


@dataclass(frozen=True)
class Override:
    """A manual change for ``[start, end)``.

    Without ``replaces_user_id`` the user is on call alone for the window, beating every shift
    (several such overrides at once put all their users on together). With it, the user takes over
    only the replaced user's on-call time inside the window.
    """

    user_id: str
    start: datetime
    end: datetime
    replaces_user_id: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        _require_utc(self.start, "start")
        _require_utc(self.end, "end")
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")


@dataclass(frozen=True)
class ShiftInterval:
    """A stretch of time during which ``users`` are on call together at ``priority_level``.

    The rules expand shifts into these; an imported calendar (``adapters.ical``) produces them
    directly, and :attr:`Schedule.intervals` carries them into the layering.
    """

    users: tuple[str, ...]
    start: datetime
    end: datetime
    priority_level: int = 0

    def __post_init__(self) -> None:
        _require_utc(self.start, "start")
        _require_utc(self.end, "end")


@dataclass(frozen=True)
class Schedule:
    """Everything needed to answer "who is on call": plain values, no database.

    ``time_zone`` is the zone for shifts without their own. ``intervals`` holds pre-computed shift
    intervals (an iCal primary calendar, expanded for the window the caller asks about); they are
    layered exactly like shift windows, by their ``priority_level``.
    """

    time_zone: str = "UTC"
    shifts: tuple[Shift, ...] = ()
    overrides: tuple[Override, ...] = ()
    intervals: tuple[ShiftInterval, ...] = ()
    id: str | None = None
    name: str = ""


@dataclass(frozen=True)
class TimeRange:
    """A half-open ``[start, end)`` span of time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Segment:
    """A maximal ``[start, end)`` stretch with one unchanging on-call set (sorted user ids)."""

    start: datetime
    end: datetime
    users: tuple[str, ...]


@dataclass(frozen=True)
class FinalShift:
    """One user's unbroken on-call stretch after layering and overrides."""

    user_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Handoff:
    """An instant where the on-call set changes, with the sets just before and from then on."""

    at: datetime
    before: tuple[str, ...]
    after: tuple[str, ...]
