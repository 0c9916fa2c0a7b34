"""RQ as the production JobQueue: JSON-serialised ids only, deterministic job ids."""

from __future__ import annotations

import re
from datetime import UTC

from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from engine.ports import Job

QUEUE_NAME = "tocsin"
PERFORM = "adapters.worker.perform"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def rq_job_id(job: Job) -> str:
    """RQ accepts only ``[A-Za-z0-9_-]`` in ids."""
    return _UNSAFE.sub("_", job.id)


class RqJobQueue:
    """Enqueues onto Redis for ``tocsin worker`` processes; delayed jobs need the worker's scheduler."""

    def __init__(self, redis: Redis, queue_name: str = QUEUE_NAME) -> None:
        self.redis = redis
        self.queue = Queue(queue_name, connection=redis, serializer=JSONSerializer)

    def enqueue(self, job: Job) -> None:
        args = (job.kind, dict(job.args))
        options = {
            "job_id": rq_job_id(job),
            "retry": Retry(max=5, interval=[1, 2, 5, 10, 30]),
            "result_ttl": 300,
            "failure_ttl": 86400,
            "job_timeout": 120,
        }
        if job.run_at is None:
            self.queue.enqueue(PERFORM, *args, **options)
        else:
            self.queue.enqueue_at(job.run_at.astimezone(UTC), PERFORM, *args, **options)
