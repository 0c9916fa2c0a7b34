"""Expanding one shift into the windows it puts people on call, and whose turn each window is.

A shift is expanded on naive wall-clock datetimes in its zone; :mod:`engine.rules.shift_time`
turns each window's edges into UTC instants at the end. Two window shapes exist:

* period windows: the rotation steps by ``frequency x interval`` from ``rotation_start`` and each
  step opens one window of ``duration`` (default: the whole step). With ``frequency`` daily or
  hourly, ``by_day``/``by_monthday`` skip the steps that start on other days, and a skipped step
  consumes no turn.
* day windows: one window per calendar day, used when the shift has ``start_time``/``end_time``,
  or is weekly/monthly with ``by_day``/``by_monthday``. The turn comes from the day: daily shifts
  count the selected days, weekly/monthly shifts with a day filter use calendar weeks (bounded by
  ``week_start``) or calendar months, and the rest use the rotation step the window starts in.

See docs/schedules.md for worked examples of each rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from math import gcd
from zoneinfo import ZoneInfo

from engine.model.schedule import Frequency, Shift, ShiftInterval, ShiftType, Weekday
from engine.rules.shift_time import (
    ONE_DAY,
    add_months,
    day_start,
    days_in_month,
    local_bounds,
    month_number,
    to_local,
    to_utc,
    zone,
)

_LocalWindow = tuple[int, datetime, datetime]


def shift_intervals(shift: Shift, default_zone: str, start: datetime, end: datetime) -> list[ShiftInterval]:
    """The windows of ``shift`` that overlap ``[start, end)``, with their users, in start order.

    ``default_zone`` is the schedule's zone, used when the shift has none. Windows are cut at
    ``rotation_start`` and ``until`` but not at ``start``/``end``.
    """
    tz = zone(shift.time_zone or default_zone)
    stop = end if shift.until is None else min(end, shift.until)
    if stop <= start or stop <= shift.rotation_start:
        return []
    low, high = local_bounds(max(start, shift.rotation_start), stop, tz)
    anchor = _anchor(shift.rotation_start, tz)
    found: list[ShiftInterval] = []
    for turn, local_start, local_end in _local_windows(shift, anchor, low, high):
        window_start = max(to_utc(local_start, tz), shift.rotation_start)
        window_end = to_utc(local_end, tz)
        if shift.until is not None:
            window_end = min(window_end, shift.until)
        if window_start < window_end and window_end > start and window_start < stop:
            users = _users_for_turn(shift, turn)
            found.append(ShiftInterval(users, window_start, window_end, shift.priority_level))
    return found


@lru_cache(maxsize=1024)
def _anchor(rotation_start: datetime, tz: ZoneInfo) -> datetime:
    return to_local(rotation_start, tz)


def _users_for_turn(shift: Shift, turn: int) -> tuple[str, ...]:
    if shift.type is ShiftType.ROLLING_USERS:
        return shift.users[(turn + shift.start_rotation_from_user_index) % len(shift.users)]
    return shift.all_users


def _local_windows(shift: Shift, anchor: datetime, low: datetime, high: datetime) -> Iterator[_LocalWindow]:
    if shift.type is ShiftType.SINGLE_EVENT:
        assert shift.duration is not None
        yield 0, anchor, anchor + shift.duration
    elif shift.start_time is not None or (_calendar_bounded(shift) and _has_day_filter(shift)):
        yield from _day_windows(shift, anchor, low, high)
    else:
        yield from _period_windows(shift, anchor, low, high)


def _calendar_bounded(shift: Shift) -> bool:
    return shift.frequency in (Frequency.WEEKLY, Frequency.MONTHLY)


def _has_day_filter(shift: Shift) -> bool:
    return bool(shift.by_day or shift.by_monthday)


@lru_cache(maxsize=256)
def _weekday_indexes(by_day: tuple[Weekday, ...]) -> frozenset[int]:
    return frozenset(day.number for day in by_day)


def _selected(shift: Shift, day: date) -> bool:
    """Whether ``day`` passes the shift's ``by_day`` and ``by_monthday`` filters."""
    if shift.by_day and day.weekday() not in _weekday_indexes(shift.by_day):
        return False
    return not shift.by_monthday or _monthday_matches(shift.by_monthday, day)


def _monthday_matches(by_monthday: tuple[int, ...], day: date) -> bool:
    # Negative values count from the month's end, as RFC 5545 BYMONTHDAY does (-1 = last day).
    from_end = day.day - days_in_month(day) - 1
    return day.day in by_monthday or from_end in by_monthday


# Period windows -------------------------------------------------------------------------------


def _step(shift: Shift) -> timedelta:
    """The fixed wall-clock length of one rotation step (not used for monthly shifts)."""
    interval = shift.interval
    if shift.frequency is Frequency.HOURLY:
        return timedelta(hours=interval)
    if shift.frequency is Frequency.DAILY:
        return timedelta(days=interval)
    return timedelta(weeks=interval)


def _step_start(shift: Shift, anchor: datetime, index: int) -> datetime:
    if shift.frequency is Frequency.MONTHLY:
        return add_months(anchor, index * shift.interval)
    return anchor + index * _step(shift)


def _step_index(shift: Shift, anchor: datetime, moment: datetime) -> int:
    """The (possibly negative) rotation step that contains the local time ``moment``."""
    if shift.frequency is Frequency.MONTHLY:
        index = (month_number(moment) - month_number(anchor)) // shift.interval
        if _step_start(shift, anchor, index) > moment:
            index -= 1
        return index
    return (moment - anchor) // _step(shift)


