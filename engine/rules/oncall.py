"""Who is on call: layering shift windows, imported intervals and overrides into one answer.

At any instant the on-call set is decided in three steps:

1. Of the shift windows and imported intervals covering the instant, those with the highest
   ``priority_level`` win; everyone in them is on call (equal levels are all on call).
2. Replace overrides (``replaces_user_id``) swap the replaced user for the override's user, and
   only while the replaced user is actually on call. If several cover the same user, the one
   listed last in ``Schedule.overrides`` wins.
3. If any plain override covers the instant, its user is on call alone (with the users of other
   plain overrides covering the same instant), whatever the shifts say.

All functions are pure: the schedule value and aware UTC instants in, plain values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from engine.model.schedule import FinalShift, Override, Schedule, Segment, ShiftInterval
from engine.rules.rotation import shift_intervals

_TICK = timedelta(microseconds=1)


def layer_intervals(schedule: Schedule, start: datetime, end: datetime) -> list[ShiftInterval]:
    """Every shift window and imported interval overlapping ``[start, end)``, before overrides."""
    found: list[ShiftInterval] = []
    for shift in schedule.shifts:
        found.extend(shift_intervals(shift, schedule.time_zone, start, end))
    found.extend(i for i in schedule.intervals if i.start < end and i.end > start and i.start < i.end)
    return found


def on_call_at(schedule: Schedule, t: datetime) -> tuple[str, ...]:
    """The user ids on call at the instant ``t``, sorted; empty when nobody is."""
    active = [i for i in layer_intervals(schedule, t, t + _TICK) if i.start <= t]
    overrides = [o for o in schedule.overrides if o.start <= t < o.end]
    return _resolve(active, overrides)


def timeline(schedule: Schedule, start: datetime, end: datetime) -> list[Segment]:
    """``[start, end)`` cut into maximal segments with one on-call set each, empty sets included.

    Consecutive segments always differ; together they cover ``[start, end)`` exactly.
    """
    if end <= start:
        return []
    intervals = layer_intervals(schedule, start, end)
    overrides = [o for o in schedule.overrides if o.start < end and o.end > start]
    return _sweep(intervals, overrides, start, end)


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[FinalShift]:
    """Each user's unbroken on-call stretches inside ``[start, end)``, after layering and overrides.

    A stretch that continues past either edge is cut at it. Sorted by start, then user id.
    """
    return shifts_from_segments(timeline(schedule, start, end))


def shifts_from_segments(segments: Iterable[Segment]) -> list[FinalShift]:
    """Per-user stretches from consecutive segments; a user present in adjacent segments is merged."""
    open_since: dict[str, datetime] = {}
    closed: list[FinalShift] = []
    previous_end: datetime | None = None
    for segment in segments:
        if previous_end is not None and segment.start != previous_end:
            closed.extend(FinalShift(u, since, previous_end) for u, since in open_since.items())
            open_since = {}
        for user, since in list(open_since.items()):
            if user not in segment.users:
                closed.append(FinalShift(user, since, segment.start))
                del open_since[user]
        for user in segment.users:
            open_since.setdefault(user, segment.start)
        previous_end = segment.end
    if previous_end is not None:
        closed.extend(FinalShift(u, since, previous_end) for u, since in open_since.items())
    return sorted(closed, key=lambda s: (s.start, s.user_id))


def _resolve(intervals: Sequence[ShiftInterval], overrides: Sequence[Override]) -> tuple[str, ...]:
    alone = [o.user_id for o in overrides if o.replaces_user_id is None]
    if alone:
        return tuple(sorted(set(alone)))
    if not intervals:
        return ()
    top = max(i.priority_level for i in intervals)
    users = {u for i in intervals if i.priority_level == top for u in i.users}
    standing_in = {o.replaces_user_id: o.user_id for o in overrides if o.replaces_user_id is not None}
    return tuple(sorted({standing_in.get(u, u) for u in users}))


def _sweep(
    intervals: Sequence[ShiftInterval], overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Segment]:
    edges = {start, end}
    for interval in intervals:
        edges.update(e for e in (interval.start, interval.end) if start < e < end)
    for override in overrides:
        edges.update(e for e in (override.start, override.end) if start < e < end)
    ordered_edges = sorted(edges)
    by_start_i = sorted(intervals, key=lambda i: i.start)
    # Overrides keep their position in the schedule so that "listed last wins" holds here too.
    by_start_o = sorted(enumerate(overrides), key=lambda pair: pair[1].start)
    active_i: list[ShiftInterval] = []
    active_o: list[tuple[int, Override]] = []
    next_i = next_o = 0
    segments: list[Segment] = []
    for left, right in pairwise(ordered_edges):
        while next_i < len(by_start_i) and by_start_i[next_i].start <= left:
            active_i.append(by_start_i[next_i])
            next_i += 1
        while next_o < len(by_start_o) and by_start_o[next_o][1].start <= left:
            active_o.append(by_start_o[next_o])
            next_o += 1
        active_i = [i for i in active_i if i.end > left]
        active_o = [pair for pair in active_o if pair[1].end > left]
        users = _resolve(active_i, [o for _, o in sorted(active_o, key=lambda pair: pair[0])])
        if segments and segments[-1].users == users:
            segments[-1] = Segment(segments[-1].start, right, users)
        else:
            segments.append(Segment(left, right, users))
    return segments
