"""Who is on call: the SPEC 4.2 example hour by hour, layering, overrides, gaps and handoffs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest

from engine.model.schedule import (
    FinalShift,
    Frequency,
    Handoff,
    Override,
    Schedule,
    Segment,
    Shift,
    ShiftInterval,
    ShiftType,
    TimeRange,
    Weekday,
)
from engine.rules.handoff import coverage_gaps, current_shift_for, handoffs, next_shift_for, on_call_segment
from engine.rules.oncall import final_shifts, on_call_at, timeline
from engine.rules.rotation import shift_intervals
from engine.rules.shift_input import parse_schedule

H = timedelta(hours=1)
WEEKDAYS = (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The SPEC 4.2 body, verbatim.
SPEC_SCHEDULE = {
    "name": "Primary On-Call",
    "team_id": "T001",
    "type": "calendar",
    "ical_url_primary": None,
    "time_zone": "America/New_York",
    "shifts": [
        {
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
        },
        {
            "name": "24/7 Coverage",
            "type": "rolling_users",
            "users": ["U001", "U002", "U003"],
            "rotation_start": "2026-02-10T00:00:00Z",
            "duration": 604800,
            "frequency": "weekly",
        },
    ],
}

# Worked out from the SPEC text, New York being UTC-5 all February (DST starts 8 March):
# * Weekday Daytime: rotation_start is Tue 10 Feb 04:00 local, so U001's turn covers the rest of
#   that Monday-bounded week: Tue-Fri 09:00-17:00 local = 14:00-22:00Z. U002 has Mon-Fri of the
#   week of 16 Feb, U003 Mon-Fri of the week of 23 Feb.
# * 24/7 Coverage: weeks from rotation_start, Mon 9 Feb 19:00 local = Tue 00:00Z: U001 until
#   Tue 17 Feb 00:00Z, U002 until Tue 24 Feb 00:00Z, U003 until Tue 3 Mar 00:00Z.
# * Both shifts have level 0, so where they overlap both people are on call.
SPEC_TABLE = [
    ("2026-02-09T00:00", "2026-02-10T00:00", ()),  # before either rotation starts
    ("2026-02-10T00:00", "2026-02-16T14:00", ("U001",)),  # U001 24/7, and U001 days Tue-Fri
    ("2026-02-16T14:00", "2026-02-16T22:00", ("U001", "U002")),  # Mon 09-17: U002 days, U001 24/7
    ("2026-02-16T22:00", "2026-02-17T00:00", ("U001",)),
    ("2026-02-17T00:00", "2026-02-23T14:00", ("U002",)),  # U002 24/7 and days Tue-Fri
    ("2026-02-23T14:00", "2026-02-23T22:00", ("U002", "U003")),  # Mon 09-17: U003 days, U002 24/7
    ("2026-02-23T22:00", "2026-02-24T00:00", ("U002",)),
    ("2026-02-24T00:00", "2026-03-02T00:00", ("U003",)),  # U003 24/7 and days Tue-Fri
]


def expected_at(moment: datetime) -> tuple[str, ...]:
    for start, end, users in SPEC_TABLE:
        if utc(start) <= moment < utc(end):
            return users
    raise AssertionError(f"{moment} is outside the table")


@pytest.fixture
def spec_schedule() -> Schedule:
    return parse_schedule(SPEC_SCHEDULE)


def test_spec_example_every_hour_and_half_hour_of_its_first_three_weeks(spec_schedule: Schedule) -> None:
    moment = utc("2026-02-09T00:00")
    while moment < utc("2026-03-02T00:00"):
        assert on_call_at(spec_schedule, moment) == expected_at(moment), moment
        moment += H / 2


def test_spec_example_timeline_is_the_table(spec_schedule: Schedule) -> None:
    segments = timeline(spec_schedule, utc("2026-02-09T00:00"), utc("2026-03-02T00:00"))
    assert segments == [Segment(utc(s), utc(e), users) for s, e, users in SPEC_TABLE]


def test_spec_daytime_layer_gives_u001_tue_to_fri_then_u002_the_whole_next_week(
    spec_schedule: Schedule,
) -> None:
    daytime = spec_schedule.shifts[0]
    windows = shift_intervals(
        daytime, spec_schedule.time_zone, utc("2026-02-09T00:00"), utc("2026-02-23T00:00")
    )
    assert [(w.users, w.start, w.end) for w in windows] == [
        (("U001",), utc(f"2026-02-{day}T14:00"), utc(f"2026-02-{day}T22:00"))
        for day in ("10", "11", "12", "13")
    ] + [(("U002",), utc(f"2026-02-{day}T14:00"), utc(f"2026-02-{day}T22:00")) for day in range(16, 21)]


def test_spec_example_final_shifts_per_user(spec_schedule: Schedule) -> None:
    assert final_shifts(spec_schedule, utc("2026-02-09T00:00"), utc("2026-03-02T00:00")) == [
        FinalShift("U001", utc("2026-02-10T00:00"), utc("2026-02-17T00:00")),
        FinalShift("U002", utc("2026-02-16T14:00"), utc("2026-02-16T22:00")),
        FinalShift("U002", utc("2026-02-17T00:00"), utc("2026-02-24T00:00")),
        FinalShift("U003", utc("2026-02-23T14:00"), utc("2026-02-23T22:00")),
        FinalShift("U003", utc("2026-02-24T00:00"), utc("2026-03-02T00:00")),
    ]


def test_spec_example_gaps_and_handoffs(spec_schedule: Schedule) -> None:
    start, end = utc("2026-02-09T00:00"), utc("2026-03-02T00:00")
    assert coverage_gaps(spec_schedule, start, end) == [TimeRange(start, utc("2026-02-10T00:00"))]
    assert handoffs(spec_schedule, start, end) == [
        Handoff(utc(later[0]), earlier[2], later[2]) for earlier, later in itertools.pairwise(SPEC_TABLE)
    ]


def test_handoff_exactly_at_the_window_start_is_reported(spec_schedule: Schedule) -> None:
    at = utc("2026-02-17T00:00")
    assert handoffs(spec_schedule, at, at + H) == [Handoff(at, ("U001",), ("U002",))]
    assert handoffs(spec_schedule, at + timedelta(microseconds=1), at + H) == []


# Layering ----------------------------------------------------------------------------------------

MONDAY = utc("2026-03-02T00:00")  # a Monday, in UTC schedules


def always(user: str, level: int = 0) -> Shift:
    """``user`` on call around the clock, one-week turns of a one-person rotation."""
    return Shift(ShiftType.ROLLING_USERS, ((user,),), MONDAY, Frequency.WEEKLY, priority_level=level)


def office_hours(user: str, level: int = 0) -> Shift:
    return Shift(
        ShiftType.RECURRENT_EVENT,
        ((user,),),
        MONDAY,
        Frequency.DAILY,
        by_day=WEEKDAYS,
        start_time=time(9),
        end_time=time(17),
        priority_level=level,
    )


def nights(user: str) -> Shift:
    return Shift(
        ShiftType.RECURRENT_EVENT, ((user,),), MONDAY, Frequency.DAILY, start_time=time(17), end_time=time(9)
    )


def test_higher_priority_level_wins_where_shifts_overlap() -> None:
    schedule = Schedule(shifts=(always("BASE"), office_hours("DAY", level=1)))
    assert on_call_at(schedule, utc("2026-03-02T10:00")) == ("DAY",)
    assert on_call_at(schedule, utc("2026-03-02T18:00")) == ("BASE",)
    assert on_call_at(schedule, utc("2026-03-07T10:00")) == ("BASE",)  # Saturday: no office hours


def test_equal_levels_are_all_on_call() -> None:
    schedule = Schedule(shifts=(always("BASE"), office_hours("DAY")))
    assert on_call_at(schedule, utc("2026-03-02T10:00")) == ("BASE", "DAY")


def test_an_override_puts_its_user_on_call_alone_beating_every_level() -> None:
    override = Override("SUB", utc("2026-03-02T08:00"), utc("2026-03-02T12:00"))
    schedule = Schedule(shifts=(always("BASE"), office_hours("DAY", level=5)), overrides=(override,))
    assert on_call_at(schedule, utc("2026-03-02T07:59")) == ("BASE",)
    assert on_call_at(schedule, utc("2026-03-02T10:00")) == ("SUB",)
    assert on_call_at(schedule, utc("2026-03-02T12:00")) == ("DAY",)


def test_overlapping_overrides_put_all_their_users_on_together() -> None:
    first = Override("X", utc("2026-03-02T08:00"), utc("2026-03-02T12:00"))
    second = Override("Y", utc("2026-03-02T11:00"), utc("2026-03-02T13:00"))
    schedule = Schedule(shifts=(always("BASE"),), overrides=(first, second))
    assert [
        (s.start.hour, s.users) for s in timeline(schedule, utc("2026-03-02T07:00"), utc("2026-03-02T14:00"))
    ] == [
        (7, ("BASE",)),
        (8, ("X",)),
        (11, ("X", "Y")),
        (12, ("Y",)),
        (13, ("BASE",)),
    ]


def test_covering_a_day_worker_for_three_days_replaces_only_their_hours() -> None:
    cover = Override("SUB", utc("2026-03-02T00:00"), utc("2026-03-05T00:00"), replaces_user_id="DAY")
    schedule = Schedule(shifts=(office_hours("DAY"), nights("NIGHT")), overrides=(cover,))
    start, end = utc("2026-03-02T00:00"), utc("2026-03-06T00:00")
    day_hours = [s for s in final_shifts(schedule, start, end) if s.user_id != "NIGHT"]
    assert day_hours == [
        FinalShift("SUB", utc("2026-03-02T09:00"), utc("2026-03-02T17:00")),
        FinalShift("SUB", utc("2026-03-03T09:00"), utc("2026-03-03T17:00")),
        FinalShift("SUB", utc("2026-03-04T09:00"), utc("2026-03-04T17:00")),
        FinalShift("DAY", utc("2026-03-05T09:00"), utc("2026-03-05T17:00")),
    ]
    assert on_call_at(schedule, utc("2026-03-03T02:00")) == ("NIGHT",)
    assert on_call_at(schedule, utc("2026-03-03T20:00")) == ("NIGHT",)
    # Nights begin on the rotation's first evening, so only the morning before the first day shift is empty.
    assert coverage_gaps(schedule, start, end) == [TimeRange(start, utc("2026-03-02T09:00"))]


def test_a_replace_override_leaves_others_alone_and_does_nothing_while_its_user_is_off() -> None:
    cover = Override("SUB", utc("2026-03-02T00:00"), utc("2026-03-03T00:00"), replaces_user_id="DAY")
    schedule = Schedule(shifts=(always("BASE"), office_hours("DAY")), overrides=(cover,))
    assert on_call_at(schedule, utc("2026-03-02T10:00")) == ("BASE", "SUB")
    assert on_call_at(schedule, utc("2026-03-02T20:00")) == ("BASE",)


def test_a_plain_override_beats_a_replace_override() -> None:
    cover = Override("SUB", utc("2026-03-02T00:00"), utc("2026-03-03T00:00"), replaces_user_id="BASE")
    alone = Override("BOSS", utc("2026-03-02T10:00"), utc("2026-03-02T11:00"))
    schedule = Schedule(shifts=(always("BASE"),), overrides=(cover, alone))
    assert on_call_at(schedule, utc("2026-03-02T09:00")) == ("SUB",)
    assert on_call_at(schedule, utc("2026-03-02T10:30")) == ("BOSS",)


def test_the_last_listed_replace_override_wins_for_the_same_user() -> None:
    first = Override("ONE", utc("2026-03-02T00:00"), utc("2026-03-03T00:00"), replaces_user_id="BASE")
    second = Override("TWO", utc("2026-03-02T06:00"), utc("2026-03-02T08:00"), replaces_user_id="BASE")
    schedule = Schedule(shifts=(always("BASE"),), overrides=(first, second))
    at = utc("2026-03-02T07:00")
    assert on_call_at(schedule, at) == ("TWO",)
    assert timeline(schedule, at, at + H)[0].users == ("TWO",)


def test_imported_intervals_are_layered_with_shifts_and_lose_to_overrides() -> None:
    imported = ShiftInterval(("CAL",), utc("2026-03-02T00:00"), utc("2026-03-03T00:00"), priority_level=2)
    override = Override("SUB", utc("2026-03-02T12:00"), utc("2026-03-02T13:00"))
    schedule = Schedule(shifts=(always("BASE", level=1),), intervals=(imported,), overrides=(override,))
    assert on_call_at(schedule, utc("2026-03-02T11:00")) == ("CAL",)
    assert on_call_at(schedule, utc("2026-03-02T12:30")) == ("SUB",)
    assert on_call_at(schedule, utc("2026-03-03T01:00")) == ("BASE",)


def test_weekday_only_rotation_leaves_weekends_as_gaps() -> None:
    schedule = Schedule(shifts=(office_hours("DAY"),))
    gaps = coverage_gaps(schedule, utc("2026-03-06T00:00"), utc("2026-03-10T00:00"))
    assert gaps == [
        TimeRange(utc("2026-03-06T00:00"), utc("2026-03-06T09:00")),
        TimeRange(utc("2026-03-06T17:00"), utc("2026-03-09T09:00")),
        TimeRange(utc("2026-03-09T17:00"), utc("2026-03-10T00:00")),
    ]


# Current and next shift for a user ---------------------------------------------------------------


@pytest.fixture
def weekly_pair_with_override() -> Schedule:
    """A and B swap every Monday 09:00 UTC; C covers Wed 12:00 to Fri 12:00 of B's first week."""
    shift = Shift(ShiftType.ROLLING_USERS, (("A",), ("B",)), utc("2026-03-02T09:00"), Frequency.WEEKLY)
    override = Override("C", utc("2026-03-11T12:00"), utc("2026-03-13T12:00"))
    return Schedule(shifts=(shift,), overrides=(override,))


