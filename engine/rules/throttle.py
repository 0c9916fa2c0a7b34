"""Send-rate throttling that never drops a message, only delays it.

Limits are sliding windows: at most ``count`` sends in any ``period``, which is how chat providers
state them (Telegram: 1 a second per chat, 20 a minute per group). A send is never placed before
one already in the history, so messages to one destination keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RateLimit:
    count: int
    period: timedelta

    @classmethod
    def every(cls, rate: float, period: timedelta) -> RateLimit:
        """``rate`` sends per ``period``; a fractional rate becomes a minimum interval (0.5/s = 1 per 2 s)."""
        if rate <= 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        if rate >= 1 and float(rate).is_integer():
            return cls(int(rate), period)
        return cls(1, period / rate)


def next_send_time(
    history: Iterable[datetime],
    now: datetime,
    *,
    per_second: float | None = None,
    per_minute: float | None = None,
    limits: Sequence[RateLimit] = (),
) -> datetime:
    """The earliest time at or after ``now`` when one more send keeps every limit.

    ``history`` holds the times of earlier sends to the same destination, including ones already
    scheduled in the future; the caller appends the answer to it before asking again. Entries
    older than the longest period do not matter and may be pruned.
    """
    rules = list(limits)
    if per_second is not None:
        rules.append(RateLimit.every(per_second, timedelta(seconds=1)))
    if per_minute is not None:
        rules.append(RateLimit.every(per_minute, timedelta(minutes=1)))
    sent = sorted(history)
    at = max(now, sent[-1]) if sent else now
    moved = True
    while moved:
        # Moving later for one limit can only help the others, so this settles after a few passes.
        moved = False
        for rule in rules:
            recent = [t for t in sent if t > at - rule.period]
            if len(recent) >= rule.count:  # the count-th latest must leave the window first
                at = recent[-rule.count] + rule.period
                moved = True
    return at
