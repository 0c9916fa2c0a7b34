"""The thin path through real processes: `tocsin serve` alone (embedded engine), and `tocsin serve`
with a `tocsin worker` on a real Redis (RQ mode), each on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from engine.db import Delivery
from tests.support.processes import free_port, process_env, running, wait_for, wait_ready

TOKEN = "proc-admin-token"


def _sent_deliveries(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Delivery.user_id, Delivery.status)).all()
    finally:
        engine.dispose()
    return [(r[0], r[1]) for r in rows]


def _setup_and_post(base: str, fixture: bytes) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        assert client.post("/api/v1/teams/", json={"id": "T001", "name": "Platform"}).status_code == 201
        for i in (1, 2):
            user = {"id": f"U00{i}", "name": f"User {i}", "username": f"u{i}", "team_ids": ["T001"]}
            assert client.post("/api/v1/users/", json=user).status_code == 201
        integration = client.post(
            "/api/v1/integrations/", json={"type": "grafana_alerting", "name": "Prod", "team_id": "T001"}
        ).json()
    link = integration["link"]
    assert link.startswith(base)
    answer = httpx.post(link, content=fixture, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "created"
    return answer.json()


@pytest.mark.parametrize("mode", ["embedded", pytest.param("rq", marks=pytest.mark.redis)])
def test_grafana_alert_pages_through_real_processes(
    mode: str, database_url: str, tmp_path: Path, fixtures_dir: Path, request: pytest.FixtureRequest
) -> None:
    fixture = (fixtures_dir / "grafana" / "grafana_unified_docs_firing_2alerts.json").read_bytes()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_PUBLIC_URL": base,
        "TOCSIN_API_TOKEN": TOKEN,
        "TOCSIN_SWEEP_INTERVAL_SECONDS": "1",
    }
    if mode == "rq":
        settings["TOCSIN_REDIS_URL"] = request.getfixturevalue("redis_url")
    env = process_env(**settings)
    server_log = tmp_path / "serve.log"
    with running(["serve", "--port", str(port)], env, server_log) as server:
        wait_ready(base, server, server_log)
        if mode == "embedded":
            _setup_and_post(base, fixture)
            wait_for(lambda: sorted(_sent_deliveries(database_url)) == [("U001", "sent"), ("U002", "sent")])
            log = server_log.read_text(errors="replace")
        else:
            worker_log = tmp_path / "worker.log"
            _setup_and_post(base, fixture)
            # The server wrote the outbox and enqueued: nothing is sent until a worker runs the jobs.
            assert sorted(_sent_deliveries(database_url)) == [("U001", "pending"), ("U002", "pending")]
            with running(["worker"], env, worker_log):
                # Both sends committed (a page printed but not yet recorded would be sent again).
                wait_for(
                    lambda: sorted(_sent_deliveries(database_url)) == [("U001", "sent"), ("U002", "sent")],
                    timeout=30,
                )
            log = worker_log.read_text(errors="replace")
    assert sorted(_sent_deliveries(database_url)) == [("U001", "sent"), ("U002", "sent")]
    assert "page to User 1 via console" in log
    assert "page to User 2 via console" in log
    assert log.count("[tocsin] page to") == 2
