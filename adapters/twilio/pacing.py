"""Send pacing: one SMS segment per second per sending number, calls paced per account (Twilio's defaults).

A send that would come too early is not dropped: it raises a retryable ``DeliveryFailed`` with the
wait, and the engine retries the delivery then. Each delivery keeps the slot it was given, so its retry
goes out at once instead of queueing behind later arrivals. Slots live in this process: with several RQ
workers each paces its own sends (Twilio queues the rest, which it does for SMS anyway).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from engine.errors import DeliveryFailed


class Pacer:
    def __init__(self, interval: timedelta, what: str) -> None:
        self._interval = interval
        self._what = what
        self._lock = threading.Lock()
        self._next_free: datetime | None = None
        self._slots: dict[str, datetime] = {}

    def claim(self, key: str, now: datetime, weight: int = 1) -> None:
        """Return when ``key`` may send now; raise a retryable ``DeliveryFailed`` with the wait otherwise.

        ``weight`` is how many intervals the send uses up (an SMS of two segments counts twice).
        """
        with self._lock:
            # A slot nobody came back for (the delivery was cancelled) is forgotten after a minute.
            self._slots = {k: v for k, v in self._slots.items() if v > now - timedelta(minutes=1)}
            slot = self._slots.get(key)
            if slot is None:
                slot = max(now, self._next_free) if self._next_free else now
                self._next_free = slot + self._interval * max(1, weight)
            if slot <= now:
                self._slots.pop(key, None)
                return
            self._slots[key] = slot
            wait = (slot - now).total_seconds()
        raise DeliveryFailed(f"paced: {self._what}", retryable=True, retry_after=wait)
