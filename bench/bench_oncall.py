"""Speed of the on-call rules on a busy schedule: 10 layered rotations and 500 overrides over a year.

Run with ``python bench/bench_oncall.py``. Targets: ``on_call_at`` under 1 ms, ``final_shifts``
for 90 days under 50 ms. Prints figures; asserts nothing.
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta

from engine.model.schedule import Frequency, Override, Schedule, Shift, ShiftType, Weekday
from engine.rules.handoff import next_shift_for
from engine.rules.oncall import final_shifts, on_call_at

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
WEEKDAYS = (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR)
PEOPLE = tuple(f"U{n:03d}" for n in range(1, 25))


def rotation(n: int, frequency: Frequency, level: int, zone: str, **fields: object) -> Shift:
    users = tuple((u,) for u in PEOPLE[n : n + 4])
    start = YEAR_START - timedelta(days=400 + 17 * n)  # rotations that began long before the year
    return Shift(
        ShiftType.ROLLING_USERS, users, start, frequency, priority_level=level, time_zone=zone, **fields
    )  # type: ignore[arg-type]


def busy_schedule(seed: int = 7) -> Schedule:
    shifts = (
        rotation(0, Frequency.WEEKLY, 0, "America/New_York"),
        rotation(
            1, Frequency.WEEKLY, 0, "America/Chicago", by_day=WEEKDAYS, start_time=time(9), end_time=time(17)
        ),
        rotation(
            2,
            Frequency.DAILY,
            1,
            "Europe/London",
            by_day=WEEKDAYS,
            start_time=time(8, 30),
            end_time=time(17, 30),
        ),
        rotation(3, Frequency.DAILY, 1, "Europe/Berlin", start_time=time(22), end_time=time(6)),
        rotation(4, Frequency.HOURLY, 0, "Asia/Kolkata", interval=12),
        rotation(5, Frequency.MONTHLY, 0, "Australia/Sydney"),
        rotation(6, Frequency.WEEKLY, 2, "America/Los_Angeles", interval=2, by_day=(Weekday.SA, Weekday.SU)),
        rotation(7, Frequency.DAILY, 0, "UTC", by_day=WEEKDAYS),
        rotation(
            8,
            Frequency.MONTHLY,
            2,
            "Europe/Paris",
            by_monthday=(1, 15),
            start_time=time(0),
            end_time=time(12),
        ),
        rotation(9, Frequency.WEEKLY, 3, "Pacific/Auckland", duration=timedelta(days=2)),
    )
    rng = random.Random(seed)
    overrides = []
    for _ in range(500):
        start = YEAR_START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        replaced = rng.choice(PEOPLE) if rng.random() < 0.5 else None
        overrides.append(
            Override(rng.choice(PEOPLE), start, start + timedelta(hours=rng.randint(1, 72)), replaced)
        )
    return Schedule(time_zone="UTC", shifts=shifts, overrides=tuple(overrides))


def timed(call, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    spent = []
    for _ in range(repeats):
        began = clock.perf_counter()
        call()
        spent.append(clock.perf_counter() - began)
    return spent


def describe(name: str, seconds: list[float], unit: str, scale: float, target: float | None) -> None:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    if target is None:
        verdict = f"n={len(ordered)}"
    else:
        verdict = f"target < {target:g} {unit}: {'ok' if median * scale < target else 'OVER TARGET'}, n={len(ordered)}"
    print(
        f"{name:<30} median {median * scale:8.3f} {unit}  mean {statistics.fmean(ordered) * scale:8.3f} {unit}  "
        f"max {ordered[-1] * scale:8.3f} {unit}  p99 {p99 * scale:8.3f} {unit}  ({verdict})"
    )


def main() -> None:
    schedule = busy_schedule()
    rng = random.Random(11)
    instants = [YEAR_START + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(2000)]
    print(f"Python {platform.python_version()} on {platform.machine()} ({sys.platform})")
    print(f"schedule: {len(schedule.shifts)} rotations, {len(schedule.overrides)} overrides over 2026")
    on_call_at(schedule, instants[0])  # warm the zone and cycle caches

    queue = iter(instants)
    describe("on_call_at", timed(lambda: on_call_at(schedule, next(queue)), len(instants)), "ms", 1e3, 1)

    starts = [YEAR_START + timedelta(days=d) for d in range(0, 270, 9)]
    shifts_per_run = len(final_shifts(schedule, starts[0], starts[0] + timedelta(days=90)))
    windows = iter(starts)

    def ninety_days() -> None:
        start = next(windows)
        final_shifts(schedule, start, start + timedelta(days=90))

    describe("final_shifts (90 days)", timed(ninety_days, len(starts)), "ms", 1e3, 50)
    print(f"  ({shifts_per_run} final shifts in the first 90-day window)")

    year_end = YEAR_START + timedelta(days=365)
    describe(
        "final_shifts (365 days)",
        timed(lambda: final_shifts(schedule, YEAR_START, year_end), 5),
        "ms",
        1e3,
        None,
    )

    # Every person of the schedule once: most have a shift within days, a few only weeks away.
    people = iter(PEOPLE)
    at = YEAR_START + timedelta(days=100)
    describe(
        "next_shift_for",
        timed(lambda: next_shift_for(schedule, next(people), at), len(PEOPLE)),
        "ms",
        1e3,
        None,
    )


if __name__ == "__main__":
    main()