def test_next_shift_is_cut_short_by_an_override_starting_mid_week(
    weekly_pair_with_override: Schedule,
) -> None:
    at = utc("2026-03-03T10:00")
    assert current_shift_for(weekly_pair_with_override, "A", at) == FinalShift(
        "A", utc("2026-03-02T09:00"), utc("2026-03-09T09:00")
    )
    assert next_shift_for(weekly_pair_with_override, "B", at) == FinalShift(
        "B", utc("2026-03-09T09:00"), utc("2026-03-11T12:00")
    )
    assert next_shift_for(weekly_pair_with_override, "C", at) == FinalShift(
        "C", utc("2026-03-11T12:00"), utc("2026-03-13T12:00")
    )
    assert current_shift_for(weekly_pair_with_override, "B", at) is None


def test_current_shift_during_an_override_and_what_follows(weekly_pair_with_override: Schedule) -> None:
    at = utc("2026-03-12T00:00")
    assert current_shift_for(weekly_pair_with_override, "C", at) == FinalShift(
        "C", utc("2026-03-11T12:00"), utc("2026-03-13T12:00")
    )
    assert next_shift_for(weekly_pair_with_override, "B", at) == FinalShift(
        "B", utc("2026-03-13T12:00"), utc("2026-03-16T09:00")
    )
    assert on_call_segment(weekly_pair_with_override, at) == Segment(
        utc("2026-03-11T12:00"), utc("2026-03-13T12:00"), ("C",)
    )


def test_next_shift_follows_a_long_stretch_to_its_real_end() -> None:
    shift = Shift(ShiftType.ROLLING_USERS, (("A",), ("B",)), utc("2026-01-01T00:00"), Frequency.MONTHLY)
    schedule = Schedule(shifts=(shift,))
    assert next_shift_for(schedule, "B", utc("2026-01-05T00:00")) == FinalShift(
        "B", utc("2026-02-01T00:00"), utc("2026-03-01T00:00")
    )
    assert current_shift_for(schedule, "A", utc("2026-01-20T00:00")) == FinalShift(
        "A", utc("2026-01-01T00:00"), utc("2026-02-01T00:00")
    )


def test_no_next_shift_within_the_horizon() -> None:
    schedule = Schedule(shifts=(always("BASE"),))
    assert next_shift_for(schedule, "NOBODY", MONDAY, horizon=timedelta(days=30)) is None
    segment = on_call_segment(schedule, MONDAY + H, horizon=timedelta(days=10))
    assert segment == Segment(MONDAY, MONDAY + H + timedelta(days=10), ("BASE",))
