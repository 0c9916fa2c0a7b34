"""A real Alertmanager drives Tocsin end to end: `tocsin serve` and `tocsin worker` on PostgreSQL and
Redis; alerts fired through Alertmanager's own API.

One incident per Alertmanager group; its retries and repeat notifications open no duplicates; its
resolve notification resolves the incident.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.alertmanager import alert, alertmanager, post_alerts
from tests.support.processes import free_port, process_env, running, wait_for, wait_ready

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TOKEN = "am-admin-token"


def test_alertmanager_groups_repeats_and_resolves(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(
        TOCSIN_DATABASE_URL=postgres_url,
        TOCSIN_REDIS_URL=redis_url,
        TOCSIN_PUBLIC_URL=base,
        TOCSIN_API_TOKEN=TOKEN,
        TOCSIN_SWEEP_INTERVAL_SECONDS="1",
    )
    api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    with (
        running(["serve", "--port", str(port)], env, tmp_path / "serve.log") as server,
        running(["worker"], env, tmp_path / "worker.log"),
    ):
        wait_ready(base, server, tmp_path / "serve.log")
        api.post("/teams/", json={"id": "T001", "name": "Platform"}).raise_for_status()
        api.post(
            "/users/", json={"id": "U001", "name": "Ana", "username": "ana", "team_ids": ["T001"]}
        ).raise_for_status()
        link = api.post("/integrations/", json={"type": "alertmanager", "team_id": "T001"}).json()["link"]

        with alertmanager(link, tmp_path) as am:
            post_alerts(am, [alert("HighCPU", "api", "api-1"), alert("HighCPU", "api", "api-2")])
            post_alerts(am, [alert("DiskFull", "db", "db-1", severity="warning")])

            def incidents() -> list[dict]:
                return api.get("/incidents/").json()["results"]

            wait_for(
                lambda: len(incidents()) == 2 and all(i["alerts_count"] >= 1 for i in incidents()), timeout=30
            )
            wait_for(lambda: sorted(i["alerts_count"] for i in incidents()) == [1, 2], timeout=30)
            # Alertmanager repeats each group every 4 s: still two incidents after several repeats.
            time.sleep(10)
            assert len(incidents()) == 2
            serve_log = (tmp_path / "serve.log").read_text(errors="replace")
            assert serve_log.count("POST /integrations/v1/alertmanager/") >= 4

            post_alerts(
                am,
                [
                    alert("HighCPU", "api", "api-1", resolved=True),
                    alert("HighCPU", "api", "api-2", resolved=True),
                ],
            )
            wait_for(
                lambda: (
                    {i["title"].split(" ")[0]: i["state"] for i in incidents()}.get("HighCPU") == "resolved"
                ),
                timeout=30,
            )
            states = {i["title"].split(" ")[0]: i for i in incidents()}
            assert states["HighCPU"]["resolved_by"]
            assert states["DiskFull"]["state"] == "firing"
            assert len(incidents()) == 2
    api.close()
