"""Send throttling: delays, never drops, keeps order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.throttle import RateLimit, next_send_time

NOW = datetime(2026, 2, 9, 14, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("history", "limits", "expected"),
    [
        ([], {"per_second": 1}, NOW),
        ([NOW - S / 2], {"per_second": 1}, NOW + S / 2),
        ([NOW - 2 * S], {"per_second": 1}, NOW),
        ([NOW - S], {"per_second": 1}, NOW),  # exactly one second apart is one a second
        # Never overtakes a send already scheduled, even with no limit at all.
        ([NOW + 10 * S], {}, NOW + 10 * S),
        ([NOW + 10 * S], {"per_second": 1}, NOW + 11 * S),
        # Twenty a minute, twenty sent in the last 30 s: wait until the oldest leaves the minute.
        ([NOW - (30 - i) * S for i in range(20)], {"per_minute": 20}, NOW + 30 * S),
        ([NOW - (30 - i) * S for i in range(19)], {"per_minute": 20}, NOW),
        # Thirty a second may go at once; the thirty-first waits for the second to pass.
        ([NOW] * 30, {"per_second": 30}, NOW + S),
        ([NOW] * 29, {"per_second": 30}, NOW),
        # Half a send a second is one every two seconds.
        ([NOW - S], {"per_second": 0.5}, NOW + S),
        ([NOW], {"limits": [RateLimit(2, 10 * S)]}, NOW),
        ([NOW - S, NOW], {"limits": [RateLimit(2, 10 * S)]}, NOW + 9 * S),
    ],
)
def test_next_send_time(history: list[datetime], limits: dict[str, object], expected: datetime) -> None:
    assert next_send_time(history, NOW, **limits) == expected  # type: ignore[arg-type]


def test_a_burst_is_spread_out_and_nothing_is_dropped() -> None:
    history: list[datetime] = []
    for _ in range(25):
        history.append(next_send_time(history, NOW, per_second=1, per_minute=20))
    assert history[:20] == [NOW + i * S for i in range(20)]
    assert history[20:] == [NOW + (60 + i) * S for i in range(5)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        next_send_time([], NOW, per_minute=0)


LIMITS = st.lists(
    st.builds(RateLimit, st.integers(1, 5), st.integers(1, 120).map(lambda n: n * S / 2)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-240, 240), max_size=30), LIMITS)
def test_the_answer_is_the_earliest_time_that_keeps_every_limit(
    offsets: list[int], limits: list[RateLimit]
) -> None:
    history = [NOW + n * S / 2 for n in offsets]
    at = next_send_time(history, NOW, limits=limits)
    floor = max([NOW, *history])

    def keeps_limits(t: datetime) -> bool:
        return all(sum(t - rule.period < h <= t for h in history) < rule.count for rule in limits)

    assert at >= floor
    assert keeps_limits(at)
    earlier = at - timedelta(microseconds=1)
    assert earlier < floor or not keeps_limits(earlier)
