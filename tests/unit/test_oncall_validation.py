"""Validating SPEC 4.2 shift objects into schedule values, with the failing field named."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from engine.errors import ValidationFailed
from engine.model.schedule import Frequency, Override, ShiftInterval, ShiftType, Weekday
from engine.rules.shift_input import overrides_from_intervals, parse_override, parse_schedule, parse_shift


def shift(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Weekday Daytime",
        "type": "rolling_users",
        "users": ["U001", "U002", "U003"],
        "rotation_start": "2026-02-10T09:00:00Z",
        "duration": 86400,
        "frequency": "weekly",
        "week_start": "monday",
        "by_day": ["MO", "TU", "WE", "TH", "FR"],
        "start_time": "09:00:00",
        "end_time": "17:00:00",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def test_the_spec_shift_becomes_a_shift_value() -> None:
    parsed = parse_shift(shift(), default_time_zone="America/New_York")
    assert parsed.type is ShiftType.ROLLING_USERS
    assert parsed.users == (("U001",), ("U002",), ("U003",))
    assert parsed.rotation_start == datetime(2026, 2, 10, 9, tzinfo=UTC)
    assert parsed.frequency is Frequency.WEEKLY
    assert parsed.by_day == (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR)
    assert (parsed.start_time, parsed.end_time) == (time(9), time(17))
    assert parsed.duration == timedelta(days=1)
    assert parsed.week_start is Weekday.MO
    assert parsed.time_zone is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"time_zone": 5}, "time_zone"),
        ({"end_time": "09:00:00"}, "end_time"),
        ({"end_time": ...}, "end_time"),
        ({"start_time": ...}, "start_time"),
        ({"start_time": "nine"}, "start_time"),
        ({"users": []}, "users"),
        ({"users": "U001"}, "users"),
        ({"users": ["U001", ""]}, "users"),
        ({"users": [[]]}, "users"),
        ({"users": [1, 2]}, "users"),
        ({"users": ...}, "users"),
        ({"frequency": "fortnightly"}, "frequency"),
        ({"frequency": 7}, "frequency"),
        ({"frequency": ...}, "frequency"),
        ({"by_day": ["MO", "XX"]}, "by_day"),
        ({"by_day": "MO"}, "by_day"),
        ({"week_start": "someday"}, "week_start"),
        ({"by_monthday": [0]}, "by_monthday"),
        ({"by_monthday": [32]}, "by_monthday"),
        ({"by_monthday": ["1"]}, "by_monthday"),
        ({"by_monthday": [1], "frequency": "hourly", "start_time": ..., "end_time": ...}, "by_monthday"),
        ({"interval": 0}, "interval"),
        ({"interval": "2"}, "interval"),
        ({"interval": True}, "interval"),
        ({"duration": -5}, "duration"),
        ({"duration": "1 day"}, "duration"),
        ({"duration": 1.5}, "duration"),
        ({"rotation_start": "yesterday"}, "rotation_start"),
        ({"rotation_start": ...}, "rotation_start"),
        ({"rotation_start": 1770714000}, "rotation_start"),
        ({"until": "2026-01-01T00:00:00Z"}, "until"),
        ({"until": "soon"}, "until"),
        ({"priority_level": "high"}, "priority_level"),
        ({"priority_level": -1}, "priority_level"),
        ({"type": "lottery"}, "type"),
        ({"type": ["rolling_users"]}, "type"),
        ({"type": "single_event"}, "frequency"),
        (
            {"type": "single_event", "frequency": None, "duration": ..., "start_time": ..., "end_time": ...},
            "duration",
        ),
        ({"type": "single_event", "frequency": None}, "start_time"),
        ({"frequency": "hourly"}, "start_time"),
        ({"name": 12}, "name"),
    ],
)
def test_invalid_shift_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_shift(shift(**changes))
    assert raised.value.field == field
    assert raised.value.errors == [{"field": field, "detail": raised.value.detail}]


def test_an_end_before_the_start_is_a_window_past_midnight() -> None:
    parsed = parse_shift(shift(start_time="22:00", end_time="06:00"))
    assert (parsed.start_time, parsed.end_time) == (time(22), time(6))


def test_naive_times_are_wall_clock_in_the_shift_zone_else_the_schedule_zone() -> None:
    own = parse_shift(shift(rotation_start="2026-07-01T09:00:00", time_zone="Europe/Berlin"))
    inherited = parse_shift(shift(rotation_start="2026-07-01T09:00:00"), default_time_zone="America/New_York")
    assert own.rotation_start == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert inherited.rotation_start == datetime(2026, 7, 1, 13, tzinfo=UTC)
    assert own.time_zone == "Europe/Berlin"
    assert inherited.time_zone is None


def test_oncall_spellings_and_yaml_shapes_are_accepted() -> None:
    parsed = parse_shift(
        shift(
            users=...,
            rolling_users=[["U001", "U002"], ["U003"]],
            rotation_start=...,
            start=datetime(2026, 2, 10, 9, tzinfo=UTC),
            level=2,
            start_time=32400,  # YAML 1.1 reads an unquoted 09:00:00 as this
            end_time=time(17),
            by_day=["monday", "Fr"],
            until="2026-03-01",
        )
    )
    assert parsed.users == (("U001", "U002"), ("U003",))
    assert parsed.priority_level == 2
    assert parsed.start_time == time(9)
    assert parsed.by_day == (Weekday.MO, Weekday.FR)
    assert parsed.until == datetime(2026, 3, 2, tzinfo=UTC)  # a bare date includes that day


def test_misnamed_rolling_users_field_is_reported_under_its_own_name() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_shift(shift(users=..., rolling_users=[]))
    assert raised.value.field == "rolling_users"


def test_schedule_errors_name_the_shift_and_field() -> None:
    body = {"time_zone": "America/New_York", "shifts": [shift(), shift(frequency="sometimes")]}
    with pytest.raises(ValidationFailed) as raised:
        parse_schedule(body)
    assert raised.value.field == "shifts[1].frequency"
    with pytest.raises(ValidationFailed) as raised:
        parse_schedule({"time_zone": "Nowhere/Special", "shifts": []})
    assert raised.value.field == "time_zone"
    with pytest.raises(ValidationFailed) as raised:
        parse_schedule({"shifts": {"not": "a list"}})
    assert raised.value.field == "shifts"


def test_overrides_parse_and_validate() -> None:
    parsed = parse_override(
        {"user_id": "U002", "start": "2026-02-11T12:00:00Z", "end": "2026-02-12T12:00:00Z"}
    )
    assert parsed == Override(
        "U002", datetime(2026, 2, 11, 12, tzinfo=UTC), datetime(2026, 2, 12, 12, tzinfo=UTC)
    )
    replacing = parse_override(
        {
            "user_id": "U002",
            "start": "2026-02-11T12:00:00Z",
            "end": "2026-02-12T12:00:00Z",
            "replaces_user_id": "U001",
        }
    )
    assert replacing.replaces_user_id == "U001"
    with pytest.raises(ValidationFailed) as raised:
        parse_override({"user_id": "U002", "start": "2026-02-12T12:00:00Z", "end": "2026-02-11T12:00:00Z"})
    assert raised.value.field == "end"
    with pytest.raises(ValidationFailed) as raised:
        parse_override({"start": "2026-02-12T12:00:00Z", "end": "2026-02-13T12:00:00Z"})
    assert raised.value.field == "user_id"


def test_an_overrides_calendar_becomes_plain_overrides() -> None:
    start, end = datetime(2026, 2, 11, tzinfo=UTC), datetime(2026, 2, 12, tzinfo=UTC)
    assert overrides_from_intervals([ShiftInterval(("A", "B"), start, end)]) == (
        Override("A", start, end),
        Override("B", start, end),
    )
