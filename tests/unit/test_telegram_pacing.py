"""Telegram's flood limits kept before sending: 1/s per chat, 20/min per group, 30/s overall."""

from __future__ import annotations

import pytest

from adapters.telegram.pacing import Pacer
from engine.errors import DeliveryFailed
from tests.fakes.clock import FakeClock


def _sends_within(pacer: Pacer, clock: FakeClock, chat: str, seconds: int) -> int:
    """Try one send per second for ``seconds`` seconds; count the ones allowed."""
    allowed = 0
    for _ in range(seconds):
        try:
            pacer.take(chat, "test")
            allowed += 1
        except DeliveryFailed as exc:
            assert exc.retryable and exc.retry_after is not None and exc.retry_after >= 1
        clock.advance(1)
    return allowed


def test_one_message_a_second_per_chat() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.take("100000001", "first")
    with pytest.raises(DeliveryFailed) as refused:
        pacer.take("100000001", "second")
    assert refused.value.retry_after == 1
    pacer.take("100000002", "another chat is not held up")
    clock.advance(1)
    pacer.take("100000001", "a second later")


def test_twenty_a_minute_per_group_but_not_for_private_chats() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    assert _sends_within(pacer, clock, "-400000001", 60) == 20
    assert _sends_within(pacer, clock, "100000001", 60) == 60


def test_thirty_a_second_overall() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    for chat in range(30):
        pacer.take(str(100 + chat), "burst")
    with pytest.raises(DeliveryFailed):
        pacer.take("999", "the 31st in one second")
    clock.advance(1)
    pacer.take("999", "next second")
