"""Escalation on the production shape: `tocsin serve` + two `tocsin worker`s, PostgreSQL and Redis.

Measures, from the database's own timestamps:
  1. first page: incident committed → its first delivery sent (a Slack DM through slack-sdk to a
     loopback fake Slack Web API), at about 100 incidents/s;
  2. lateness of a 10 s `wait` step: second page sent − (opened + 10 s);
  3. acknowledge: request latency, and pages sent after an acknowledgement committed (must be 0).

Run: python bench/bench_escalation.py [--incidents 300] [--rate 100]
Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379; uses throw-away databases.
"""

from __future__ import annotations

import argparse
import time

import httpx
from common import pct, production
from sqlalchemy import create_engine, select, text

from engine.db import Delivery, Incident
from tests.fakes.slack_api import FakeSlackApi

TOKEN = "bench-token"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--acks", type=int, default=50)
    args = parser.parse_args()

    # Pages go to Slack DMs on a loopback fake Slack Web API, through the real slack-sdk client.
    with (
        FakeSlackApi() as slack,
        production("tocsin_bench", redis_db=12, workers=2, token=TOKEN, extra_env=slack_env(slack)) as tocsin,
    ):
        base, url = tocsin.base, tocsin.database_url
        for n in (1, 2):
            slack.add_user(f"US{n}", email=f"u{n}@example.com")
        link = _configure(base)
        time.sleep(2)  # workers up
        opened = _fire(link, args.incidents, args.rate)
        _wait_pages(url, 2 * args.incidents, timeout=120 + args.incidents / 10)
        first, lateness = _first_pages(url)
        acks, late_pages = _acks(base, url, link, args.acks)
    logs = tocsin.logs
    dms = sum(1 for m in slack.messages() if m.channel.startswith("D"))
    print(f"incidents: {len(opened)} at {args.rate:.0f}/s; PostgreSQL, Redis, 2 RQ workers; logs in {logs}")
    print(f"fake Slack received {dms} DM pages and {len(slack.requests)} Web API calls in all")
    print(
        f"first page    p50 {pct(first, 0.5) * 1000:7.0f} ms   p99 {pct(first, 0.99) * 1000:7.0f} ms   max {max(first) * 1000:7.0f} ms"
    )
    print(
        f"10 s wait     lateness p50 {pct(lateness, 0.5) * 1000:5.0f} ms   p99 {pct(lateness, 0.99) * 1000:5.0f} ms"
    )
    print(
        f"acknowledge   request p50 {pct(acks, 0.5) * 1000:5.0f} ms   p99 {pct(acks, 0.99) * 1000:5.0f} ms   pages after ack: {late_pages}"
    )


def slack_env(slack: FakeSlackApi) -> dict[str, str]:
    return {
        "TOCSIN_SLACK_BOT_TOKEN": "xoxb-fake-bot-token",
        "TOCSIN_SLACK_SIGNING_SECRET": "bench-signing-secret",
        "TOCSIN_SLACK_API_URL": slack.base_url,
    }


def _configure(base: str) -> str:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as api:
        api.post("/api/v1/teams/", json={"id": "T001", "name": "Bench"}).raise_for_status()
        for n in (1, 2):
            user = {"id": f"U{n}", "name": f"U{n}", "username": f"u{n}", "team_ids": ["T001"]}
            api.post("/api/v1/users/", json={**user, "slack_user_id": f"US{n}"}).raise_for_status()
            channels = [{"type": "slack", "slack_user_id": f"US{n}", "important": False}]
            api.put(
                f"/api/v1/users/U{n}/notification_channels/", json={"notification_channels": channels}
            ).raise_for_status()
        steps = [
            {"type": "notify_persons", "persons": ["U1"]},
            {"type": "wait", "duration": 10},
            {"type": "notify_persons", "persons": ["U2"]},
        ]
        api.post(
            "/api/v1/escalation_chains/", json={"id": "E1", "name": "E", "team_id": "T001", "steps": steps}
        ).raise_for_status()
        integration = api.post(
            "/api/v1/integrations/",
            json={"type": "webhook", "team_id": "T001", "default_route": {"escalation_chain_id": "E1"}},
        ).json()
    return str(integration["link"])


def _fire(link: str, count: int, rate: float) -> list[str]:
    ids: list[str] = []
    interval = 1.0 / rate
    start = time.monotonic()
    with httpx.Client(timeout=30) as client:
        for n in range(count):
            delay = start + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ids.append(client.post(link, json={"title": f"bench {n}", "n": n}).json()["incident_id"])
    return ids


def _wait_pages(url: str, expected: int, timeout: float) -> None:
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            sent = conn.execute(text("SELECT count(*) FROM deliveries WHERE status = 'sent'")).scalar() or 0
        if sent >= expected:
            break
        time.sleep(0.5)
    engine.dispose()


def _first_pages(url: str) -> tuple[list[float], list[float]]:
    engine = create_engine(url)
    first: list[float] = []
    lateness: list[float] = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(Incident.created_at, Delivery.user_id, Delivery.sent_at)
            .join(Delivery, Delivery.incident_id == Incident.id)
            .where(Delivery.sent_at.is_not(None))
        ).all()
    engine.dispose()
    for created, user, sent in rows:
        gap = (sent - created).total_seconds()
        if user == "U1":
            first.append(gap)
        else:
            lateness.append(gap - 10.0)
    return first, lateness


def _acks(base: str, url: str, link: str, count: int) -> tuple[list[float], int]:
    """Open incidents, acknowledge each right after its first page, then look for later pages."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(timeout=30) as client:
        ids = [
            client.post(link, json={"title": f"ack {n}", "ack": n}).json()["incident_id"]
            for n in range(count)
        ]
        time.sleep(1)
        for incident_id in ids:
            started = time.perf_counter()
            client.post(
                f"{base}/api/v1/incidents/{incident_id}/acknowledge/", headers=headers
            ).raise_for_status()
            latencies.append(time.perf_counter() - started)
    time.sleep(13)  # past the 10 s wait: any page the acknowledgement failed to stop would be out
    engine = create_engine(url)
    with engine.connect() as conn:
        late = conn.execute(
            text(
                "SELECT count(*) FROM deliveries d JOIN incidents i ON i.id = d.incident_id "
                "WHERE i.acknowledged_at IS NOT NULL AND d.sent_at > i.acknowledged_at "
                "AND coalesce(d.data->>'kind', 'page') = 'page'"
            )
        ).scalar()
    engine.dispose()
    return latencies, int(late or 0)


if __name__ == "__main__":
    main()
