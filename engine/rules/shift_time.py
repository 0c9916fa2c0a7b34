"""Wall-clock arithmetic for shifts: local times to UTC instants and back, and calendar steps.

Shifts are defined in wall-clock time so that "09:00 on Tuesday" stays 09:00 across DST changes.
Rotation arithmetic therefore runs on naive local datetimes (where every day has 24 hours) and
only the final window edges are turned into UTC instants, with :func:`to_utc`.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def zone(key: str) -> ZoneInfo:
    """The IANA zone ``key``; raises ``ZoneInfoNotFoundError`` (a ``KeyError``) or ``ValueError``."""
    return ZoneInfo(key)


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock reading of an aware ``instant`` in ``tz``."""
    return instant.astimezone(tz).replace(tzinfo=None)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the naive wall-clock time ``local`` in ``tz``.

    A repeated time (autumn fall-back) means its first occurrence. A skipped time (spring-forward)
    means the instant the clocks jump, so that this mapping never runs backwards: consecutive
    shift edges stay in order and DST can lengthen or shorten a shift but never overlap two.
    """
    aware = local.replace(tzinfo=tz)
    offset = aware.utcoffset()
    if offset is not None and offset == aware.replace(fold=1).utcoffset():
        return (local - offset).replace(tzinfo=UTC)
    instant = aware.astimezone(UTC)
    if to_local(instant, tz) == local:
        return instant
    return _gap_end(local, tz)


def local_bounds(start: datetime, stop: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Naive local ``(low, high)`` such that a local window overlaps ``[start, stop)`` in UTC only
    if it ends after ``low`` and starts at or before ``high``.

    Because :func:`to_utc` never runs backwards, ``low`` is simply the local reading of ``start``;
    ``high`` is the reading of ``stop`` moved past the repeated hour when ``stop`` falls in its
    second pass, where that reading would otherwise map an hour early.
    """
    low = to_local(start, tz)
    high = to_local(stop, tz)
    return low, high + (stop - to_utc(high, tz))


def _gap_end(local: datetime, tz: ZoneInfo) -> datetime:
    # In a gap, fold=1 reads the time with the offset after the jump (an instant before it) and
    # fold=0 with the offset before (an instant after it); the jump is the first second in between
    # whose local reading passes ``local``. Transitions fall on whole seconds.
    low = math.floor(local.replace(tzinfo=tz, fold=1).timestamp())
    high = math.ceil(local.replace(tzinfo=tz, fold=0).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if to_local(datetime.fromtimestamp(middle, UTC), tz) > local:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def month_number(day: date) -> int:
    """Months since year 0, so that month differences are plain subtraction."""
    return day.year * 12 + day.month - 1


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole calendar months, the day clamped to the month's last day."""
    number = month_number(moment) + months
    year, month = divmod(number, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def day_start(day: date) -> datetime:
    """Naive local midnight starting ``day``."""
    return datetime.combine(day, time())


ONE_DAY = timedelta(days=1)
