"""``/metrics`` in Prometheus text format: database-derived families plus this process's counters."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.http.errors import ApiError
from adapters.runtime import Runtime
from engine.services import metrics

RESPONSE_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, float("inf"))


class DatabaseCollector:
    """Collected at scrape time from the database, so several API processes agree."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        snap = metrics.read(self.runtime.deps)
        incidents = CounterMetricFamily(
            "tocsin_incidents",
            "Incidents by current state, team and integration",
            labels=["state", "team", "integration"],
        )
        for state, team, integration, count in snap.incidents:
            incidents.add_metric([state, team, integration], count)
        yield incidents
        notifications = CounterMetricFamily(
            "tocsin_notifications",
            "Notifications by channel and delivery status",
            labels=["channel", "status"],
        )
        for channel, status, count in snap.deliveries:
            notifications.add_metric([channel, status], count)
        yield notifications
        buckets = []
        for bound in RESPONSE_BUCKETS:
            label = "+Inf" if bound == float("inf") else str(bound)
            buckets.append((label, sum(1 for s in snap.ack_seconds if s <= bound)))
        yield HistogramMetricFamily(
            "tocsin_incident_response_seconds",
            "Time from an incident opening to its acknowledgement (incidents of the last 30 days)",
            buckets=buckets,
            sum_value=sum(snap.ack_seconds),
        )
        yield GaugeMetricFamily(
            "tocsin_escalation_lateness_seconds",
            "How late the most overdue escalation wake-up is (0 when none is overdue)",
            value=snap.overdue_seconds,
        )
        yield GaugeMetricFamily("tocsin_queue_depth", "Jobs waiting in the queue", value=self._queue_depth())

    def _queue_depth(self) -> float:
        runtime = self.runtime
        if runtime.redis is not None:
            from rq import Queue

            from adapters.rq.queue import QUEUE_NAME

            return float(Queue(QUEUE_NAME, connection=runtime.redis).count)
        if runtime.embedded is not None:
            return float(runtime.embedded.depth())
        return 0.0


def build_router(runtime: Runtime) -> tuple[APIRouter, Counter]:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(runtime))  # type: ignore[arg-type]
    ingest_requests = Counter(
        "tocsin_ingest_requests",
        "Ingest requests handled by this process, by integration type and outcome",
        ["type", "outcome"],
        registry=registry,
    )
    router = APIRouter(tags=["health"])

    @router.get("/metrics")
    def metrics_endpoint(request: Request) -> Response:
        secret = runtime.settings.metrics_token
        if secret:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given, secret):
                raise ApiError(401, "metrics need 'Authorization: Bearer <TOCSIN_METRICS_TOKEN>'")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router, ingest_requests