def _longest_step(shift: Shift) -> timedelta:
    if shift.frequency is Frequency.MONTHLY:
        return timedelta(days=31 * shift.interval)
    return _step(shift)


def _period_windows(shift: Shift, anchor: datetime, low: datetime, high: datetime) -> Iterator[_LocalWindow]:
    longest = shift.duration or _longest_step(shift)
    index = max(0, _step_index(shift, anchor, low - longest))
    skipping = _has_day_filter(shift)
    turn = _count_selected_steps(shift, anchor, index) if skipping else index
    step_start = _step_start(shift, anchor, index)
    while step_start <= high:
        next_start = _step_start(shift, anchor, index + 1)
        if not skipping or _selected(shift, step_start.date()):
            step_end = step_start + shift.duration if shift.duration else next_start
            yield turn, step_start, step_end
            turn += 1
        index += 1
        step_start = next_start


def _count_selected_steps(shift: Shift, anchor: datetime, count: int) -> int:
    """How many of the first ``count`` steps start on a selected day (each such step is a turn)."""
    if shift.frequency is Frequency.DAILY:
        return _count_selected_grid_days(shift, anchor.date(), shift.interval, count)
    hours = shift.interval
    flags = _hourly_cycle(anchor, hours, shift.by_day)
    full, rest = divmod(count, len(flags))
    return full * sum(flags) + sum(flags[:rest])


@lru_cache(maxsize=256)
def _hourly_cycle(anchor: datetime, hours: int, by_day: tuple[Weekday, ...]) -> tuple[bool, ...]:
    # The weekday of step i repeats once i * hours is a whole number of weeks.
    length = 168 // gcd(hours, 168)
    allowed = _weekday_indexes(by_day)
    return tuple((anchor + timedelta(hours=i * hours)).weekday() in allowed for i in range(length))


def _count_selected_grid_days(shift: Shift, first: date, every: int, count: int) -> int:
    """How many of the days ``first + i * every`` for ``i < count`` pass the day filters."""
    if count <= 0:
        return 0
    if not _has_day_filter(shift):
        return count
    if not shift.by_monthday:
        # Weekdays along the grid repeat every 7 / gcd(every, 7) steps.
        cycle = 7 // gcd(every, 7)
        flags = [_selected(shift, first + timedelta(days=i * every)) for i in range(cycle)]
        full, rest = divmod(count, cycle)
        return full * sum(flags) + sum(flags[:rest])
    stop = first + timedelta(days=count * every)
    total = 0
    month = date(first.year, first.month, 1)
    while month < stop:
        size = days_in_month(month)
        numbers = {n if n > 0 else size + n + 1 for n in shift.by_monthday}
        for number in numbers:
            if 1 <= number <= size:
                day = month.replace(day=number)
                on_grid = first <= day < stop and (day - first).days % every == 0
                if on_grid and _selected(shift, day):
                    total += 1
        month = (month + timedelta(days=size)).replace(day=1)
    return total


# Day windows ----------------------------------------------------------------------------------


def _seconds(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def _daily_window(shift: Shift, anchor: datetime) -> tuple[timedelta, timedelta]:
    """Offset from local midnight and wall-clock length of each day's window."""
    if shift.start_time is not None and shift.end_time is not None:
        offset = _seconds(shift.start_time)
        length = (_seconds(shift.end_time) - offset) % ONE_DAY
        return offset, length or ONE_DAY
    return anchor - day_start(anchor.date()), shift.duration or ONE_DAY


def _day_windows(shift: Shift, anchor: datetime, low: datetime, high: datetime) -> Iterator[_LocalWindow]:
    offset, length = _daily_window(shift, anchor)
    # The rotation begins with the first window still open at rotation_start; an overnight window
    # that began the evening before is left out.
    first = anchor.date()
    if day_start(first) + offset + length <= anchor:
        first += ONE_DAY
    since = max(first, low.date() - timedelta(days=length // ONE_DAY + 1))
    for turn, day in _day_turns(shift, anchor, offset, first, since, high.date()):
        window_start = day_start(day) + offset
        yield turn, window_start, window_start + length


def _day_turns(
    shift: Shift, anchor: datetime, offset: timedelta, first: date, since: date, until: date
) -> Iterator[tuple[int, date]]:
    """The selected days in ``[since, until]`` with the turn each one belongs to."""
    if shift.frequency is Frequency.DAILY:
        every = shift.interval
        index = -(-(since - first).days // every)
        turn = _count_selected_grid_days(shift, first, every, index)
        day = first + timedelta(days=index * every)
        while day <= until:
            if _selected(shift, day):
                yield turn, day
                turn += 1
            day += timedelta(days=every)
        return
    day = since
    while day <= until:
        if _selected(shift, day):
            yield _day_turn(shift, anchor, offset, day), day
        day += ONE_DAY


def _day_turn(shift: Shift, anchor: datetime, offset: timedelta, day: date) -> int:
    if _has_day_filter(shift) and shift.frequency is Frequency.WEEKLY:
        week_zero = anchor.date() - timedelta(days=(anchor.weekday() - shift.week_start.number) % 7)
        return (day - week_zero).days // (7 * shift.interval)
    if _has_day_filter(shift) and shift.frequency is Frequency.MONTHLY:
        return (month_number(day) - month_number(anchor)) // shift.interval
    # Otherwise the turn is the rotation step in which the window opens; a first window clipped
    # by rotation_start belongs to step 0.
    return max(0, _step_index(shift, anchor, day_start(day) + offset))
