"""The `tocsin worker` process: an RQ worker with scheduler, plus the sweeper thread.

It lives beside the composition root (not in adapters.rq) because it builds the whole runtime."""

from __future__ import annotations

import logging
import threading
from typing import Any

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from adapters.rq.queue import QUEUE_NAME
from adapters.runtime import Runtime, build_runtime
from adapters.settings import load_settings
from engine import jobs

log = logging.getLogger(__name__)
_runtime: Runtime | None = None
_lock = threading.Lock()


def _process_runtime() -> Runtime:
    """One runtime per worker process (and work horse), built on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(load_settings(), migrate=False)
        return _runtime


def perform(kind: str, args: dict[str, Any]) -> None:
    """The single RQ entry point: look the handler up by kind and run it."""
    jobs.run_job(_process_runtime().deps, kind, args)


class TocsinWorker(SimpleWorker):
    """RQ's SimpleWorker whose command-channel thread wakes every second instead of every minute.

    rq 3.0 listens for worker commands with ``run_in_thread(sleep_time=60)`` and joins that thread on
    shutdown, so `tocsin worker` sometimes took up to a minute to stop on SIGTERM (a deploy or a
    restart waits that long). A one-second poll of an idle pub/sub connection costs nothing.
    """

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def run_worker(runtime: Runtime, queues: list[str] | None = None, burst: bool = False) -> None:
    global _runtime
    _runtime = runtime
    if runtime.redis is None:
        raise RuntimeError("tocsin worker needs TOCSIN_REDIS_URL")
    sweeper = runtime.start_sweeper()
    # Jobs run in the worker process itself: a fork per job costs tens of milliseconds (measured in
    # bench/bench_escalation.py) and would share the parent's pooled database connections.
    worker = TocsinWorker(
        queues or [QUEUE_NAME],
        connection=runtime.redis,
        serializer=JSONSerializer,
        # Short intervals so an abandoned job of a killed worker is found within about a minute.
        maintenance_interval=30,
        job_monitoring_interval=10,
    )
    try:
        worker.work(with_scheduler=True, burst=burst, logging_level=runtime.settings.log_level)
    finally:
        sweeper.set()
