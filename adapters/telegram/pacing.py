"""Telegram's flood limits, kept before sending rather than learnt from 429s.

1 message a second per chat, 20 a minute per group, 30 a second overall (python-telegram-bot
``constants.FloodLimit``). The decision is ``engine.rules.throttle.next_send_time``; this keeps the send
history of this process. A send that would break a limit is not made: the caller gets a retryable
``DeliveryFailed`` with ``retry_after``, and the engine runs the job again then (in virtual time in tests).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from engine.clock import Clock
from engine.errors import DeliveryFailed
from engine.rules.throttle import RateLimit, next_send_time

PER_CHAT = RateLimit(1, timedelta(seconds=1))
PER_GROUP = RateLimit(20, timedelta(minutes=1))
OVERALL = RateLimit(30, timedelta(seconds=1))
_KEEP = timedelta(minutes=1)


def is_group(chat_id: str) -> bool:
    """Private chats have the user's positive id; groups and supergroups are negative."""
    return chat_id.startswith("-")


class Pacer:
    """Thread-safe per-process send history; ``take`` reserves a slot now or says how long to wait."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._chats: dict[str, deque[datetime]] = {}
        self._all: deque[datetime] = deque()

    def wait_for(self, chat_id: str) -> float:
        """Seconds until one more message to ``chat_id`` keeps every limit (0: now), reserving nothing."""
        with self._lock:
            now = self._clock.now()
            return self._wait(chat_id, now)

    def take(self, chat_id: str, what: str) -> None:
        """Record a send to ``chat_id`` now, or raise a retryable DeliveryFailed when it must wait."""
        with self._lock:
            now = self._clock.now()
            wait = self._wait(chat_id, now)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise DeliveryFailed(
                    f"{what}: paced to Telegram's limits, next send in {seconds} s",
                    retryable=True,
                    retry_after=seconds,
                    provider_code="paced",
                )
            self._chats.setdefault(chat_id, deque()).append(now)
            self._all.append(now)

    def _wait(self, chat_id: str, now: datetime) -> float:
        self._prune(now)
        limits = [PER_CHAT, PER_GROUP] if is_group(chat_id) else [PER_CHAT]
        at = next_send_time(self._chats.get(chat_id, ()), now, limits=limits)
        at = max(at, next_send_time(self._all, now, limits=[OVERALL]))
        return max(0.0, (at - now).total_seconds())

    def _prune(self, now: datetime) -> None:
        for history in (*self._chats.values(), self._all):
            while history and history[0] <= now - _KEEP:
                history.popleft()
