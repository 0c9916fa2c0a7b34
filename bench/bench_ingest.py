"""Ingest latency on the production shape: `tocsin serve` on PostgreSQL and Redis (no worker needed:
ingest answers once the alert is committed).

Measures client-side request latency through the real route for:
  1. a typical ~2 KB Alertmanager notification (a new group each time: a new incident per request);
  2. a ~1 MiB Alertmanager notification (a group of ~1,450 alerts, all stored);
  3. a ~1 MiB deeply nested plain webhook body (refused or accepted, never slow);
  4. a repeated delivery of the same payload (the duplicate check).

Run: python bench/bench_ingest.py [--small 500] [--large 30]
Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379; uses a throw-away database.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx
from common import pct, production

TOKEN = "bench-token"


def am_payload(group: int, alerts: int) -> dict[str, Any]:
    items = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"HighCPU{group}",
                "instance": f"api-{n}.prod.example.com:9100",
                "job": "node",
                "severity": "critical",
                "service": "api",
            },
            "annotations": {
                "summary": f"CPU above 90% on api-{n} for 5 minutes",
                "description": "Load has been above the threshold; check recent deploys. " * 4,
                "runbook_url": "https://runbooks.example.com/high-cpu",
            },
            "startsAt": "2026-12-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"http://prometheus:9090/graph?g0.expr=cpu%3E0.9&n={n}",
            "fingerprint": f"{group:08x}{n:08x}",
        }
        for n in range(alerts)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HighCPU{group}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": f"HighCPU{group}"},
        "commonLabels": {"alertname": f"HighCPU{group}", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": items,
    }


def nested(n: int, depth: int, width: int) -> bytes:
    """A JSON body ``depth`` objects deep (written by hand: json.dumps would hit the recursion limit)."""
    pad = "y" * width
    opening = "".join(f'{{"level":{level},"pad":"{pad}","child":' for level in range(depth))
    return f'{{"n":{n},"body":{opening}"x"{"}" * depth}}}'.encode()


def timed(client: httpx.Client, url: str, body: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post(url, content=body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - started, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=30)
    args = parser.parse_args()

    results: dict[str, tuple[list[float], dict[int, int], int]] = {}
    with production("tocsin_bench_ingest", redis_db=11, workers=0, token=TOKEN) as tocsin:
        base = tocsin.base
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as api:
            api.post("/api/v1/teams/", json={"id": "T001", "name": "Bench"}).raise_for_status()
            am = api.post("/api/v1/integrations/", json={"type": "alertmanager", "team_id": "T001"})
            hook = api.post("/api/v1/integrations/", json={"type": "webhook", "team_id": "T001"})
            am_link, hook_link = am.json()["link"], hook.json()["link"]
        cases: dict[str, list[tuple[str, bytes]]] = {
            "2 KB Alertmanager, new group": [
                (am_link, json.dumps(am_payload(n, 3)).encode()) for n in range(args.small)
            ],
            "1 MiB Alertmanager, ~1,450 alerts": [
                (am_link, json.dumps(am_payload(100_000 + n, 1_450)).encode()) for n in range(args.large)
            ],
            "1 MiB webhook nested 1,000 deep": [
                (hook_link, nested(n, 1_000, 1_000)) for n in range(args.large)
            ],
        }
        repeat = json.dumps(am_payload(999_999, 3)).encode()
        cases["2 KB repeated delivery (duplicate)"] = [(am_link, repeat)] * args.small
        with httpx.Client(timeout=60) as client:
            timed(client, am_link, json.dumps(am_payload(-1, 1)).encode())  # warm up
            for name, requests in cases.items():
                latencies: list[float] = []
                statuses: dict[int, int] = {}
                for link, body in requests:
                    took, status = timed(client, link, body)
                    latencies.append(took)
                    statuses[status] = statuses.get(status, 0) + 1
                results[name] = (latencies, statuses, len(requests[0][1]))
    logs = tocsin.logs
    print(f"tocsin serve on PostgreSQL + Redis; sequential requests over loopback; logs in {logs}")
    for name, (latencies, statuses, size) in results.items():
        print(
            f"{name:38s} {size / 1024:8.0f} KiB  p50 {pct(latencies, 0.5) * 1000:7.1f} ms  "
            f"p99 {pct(latencies, 0.99) * 1000:7.1f} ms  max {max(latencies) * 1000:7.1f} ms  "
            f"statuses {statuses}"
        )


if __name__ == "__main__":
    main()
