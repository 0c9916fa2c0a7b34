"""Questions about changes in a schedule: gaps, handoffs, and a user's current and next shift.

Everything here reads the layered answer of :mod:`engine.rules.oncall`, so overrides are always
included: an override that starts mid-week cuts the week's shift at the override's start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from engine.model.schedule import FinalShift, Handoff, Schedule, Segment, TimeRange
from engine.rules.oncall import final_shifts, timeline

_TICK = timedelta(microseconds=1)
_FIRST_LOOK = timedelta(days=8)
DEFAULT_HORIZON = timedelta(days=366)


def coverage_gaps(schedule: Schedule, start: datetime, end: datetime) -> list[TimeRange]:
    """The stretches of ``[start, end)`` with nobody on call, in order."""
    return [TimeRange(s.start, s.end) for s in timeline(schedule, start, end) if not s.users]


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[Handoff]:
    """Every instant in ``[start, end)`` where the on-call set changes, with the sets around it."""
    if end <= start:
        return []
    # One microsecond before start is enough to see a change exactly at start: no edge is finer.
    segments = timeline(schedule, start - _TICK, end)
    return [Handoff(after.start, before.users, after.users) for before, after in pairwise(segments)]


def on_call_segment(schedule: Schedule, t: datetime, horizon: timedelta = DEFAULT_HORIZON) -> Segment:
    """The stretch around ``t`` during which the on-call set stays what it is at ``t``.

    Its ``end`` is when the current people hand over (the API's ``shift_end``). The search goes at
    most ``horizon`` either way; a stretch longer than that is cut at ``t - horizon``/``t + horizon``.
    """
    end = _segment_edge(schedule, t, horizon, forward=True)
    start = _segment_edge(schedule, t, horizon, forward=False)
    return Segment(start, end, timeline(schedule, t, t + _TICK)[0].users)


def current_shift_for(
    schedule: Schedule, user_id: str, t: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> FinalShift | None:
    """The user's on-call stretch containing ``t``, or ``None`` if they are not on call at ``t``.

    Edges further than ``horizon`` from ``t`` are cut there.
    """
    look = _FIRST_LOOK
    while True:
        back, ahead = max(t - look, t - horizon), min(t + look, t + horizon)
        mine = [
            s for s in final_shifts(schedule, back, ahead) if s.user_id == user_id and s.start <= t < s.end
        ]
        if not mine:
            return None
        shift = mine[0]
        reached_edge = (shift.start == back and back > t - horizon) or (
            shift.end == ahead and ahead < t + horizon
        )
        if not reached_edge:
            return shift
        look *= 4


def next_shift_for(
    schedule: Schedule, user_id: str, t: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> FinalShift | None:
    """The user's first on-call stretch that starts after ``t`` (within ``horizon``), or ``None``.

    A stretch running at ``t`` is the current one, not the next; see :func:`current_shift_for`.
    """
    look = _FIRST_LOOK
    while True:
        ahead = min(t + look, t + horizon)
        upcoming = [s for s in final_shifts(schedule, t, ahead) if s.user_id == user_id and s.start > t]
        if upcoming:
            first = upcoming[0]
            if first.end < ahead:
                return first
            # The stretch runs past what was looked at; follow it to its real end.
            whole = current_shift_for(schedule, user_id, first.start, horizon)
            end = whole.end if whole is not None else first.end
            return FinalShift(user_id, first.start, min(end, t + horizon))
        if ahead >= t + horizon:
            return None
        look *= 4


def _segment_edge(schedule: Schedule, t: datetime, horizon: timedelta, *, forward: bool) -> datetime:
    look = _FIRST_LOOK
    while True:
        reach = min(look, horizon)
        if forward:
            segments = timeline(schedule, t, t + reach)
            edge = segments[0].end
        else:
            segments = timeline(schedule, t - reach, t + _TICK)
            edge = segments[-1].start
        if len(segments) > 1 or reach >= horizon:
            return edge
        look *= 4
