"""Properties of random schedules: no invented gaps, no duplicates, one answer whichever way asked."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.schedule import Frequency, Override, Schedule, Shift, ShiftType, Weekday
from engine.rules.handoff import coverage_gaps
from engine.rules.oncall import on_call_at, timeline
from engine.rules.rotation import shift_intervals

ZONES = ["UTC", "America/Chicago", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]
USERS = ["A", "B", "C", "D"]
EARLIEST = datetime(2025, 1, 1, tzinfo=UTC)
LATEST = datetime(2027, 12, 31, tzinfo=UTC)

instants = st.datetimes(min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None)).map(
    lambda d: d.replace(tzinfo=UTC)
)
groups = st.lists(st.lists(st.sampled_from(USERS), min_size=1, max_size=2).map(tuple), min_size=1, max_size=4)
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def shifts(draw: st.DrawFn) -> Shift:
    kind = draw(st.sampled_from(ShiftType))
    start = draw(instants)
    frequency = None if kind is ShiftType.SINGLE_EVENT else draw(st.sampled_from(Frequency))
    duration = draw(st.none() | st.integers(15, 14 * 24 * 60).map(lambda m: timedelta(minutes=m)))
    if kind is ShiftType.SINGLE_EVENT and duration is None:
        duration = timedelta(hours=draw(st.integers(1, 72)))
    window = (None, None)
    if frequency not in (None, Frequency.HOURLY) and draw(st.booleans()):
        window = draw(st.tuples(wall_times, wall_times).filter(lambda w: w[0] != w[1]))
    by_day = tuple(sorted(draw(st.sets(st.sampled_from(Weekday), max_size=7)), key=lambda d: d.number))
    by_monthday: tuple[int, ...] = ()
    if frequency not in (None, Frequency.HOURLY):
        by_monthday = tuple(sorted(draw(st.sets(st.integers(1, 31) | st.integers(-31, -1), max_size=3))))
    until = draw(st.none() | st.integers(1, 400).map(lambda d: start + timedelta(days=d)))
    return Shift(
        kind,
        tuple(draw(groups)),
        start,
        frequency,
        interval=draw(st.integers(1, 3)),
        duration=duration,
        start_time=window[0],
        end_time=window[1],
        by_day=by_day,
        by_monthday=by_monthday,
        week_start=draw(st.sampled_from(Weekday)),
        until=until,
        priority_level=draw(st.integers(0, 2)),
        time_zone=draw(st.sampled_from(ZONES)),
        start_rotation_from_user_index=draw(st.integers(0, 3)),
    )


@st.composite
def overrides(draw: st.DrawFn) -> Override:
    start = draw(instants)
    return Override(
        draw(st.sampled_from(USERS)),
        start,
        start + timedelta(minutes=draw(st.integers(1, 5 * 24 * 60))),
        replaces_user_id=draw(st.none() | st.sampled_from(USERS)),
    )


schedules = st.builds(
    Schedule,
    time_zone=st.sampled_from(ZONES),
    shifts=st.lists(shifts(), min_size=1, max_size=4).map(tuple),
    overrides=st.lists(overrides(), max_size=3).map(tuple),
)


def covered_by_rotations(schedule: Schedule, t: datetime) -> bool:
    return any(
        w.start <= t < w.end
        for s in schedule.shifts
        for w in shift_intervals(s, schedule.time_zone, t, t + timedelta(1))
    )


@settings(max_examples=50, deadline=None)
@given(schedules, instants)
def test_no_gap_the_rotations_lack_and_nobody_twice(schedule: Schedule, t: datetime) -> None:
    users = on_call_at(schedule, t)
    assert len(set(users)) == len(users)
    assert list(users) == sorted(users)
    plain_override = any(o.start <= t < o.end and o.replaces_user_id is None for o in schedule.overrides)
    assert bool(users) == (covered_by_rotations(schedule, t) or plain_override)


@settings(max_examples=50, deadline=None)
@given(schedules, instants)
def test_timeline_agrees_with_on_call_at_and_its_gaps_are_real(schedule: Schedule, t: datetime) -> None:
    start, end = t - timedelta(days=3), t + timedelta(days=3)
    segments = timeline(schedule, start, end)
    assert segments[0].start == start and segments[-1].end == end
    assert all(a.end == b.start and a.users != b.users for a, b in itertools.pairwise(segments))
    here = next(s for s in segments if s.start <= t < s.end)
    assert here.users == on_call_at(schedule, t)
    for gap in coverage_gaps(schedule, start, end):
        for probe in (gap.start, gap.start + (gap.end - gap.start) / 2):
            assert not covered_by_rotations(schedule, probe)
            assert on_call_at(schedule, probe) == ()


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(ZONES),
    instants,
    st.sampled_from([Frequency.HOURLY, Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY]),
    st.integers(1, 12),
)
def test_whole_period_turns_meet_exactly_across_dst(
    zone: str, start: datetime, frequency: Frequency, interval: int
) -> None:
    shift = Shift(
        ShiftType.ROLLING_USERS, (("A",), ("B",)), start, frequency, interval=interval, time_zone=zone
    )
    windows = shift_intervals(shift, "UTC", start + timedelta(days=30), start + timedelta(days=100))
    assert windows
    pairs = list(itertools.pairwise(windows))
    assert all(a.end == b.start for a, b in pairs)
    # Only an hour that the clocks skip can swallow a whole turn (documented in docs/schedules.md).
    assert frequency is Frequency.HOURLY or all(a.users != b.users for a, b in pairs)
