"""The embedded engine: an in-process scheduler thread that runs jobs when they are due."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from engine.clock import Clock
from engine.ports import Job

log = logging.getLogger(__name__)

Runner = Callable[[Job], None]


class InProcessJobQueue:
    """A due-time heap served by one worker thread; jobs with an id already waiting are merged.

    A merged job keeps the earlier due time: a delivery moved up (a call nobody answered makes the next
    rule due now) must not wait for the wake-up enqueued when it was planned. Jobs live only in memory:
    the sweeper re-derives lost wake-ups from the database after a restart.
    """

    def __init__(self, clock: Clock, poll_seconds: float = 0.5) -> None:
        self._clock = clock
        self._poll = poll_seconds
        self._heap: list[tuple[float, int, Job]] = []
        self._waiting: dict[str, tuple[float, int]] = {}  # job id -> (due, seq) of its live heap entry
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._runner: Runner | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def bind(self, runner: Runner) -> None:
        self._runner = runner

    def enqueue(self, job: Job) -> None:
        due = (job.run_at or self._clock.now()).timestamp()
        with self._cond:
            live = self._waiting.get(job.id)
            if live is not None and live[0] <= due:
                return
            seq = next(self._seq)
            self._waiting[job.id] = (due, seq)  # an entry left behind for a later time is skipped when popped
            heapq.heappush(self._heap, (due, seq, job))
            self._cond.notify()

    def depth(self) -> int:
        with self._cond:
            return len(self._waiting)

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="tocsin-engine", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _next_due(self) -> Job | None:
        with self._cond:
            while not self._stopping:
                if self._heap and self._heap[0][0] <= self._clock.now().timestamp():
                    _due, seq, job = heapq.heappop(self._heap)
                    live = self._waiting.get(job.id)
                    if live is None or live[1] != seq:
                        continue  # an entry replaced by an earlier one for the same id
                    del self._waiting[job.id]
                    return job
                wait = self._poll
                if self._heap:
                    wait = min(wait, max(0.0, self._heap[0][0] - self._clock.now().timestamp()))
                self._cond.wait(timeout=wait)
            return None

    def _loop(self) -> None:
        while True:
            job = self._next_due()
            if job is None:
                return
            if self._runner is None:
                continue
            try:
                self._runner(job)
            except Exception:
                log.exception("job %s (%s) failed", job.id, job.kind)
