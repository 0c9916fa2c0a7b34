"""Turning the API's schedule JSON (SPEC 4.2) into schedule values, naming the field that is wrong.

Field names are the SPEC's; Grafana OnCall's spellings are accepted where cheap (``rolling_users``
for ``users``, ``start`` for ``rotation_start``, ``level`` for ``priority_level``). Whether the
named users exist is the caller's business. Errors are :class:`engine.errors.ValidationFailed`
with ``field`` set (``"shifts[1].end_time"`` when the shift came through :func:`parse_schedule`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from engine.errors import ValidationFailed
from engine.model.schedule import Frequency, Override, Schedule, Shift, ShiftInterval, ShiftType, Weekday
from engine.rules.shift_time import to_utc, zone

_DAY_NAMES = {
    "monday": Weekday.MO,
    "tuesday": Weekday.TU,
    "wednesday": Weekday.WE,
    "thursday": Weekday.TH,
    "friday": Weekday.FR,
    "saturday": Weekday.SA,
    "sunday": Weekday.SU,
}
_E = TypeVar("_E", Frequency, ShiftType)
_T = TypeVar("_T")


def parse_schedule(raw: Mapping[str, Any]) -> Schedule:
    """A :class:`Schedule` from a schedule body: ``time_zone``, ``shifts`` and optional ``overrides``."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("a schedule must be a JSON object")
    time_zone = _zone_name(raw.get("time_zone", "UTC") or "UTC", "time_zone")
    shifts = tuple(
        _nested(parse_shift, item, f"shifts[{n}]", time_zone) for n, item in enumerate(_list(raw, "shifts"))
    )
    overrides = tuple(
        _nested(parse_override, item, f"overrides[{n}]", time_zone)
        for n, item in enumerate(_list(raw, "overrides"))
    )
    return Schedule(
        time_zone=time_zone,
        shifts=shifts,
        overrides=overrides,
        id=_optional_str(raw, "id"),
        name=_optional_str(raw, "name") or "",
    )


def parse_shift(raw: Mapping[str, Any], *, default_time_zone: str = "UTC") -> Shift:
    """A :class:`Shift` from one SPEC 4.2 shift object.

    ``default_time_zone`` is the schedule's zone: it reads naive ``rotation_start``/``until``
    values when the shift has no ``time_zone`` of its own. An ``end_time`` before ``start_time``
    is valid (the window runs past midnight); an equal one is not.
    """
    if not isinstance(raw, Mapping):
        raise ValidationFailed("a shift must be a JSON object")
    kind = _enum(ShiftType, raw.get("type") or ShiftType.ROLLING_USERS.value, "type")
    time_zone = _zone_name(raw["time_zone"], "time_zone") if raw.get("time_zone") is not None else None
    tz = zone(time_zone or _zone_name(default_time_zone, "time_zone"))
    users_field = "users" if "users" in raw or "rolling_users" not in raw else "rolling_users"
    users = _users(raw.get(users_field), users_field)
    start_field = "rotation_start" if raw.get("rotation_start") is not None or "start" not in raw else "start"
    rotation_start = _instant(raw.get(start_field), start_field, tz, required=True)
    assert rotation_start is not None
    frequency = _frequency(raw, kind)
    start_time, end_time = _window(raw, frequency, kind)
    by_monthday = _monthdays(raw.get("by_monthday"))
    if by_monthday and frequency is Frequency.HOURLY:
        raise ValidationFailed("by_monthday needs a daily, weekly or monthly frequency", field="by_monthday")
    duration = _duration(raw.get("duration"))
    if kind is ShiftType.SINGLE_EVENT and duration is None:
        raise ValidationFailed("a single_event needs a duration in seconds", field="duration")
    until = _until(raw.get("until"), tz)
    if until is not None and until <= rotation_start:
        raise ValidationFailed("until must be after rotation_start", field="until")
    level_field = "priority_level" if "priority_level" in raw or "level" not in raw else "level"
    return Shift(
        type=kind,
        users=users,
        rotation_start=rotation_start,
        frequency=frequency,
        interval=_int(raw.get("interval"), "interval", default=1, minimum=1),
        duration=duration,
        start_time=start_time,
        end_time=end_time,
        by_day=_weekdays(raw.get("by_day")),
        by_monthday=by_monthday,
        week_start=_weekday(raw.get("week_start") or "MO", "week_start"),
        until=until,
        priority_level=_int(raw.get(level_field), level_field, default=0, minimum=0),
        time_zone=time_zone,
        start_rotation_from_user_index=_int(
            raw.get("start_rotation_from_user_index"), "start_rotation_from_user_index", default=0, minimum=0
        ),
        name=_optional_str(raw, "name") or "",
        id=_optional_str(raw, "id"),
    )


