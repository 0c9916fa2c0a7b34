"""The escalation engine on real RQ: `tocsin serve` + `tocsin worker` processes, PostgreSQL and Redis.

Waits are seconds long and real. A worker killed with SIGKILL in the middle of a tick, and a Redis that
loses every job, both still end with each page sent exactly once: the sweeper re-derives lost wake-ups
from the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, select, text

from engine.db import Delivery, Incident
from tests.support.processes import (
    ROOT,
    free_port,
    process_env,
    running,
    tocsin_command,
    wait_for,
    wait_ready,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TOKEN = "rq-admin-token"


def _pages(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                (r[0], r[1])
                for r in conn.execute(select(Delivery.user_id, Delivery.status).order_by(Delivery.user_id))
            ]
    finally:
        engine.dispose()


@contextmanager
def stack(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(
        TOCSIN_DATABASE_URL=postgres_url,
        TOCSIN_REDIS_URL=redis_url,
        TOCSIN_PUBLIC_URL=base,
        TOCSIN_API_TOKEN=TOKEN,
        TOCSIN_SWEEP_INTERVAL_SECONDS="1",
    )
    log = tmp_path / "serve.log"
    with running(["serve", "--port", str(port)], env, log) as server:
        wait_ready(base, server, log)
        yield base, env


def _setup(base: str, wait_seconds: int) -> str:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as api:
        assert api.post("/api/v1/teams/", json={"id": "T001", "name": "Platform"}).status_code == 201
        for n in (1, 2):
            user = {"id": f"U00{n}", "name": f"User {n}", "username": f"u{n}", "team_ids": ["T001"]}
            assert api.post("/api/v1/users/", json=user).status_code == 201
        steps = [
            {"type": "notify_persons", "persons": ["U001"]},
            {"type": "wait", "duration": wait_seconds},
            {"type": "notify_persons", "persons": ["U002"]},
        ]
        assert (
            api.post(
                "/api/v1/escalation_chains/",
                json={"id": "E001", "name": "E", "team_id": "T001", "steps": steps},
            ).status_code
            == 201
        )
        integration = api.post(
            "/api/v1/integrations/",
            json={"type": "webhook", "team_id": "T001", "default_route": {"escalation_chain_id": "E001"}},
        ).json()
    fired = httpx.post(integration["link"], json={"title": "disk full"}, timeout=10)
    assert fired.status_code == 200, fired.text
    return str(fired.json()["incident_id"])


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in its own process group, so SIGKILL takes its work horse down with it."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*tocsin_command(), "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def test_chain_runs_in_real_time(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    with stack(postgres_url, redis_url, tmp_path) as (base, env), worker(env, tmp_path / "worker.log"):
        started = time.monotonic()
        _setup(base, wait_seconds=2)
        wait_for(lambda: ("U002", "sent") in _pages(postgres_url), timeout=30)
        elapsed = time.monotonic() - started
        assert elapsed >= 2
        time.sleep(1.5)
        assert _pages(postgres_url) == [("U001", "sent"), ("U002", "sent")]


def test_sigkilled_worker_mid_tick_still_pages_once(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    with stack(postgres_url, redis_url, tmp_path) as (base, env):
        engine = create_engine(postgres_url)
        log = tmp_path / "worker.log"
        with worker(env, log) as first:
            incident_id = _setup(base, wait_seconds=2)
            wait_for(lambda: ("U001", "sent") in _pages(postgres_url), timeout=30)
            with engine.connect() as conn, conn.begin():
                # Hold the incident's row lock so the tick at +2 s blocks inside its job...
                conn.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update())
                wait_for(lambda: _blocked_on_lock(engine), timeout=30)
                # ...and kill the worker and its work horse there, mid-job.
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
        engine.dispose()
        assert _pages(postgres_url) == [("U001", "sent")]
        with worker(env, log):
            wait_for(lambda: ("U002", "sent") in _pages(postgres_url), timeout=60)
            time.sleep(3)
        assert _pages(postgres_url) == [("U001", "sent"), ("U002", "sent")]


def _blocked_on_lock(engine) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar()
    return bool(waiting)


def test_redis_flush_loses_no_page(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    with stack(postgres_url, redis_url, tmp_path) as (base, env), worker(env, tmp_path / "worker.log"):
        _setup(base, wait_seconds=4)
        wait_for(lambda: ("U001", "sent") in _pages(postgres_url), timeout=30)
        redis.Redis.from_url(redis_url).flushdb()  # the +4 s wake-up is gone
        wait_for(lambda: ("U002", "sent") in _pages(postgres_url), timeout=60)
        time.sleep(2)
        assert _pages(postgres_url) == [("U001", "sent"), ("U002", "sent")]
