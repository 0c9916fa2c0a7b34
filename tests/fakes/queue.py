"""A job queue for virtual time: jobs wait until the fake clock reaches them, then a test runs them."""

from __future__ import annotations

from collections.abc import Callable

from engine.ports import Job
from tests.fakes.clock import FakeClock


class FakeJobQueue:
    """Holds jobs by id like RQ does (a repeated id replaces the waiting job) and runs the due ones."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waiting: dict[str, Job] = {}
        self.enqueued: list[Job] = []
        self.ran: list[Job] = []
        self.runner: Callable[[Job], None] | None = None

    def enqueue(self, job: Job) -> None:
        self.enqueued.append(job)
        self.waiting[job.id] = job

    def due(self) -> list[Job]:
        now = self.clock.now()
        jobs = [j for j in self.waiting.values() if j.run_at is None or j.run_at <= now]
        return sorted(jobs, key=lambda j: (j.run_at or now, j.id))

    def run_due(self, limit: int = 10_000) -> int:
        """Run due jobs (including ones they enqueue) until none is due; return how many ran."""
        assert self.runner is not None, "bind a runner first"
        count = 0
        while count < limit:
            jobs = self.due()
            if not jobs:
                return count
            job = jobs[0]
            del self.waiting[job.id]
            self.ran.append(job)
            self.runner(job)
            count += 1
        raise AssertionError(f"more than {limit} jobs ran: a job keeps re-enqueueing itself")

    def advance(self, seconds: float) -> int:
        """Move virtual time forward, running each job at its own due time, in order."""
        target = self.clock.now().timestamp() + seconds
        ran = self.run_due()
        while True:
            upcoming = [j.run_at for j in self.waiting.values() if j.run_at is not None]
            nxt = min((t for t in upcoming if t.timestamp() <= target), default=None)
            if nxt is None:
                break
            if nxt > self.clock.now():
                self.clock.set(nxt)
            ran += self.run_due()
        remaining = target - self.clock.now().timestamp()
        if remaining > 0:
            self.clock.advance(remaining)
        return ran + self.run_due()