def parse_override(raw: Mapping[str, Any], *, default_time_zone: str = "UTC") -> Override:
    """An :class:`Override` from ``{"user_id", "start", "end", "replaces_user_id"?}``."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("an override must be a JSON object")
    tz = zone(_zone_name(default_time_zone, "time_zone"))
    user_id = _required_str(raw, "user_id")
    start = _instant(raw.get("start"), "start", tz, required=True)
    end = _instant(raw.get("end"), "end", tz, required=True)
    assert start is not None and end is not None
    if end <= start:
        raise ValidationFailed("an override must end after it starts", field="end")
    return Override(user_id, start, end, _optional_str(raw, "replaces_user_id"), _optional_str(raw, "id"))


def overrides_from_intervals(intervals: Iterable[ShiftInterval]) -> tuple[Override, ...]:
    """Plain overrides for every user of every interval (an imported overrides calendar)."""
    return tuple(Override(u, i.start, i.end) for i in intervals if i.start < i.end for u in i.users)


def _nested(parse: Callable[..., _T], item: Any, prefix: str, time_zone: str) -> _T:
    try:
        return parse(item, default_time_zone=time_zone)
    except ValidationFailed as error:
        field = f"{prefix}.{error.field}" if error.field else prefix
        raise ValidationFailed(error.detail, field=field) from None


def _list(raw: Mapping[str, Any], field: str) -> Sequence[Any]:
    value = raw.get(field)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"{field} must be a list", field=field)
    return value


def _optional_str(raw: Mapping[str, Any], field: str) -> str | None:
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    return value


def _required_str(raw: Mapping[str, Any], field: str) -> str:
    value = _optional_str(raw, field)
    if not value:
        raise ValidationFailed(f"{field} is required", field=field)
    return value


def _zone_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"{field} must be an IANA time zone name such as Europe/Berlin", field=field)
    try:
        zone(value)
    except (KeyError, ValueError):
        raise ValidationFailed(f"unknown time zone {value!r}", field=field) from None
    return value


def _enum(kind: type[_E], value: Any, field: str) -> _E:
    allowed = ", ".join(member.value for member in kind)
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be one of {allowed}", field=field)
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise ValidationFailed(f"unknown {field} {value!r}; use one of {allowed}", field=field) from None


def _frequency(raw: Mapping[str, Any], kind: ShiftType) -> Frequency | None:
    value = raw.get("frequency")
    if kind is ShiftType.SINGLE_EVENT:
        if value is not None:
            raise ValidationFailed("a single_event does not repeat; leave frequency out", field="frequency")
        return None
    if value is None:
        raise ValidationFailed(f"a {kind.value} shift needs a frequency", field="frequency")
    return _enum(Frequency, value, "frequency")


def _users(value: Any, field: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"{field} must be a list of user ids (or of lists of user ids)", field=field)
    groups: list[tuple[str, ...]] = []
    for item in value:
        members = [item] if isinstance(item, str) else item
        if not isinstance(members, list | tuple) or not members:
            raise ValidationFailed(f"{field} holds user ids or non-empty lists of user ids", field=field)
        if not all(isinstance(m, str) and m.strip() for m in members):
            raise ValidationFailed(f"{field} holds user ids, which are non-empty strings", field=field)
        groups.append(tuple(m.strip() for m in members))
    if not groups:
        raise ValidationFailed(f"{field} must name at least one user", field=field)
    return tuple(groups)


def _instant(value: Any, field: str, tz: ZoneInfo, *, required: bool = False) -> datetime | None:
    """An aware UTC instant from an ISO 8601 string; a naive one is wall-clock time in ``tz``."""
    if value is None:
        if required:
            raise ValidationFailed(f"{field} is required", field=field)
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(f"{field} must be an ISO 8601 date-time", field=field) from None
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{field} must be an ISO 8601 date-time", field=field)
    if value.tzinfo is None:
        return to_utc(value, tz)
    return value.astimezone(UTC)


def _until(value: Any, tz: ZoneInfo) -> datetime | None:
    # A bare date includes that whole day, as an RRULE UNTIL date does.
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed("until must be an ISO 8601 date or date-time", field="until") from None
        value = datetime.combine(day + timedelta(days=1), time())
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1), time())
    return _instant(value, "until", tz)


def _clock(value: Any, field: str) -> time:
    # YAML 1.1 reads an unquoted 17:00:00 as the sexagesimal integer 61200; take it as seconds.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 86400:
        return time(value // 3600, value // 60 % 60, value % 60)
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed
    raise ValidationFailed(f"{field} must be a wall-clock time such as 09:00:00", field=field)


def _window(
    raw: Mapping[str, Any], frequency: Frequency | None, kind: ShiftType
) -> tuple[time | None, time | None]:
    start_value, end_value = raw.get("start_time"), raw.get("end_time")
    if start_value is None and end_value is None:
        return None, None
    if start_value is None:
        raise ValidationFailed("end_time needs a start_time", field="start_time")
    if end_value is None:
        raise ValidationFailed("start_time needs an end_time", field="end_time")
    start_time, end_time = _clock(start_value, "start_time"), _clock(end_value, "end_time")
    if kind is ShiftType.SINGLE_EVENT or frequency is Frequency.HOURLY:
        raise ValidationFailed(
            "a daily window needs a daily, weekly or monthly frequency", field="start_time"
        )
    if end_time == start_time:
        raise ValidationFailed("end_time must differ from start_time", field="end_time")
    return start_time, end_time


def _duration(value: Any) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ValidationFailed("duration must be a number of seconds", field="duration")
    if seconds <= 0 or seconds != int(seconds):
        raise ValidationFailed("duration must be a positive whole number of seconds", field="duration")
    return timedelta(seconds=int(seconds))


def _int(value: Any, field: str, *, default: int, minimum: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a whole number", field=field)
    if value < minimum:
        raise ValidationFailed(f"{field} must be at least {minimum}", field=field)
    return value


def _weekday(value: Any, field: str) -> Weekday:
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in Weekday.__members__:
            return Weekday(text.upper())
        if text.lower() in _DAY_NAMES:
            return _DAY_NAMES[text.lower()]
    raise ValidationFailed(f"unknown day {value!r} in {field}; use MO, TU, WE, TH, FR, SA or SU", field=field)


def _weekdays(value: Any) -> tuple[Weekday, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationFailed('by_day must be a list of days such as ["MO", "TU"]', field="by_day")
    days = {_weekday(item, "by_day") for item in value}
    return tuple(sorted(days, key=lambda day: day.number))


def _monthdays(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationFailed("by_monthday must be a list of days of the month", field="by_monthday")
    for item in value:
        valid = isinstance(item, int) and not isinstance(item, bool) and 1 <= abs(item) <= 31
        if not valid:
            raise ValidationFailed(
                "by_monthday holds 1..31, or -1..-31 counted from the month's end", field="by_monthday"
            )
    return tuple(sorted(set(value)))
