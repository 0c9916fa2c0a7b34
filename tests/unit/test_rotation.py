"""Turn-taking and wall-clock behaviour of single shifts, including across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.model.schedule import Frequency, Schedule, Shift, ShiftType, Weekday
from engine.rules.handoff import coverage_gaps, handoffs
from engine.rules.oncall import final_shifts, on_call_at, timeline
from engine.rules.rotation import shift_intervals
from engine.rules.shift_time import to_local, to_utc

H = timedelta(hours=1)
WEEKDAYS = (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR)
CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time that exists once in ``zone``."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def rotation(users: str, start: datetime, frequency: Frequency, **fields: object) -> Shift:
    return Shift(ShiftType.ROLLING_USERS, tuple((u,) for u in users), start, frequency, **fields)  # type: ignore[arg-type]


# DST --------------------------------------------------------------------------------------------


def test_weekly_chicago_rotation_hands_off_tuesday_0900_local_through_both_dst_changes() -> None:
    start = local("2026-01-06T09:00", CHICAGO)  # a Tuesday
    shift = rotation("ABC", start, Frequency.WEEKLY, time_zone="America/Chicago")
    schedule = Schedule(time_zone="UTC", shifts=(shift,))
    end = start + timedelta(days=364)
    segments = timeline(schedule, start, end)
    assert all(len(s.users) == 1 for s in segments), "exactly one person at every instant"
    assert coverage_gaps(schedule, start, end) == []
    for segment in segments[1:]:
        handoff = segment.start.astimezone(CHICAGO)
        assert (handoff.weekday(), handoff.hour, handoff.minute) == (1, 9, 0)
    hours = {s.start.astimezone(CHICAGO).date(): (s.end - s.start) / H for s in segments}
    assert hours[date(2026, 3, 3)] == 167  # spring forward on Sunday 8 March
    assert hours[date(2026, 10, 27)] == 169  # fall back on Sunday 1 November
    assert {h for d, h in hours.items() if d not in (date(2026, 3, 3), date(2026, 10, 27))} == {168}
    assert [s.users[0] for s in segments[:4]] == ["A", "B", "C", "A"]


def test_daily_london_window_follows_local_time_from_summer_into_winter() -> None:
    london = ZoneInfo("Europe/London")
    shift = Shift(
        ShiftType.ROLLING_USERS,
        (("A",),),
        local("2026-07-01T08:30", london),
        Frequency.DAILY,
        start_time=time(8, 30),
        end_time=time(17, 30),
    )
    schedule = Schedule(time_zone="Europe/London", shifts=(shift,))
    october = final_shifts(schedule, utc("2026-10-20T00:00"), utc("2026-10-21T00:00"))
    november = final_shifts(schedule, utc("2026-11-10T00:00"), utc("2026-11-11T00:00"))
    assert [(s.start, s.end) for s in october] == [(utc("2026-10-20T07:30"), utc("2026-10-20T16:30"))]
    assert [(s.start, s.end) for s in november] == [(utc("2026-11-10T08:30"), utc("2026-11-10T17:30"))]


@pytest.mark.parametrize("zone_name", ["UTC", "Europe/Paris"])
@pytest.mark.parametrize("window", [None, (time(9), time(17))])
def test_daily_weekday_rotation_alternates_per_weekday_and_skips_weekends(
    zone_name: str, window: tuple[time, time] | None
) -> None:
    zone = ZoneInfo(zone_name)
    monday = datetime(2026, 3, 23, tzinfo=zone)  # Paris moves its clocks on Sunday 29 March
    start_time, end_time = window or (None, None)
    shift = rotation(
        "AB",
        monday.astimezone(UTC),
        Frequency.DAILY,
        by_day=WEEKDAYS,
        start_time=start_time,
        end_time=end_time,
    )
    schedule = Schedule(time_zone=zone_name, shifts=(shift,))
    noons = [(monday + timedelta(days=n)).replace(hour=12).astimezone(UTC) for n in range(15)]
    answers = ["".join(on_call_at(schedule, noon)) or "-" for noon in noons]
    assert answers == ["A", "B", "A", "B", "A", "-", "-", "B", "A", "B", "A", "B", "-", "-", "A"]
    for segment in timeline(schedule, monday.astimezone(UTC), (monday + timedelta(days=14)).astimezone(UTC)):
        if segment.users:
            opens, closes = segment.start.astimezone(zone), segment.end.astimezone(zone)
            expected = (time(0), time(0)) if window is None else window
            assert (opens.time(), closes.time()) == expected


def test_hourly_rotation_keeps_wall_clock_handoffs_and_the_fall_back_shift_is_longer() -> None:
    start = local("2026-10-30T00:00", NEW_YORK)
    shift = rotation("ABC", start, Frequency.HOURLY, interval=8, time_zone="America/New_York")
    segments = timeline(Schedule(shifts=(shift,)), start, local("2026-11-03T00:00", NEW_YORK))
    assert {s.start.astimezone(NEW_YORK).hour for s in segments} == {0, 8, 16}
    lengths = {
        (s.start.astimezone(NEW_YORK).date(), s.start.astimezone(NEW_YORK).hour): s.end - s.start
        for s in segments
    }
    assert lengths[(date(2026, 11, 1), 0)] == 9 * H  # 01:00-02:00 happens twice that night
    assert sum(1 for n in lengths.values() if n != 8 * H) == 1


def test_spring_forward_gap_maps_to_the_jump_and_never_runs_backwards() -> None:
    jump = local("2026-03-08T03:00", NEW_YORK)
    assert to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK) == jump
    assert to_utc(datetime(2026, 3, 8, 2, 0), NEW_YORK) == jump
    assert to_utc(datetime(2026, 3, 8, 1, 59), NEW_YORK) == jump - timedelta(minutes=1)
    # A repeated time means its first occurrence.
    assert to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc("2026-11-01T05:30")
    moments = [datetime(2026, 3, 8) + timedelta(minutes=5 * n) for n in range(60)]
    instants = [to_utc(m, NEW_YORK) for m in moments]
    assert instants == sorted(instants)
    assert to_local(to_utc(datetime(2026, 7, 1, 9, 15), NEW_YORK), NEW_YORK) == datetime(2026, 7, 1, 9, 15)


def test_a_window_wholly_inside_the_spring_gap_is_empty_and_its_neighbours_meet() -> None:
    start = local("2026-03-07T00:00", NEW_YORK)
    shift = Shift(
        ShiftType.RECURRENT_EVENT, (("A",),), start, Frequency.DAILY, start_time=time(2), end_time=time(2, 30)
    )
    windows = shift_intervals(shift, "America/New_York", start, start + timedelta(days=3))
    assert [w.start.astimezone(NEW_YORK).day for w in windows] == [7, 9]


# Turn shapes ------------------------------------------------------------------------------------


def test_weekly_by_day_turn_covers_the_rest_of_the_first_week_then_whole_weeks() -> None:
    wednesday = utc("2026-03-04T00:00")
    shift = rotation("AB", wednesday, Frequency.WEEKLY, by_day=WEEKDAYS, week_start=Weekday.MO)
    days = shift_intervals(shift, "UTC", wednesday, utc("2026-03-21T00:00"))
    assert [(w.start.day, w.users[0]) for w in days] == [
        (4, "A"), (5, "A"), (6, "A"),
        (9, "B"), (10, "B"), (11, "B"), (12, "B"), (13, "B"),
        (16, "A"), (17, "A"), (18, "A"), (19, "A"), (20, "A"),
    ]  # fmt: skip
    assert all(w.end - w.start == timedelta(days=1) for w in days)


def test_week_start_moves_the_turn_boundary() -> None:
    wednesday = utc("2026-03-04T00:00")
    shift = rotation(
        "AB", wednesday, Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.FR), week_start=Weekday.TH
    )
    days = shift_intervals(shift, "UTC", wednesday, utc("2026-03-17T00:00"))
    # Weeks run Thursday to Wednesday: the first turn is Wednesday's week, which holds nothing left.
    assert [(w.start.day, w.users[0]) for w in days] == [(6, "B"), (9, "B"), (13, "A"), (16, "A")]


def test_weekly_interval_two_gives_two_week_turns() -> None:
    shift = rotation("AB", utc("2026-03-02T09:00"), Frequency.WEEKLY, interval=2)
    schedule = Schedule(shifts=(shift,))
    assert [on_call_at(schedule, utc(f"2026-03-{d:02d}T12:00")) for d in (2, 15, 16, 29, 30)] == [
        ("A",), ("A",), ("B",), ("B",), ("A",)
    ]  # fmt: skip


def test_duration_shorter_than_the_period_leaves_the_rest_empty() -> None:
    shift = rotation("AB", utc("2026-03-02T09:00"), Frequency.WEEKLY, duration=timedelta(days=2))
    windows = shift_intervals(shift, "UTC", utc("2026-03-02T00:00"), utc("2026-03-16T00:00"))
    assert [(w.users, w.start, w.end) for w in windows] == [
        (("A",), utc("2026-03-02T09:00"), utc("2026-03-04T09:00")),
        (("B",), utc("2026-03-09T09:00"), utc("2026-03-11T09:00")),
    ]


def test_monthly_rotation_clamps_to_short_months() -> None:
    shift = rotation("AB", utc("2026-01-31T09:00"), Frequency.MONTHLY)
    windows = shift_intervals(shift, "UTC", utc("2026-01-01T00:00"), utc("2026-04-01T00:00"))
    assert [(w.users[0], w.start.date(), w.end.date()) for w in windows] == [
        ("A", date(2026, 1, 31), date(2026, 2, 28)),
        ("B", date(2026, 2, 28), date(2026, 3, 31)),
        ("A", date(2026, 3, 31), date(2026, 4, 30)),
    ]


def test_monthly_by_monthday_turns_follow_calendar_months() -> None:
    shift = rotation(
        "AB",
        utc("2026-01-10T00:00"),
        Frequency.MONTHLY,
        by_monthday=(1, 15, -1),
        start_time=time(9),
        end_time=time(17),
    )
    windows = shift_intervals(shift, "UTC", utc("2026-01-01T00:00"), utc("2026-03-02T00:00"))
    assert [(w.users[0], w.start.date()) for w in windows] == [
        ("A", date(2026, 1, 15)), ("A", date(2026, 1, 31)),
        ("B", date(2026, 2, 1)), ("B", date(2026, 2, 15)), ("B", date(2026, 2, 28)),
        ("A", date(2026, 3, 1)),
    ]  # fmt: skip


def test_daily_by_monthday_counts_only_the_selected_days_as_turns() -> None:
    shift = rotation("AB", utc("2026-01-01T00:00"), Frequency.DAILY, by_monthday=(1, 15))
    schedule = Schedule(shifts=(shift,))
    days = ["2026-01-01", "2026-01-15", "2026-02-01", "2026-02-15", "2027-01-01", "2027-01-15"]
    assert [on_call_at(schedule, utc(f"{d}T12:00")) for d in days] == [("A",), ("B",)] * 3
    assert on_call_at(schedule, utc("2026-01-02T12:00")) == ()


def test_daily_interval_with_by_day_takes_every_other_day_that_is_a_weekday() -> None:
    shift = rotation("AB", utc("2026-03-02T00:00"), Frequency.DAILY, interval=2, by_day=WEEKDAYS)
    windows = shift_intervals(shift, "UTC", utc("2026-03-02T00:00"), utc("2026-03-16T00:00"))
    assert [(w.start.day, w.users[0]) for w in windows] == [
        (2, "A"),
        (4, "B"),
        (6, "A"),
        (10, "B"),
        (12, "A"),
    ]


def test_hourly_rotation_with_by_day_skips_weekend_hours_without_consuming_turns() -> None:
    friday_evening = utc("2026-03-06T22:00")
    shift = rotation("AB", friday_evening, Frequency.HOURLY, by_day=WEEKDAYS)
    schedule = Schedule(shifts=(shift,))
    assert on_call_at(schedule, utc("2026-03-06T22:30")) == ("A",)
    assert on_call_at(schedule, utc("2026-03-06T23:30")) == ("B",)
    assert on_call_at(schedule, utc("2026-03-07T12:00")) == ()
    assert on_call_at(schedule, utc("2026-03-09T00:30")) == ("A",)
    assert on_call_at(schedule, utc("2026-03-16T00:30")) == ("A",)  # 5 x 24 weekday hours later


def test_overnight_window_runs_past_midnight() -> None:
    shift = rotation("AB", utc("2026-03-02T00:00"), Frequency.DAILY, start_time=time(22), end_time=time(6))
    windows = shift_intervals(shift, "UTC", utc("2026-03-02T00:00"), utc("2026-03-04T00:00"))
    assert [(w.users[0], w.start, w.end) for w in windows] == [
        ("A", utc("2026-03-02T22:00"), utc("2026-03-03T06:00")),
        ("B", utc("2026-03-03T22:00"), utc("2026-03-04T06:00")),
    ]


def test_weekly_rotation_with_daily_window_changes_person_at_the_rotation_step() -> None:
    shift = rotation("AB", utc("2026-03-04T12:00"), Frequency.WEEKLY, start_time=time(9), end_time=time(17))
    windows = shift_intervals(shift, "UTC", utc("2026-03-04T00:00"), utc("2026-03-13T00:00"))
    # The first window is cut at rotation_start; the turn changes with the window opening after
    # the next Wednesday 12:00.
    assert [(w.start.day, w.start.hour, w.users[0]) for w in windows] == [
        (4, 12, "A"), (5, 9, "A"), (6, 9, "A"), (7, 9, "A"), (8, 9, "A"), (9, 9, "A"), (10, 9, "A"),
        (11, 9, "A"), (12, 9, "B"),
    ]  # fmt: skip


def test_until_ends_the_rotation() -> None:
    shift = rotation("AB", utc("2026-03-02T00:00"), Frequency.DAILY, until=utc("2026-03-04T12:00"))
    schedule = Schedule(shifts=(shift,))
    assert [s.end for s in timeline(schedule, utc("2026-03-02T00:00"), utc("2026-03-06T00:00"))] == [
        utc("2026-03-03T00:00"),
        utc("2026-03-04T00:00"),
        utc("2026-03-04T12:00"),
        utc("2026-03-06T00:00"),
    ]


def test_groups_take_turns_together_and_start_index_picks_the_first_group() -> None:
    shift = Shift(
        ShiftType.ROLLING_USERS,
        (("A", "B"), ("C",)),
        utc("2026-03-02T00:00"),
        Frequency.DAILY,
        start_rotation_from_user_index=1,
    )
    schedule = Schedule(shifts=(shift,))
    assert on_call_at(schedule, utc("2026-03-02T12:00")) == ("C",)
    assert on_call_at(schedule, utc("2026-03-03T12:00")) == ("A", "B")


def test_single_and_recurrent_events_put_every_user_on_together() -> None:
    single = Shift(
        ShiftType.SINGLE_EVENT, (("A",), ("B",)), utc("2026-03-02T10:00"), duration=timedelta(hours=3)
    )
    recurring = Shift(
        ShiftType.RECURRENT_EVENT, (("C",), ("D",)), utc("2026-03-02T00:00"), Frequency.DAILY, duration=4 * H
    )
    schedule = Schedule(shifts=(single, recurring))
    start = utc("2026-03-02T00:00")
    assert [
        (s.start.hour, s.end.hour, s.users) for s in timeline(schedule, start, start + timedelta(days=1))
    ] == [
        (0, 4, ("C", "D")),
        (4, 10, ()),
        (10, 13, ("A", "B")),
        (13, 0, ()),
    ]
    assert [h.after for h in handoffs(schedule, start + timedelta(days=1), start + timedelta(days=2))] == [
        ("C", "D"),
        (),
    ]


def test_a_rotation_that_started_years_ago_is_answered_without_replaying_it() -> None:
    shift = rotation("ABC", utc("2016-01-04T00:00"), Frequency.DAILY, by_day=WEEKDAYS)
    schedule = Schedule(shifts=(shift,))
    weekdays_since = sum(
        1
        for n in range((date(2026, 3, 2) - date(2016, 1, 4)).days)
        if (date(2016, 1, 4) + timedelta(n)).weekday() < 5
    )
    assert on_call_at(schedule, utc("2026-03-02T12:00")) == ("ABC"[weekdays_since % 3],)
