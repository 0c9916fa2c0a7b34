"""Heartbeats in virtual time: check-ins, the sweeper's missed-heartbeat incident, and its resolution."""

from __future__ import annotations

from typing import Any

from engine.jobs import sweep
from tests.support.harness import Harness, harness, seed_team


def heartbeat_path(integration: dict[str, Any]) -> str:
    return "/" + integration["heartbeat_link"].split("://", 1)[1].split("/", 1)[1]


def sweep_and_run(h: Harness) -> None:
    sweep(h.runtime.deps)
    h.queue.run_due()


def open_incidents(h: Harness, integration: dict[str, Any]) -> list[dict[str, Any]]:
    listed = h.ok("GET", f"incidents/?integration_id={integration['id']}")["results"]
    return [i for i in listed if i["state"] != "resolved"]


def test_missed_heartbeat_opens_one_incident_and_the_next_check_in_resolves_it(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "alertmanager", "name": "Prometheus", "team_id": "T001", "heartbeat_interval": 60},
        )
        path = heartbeat_path(integration)
        assert integration["heartbeat_link"].endswith("/heartbeat/")

        # Armed by the first check-in: before it there is nothing to miss.
        h.clock.advance(3600)
        sweep_and_run(h)
        assert open_incidents(h, integration) == []

        checked = h.client.get(path)
        assert checked.status_code == 200
        assert checked.json() == {
            "status": "ok",
            "last_heartbeat_at": "2026-02-09T15:00:00Z",
            "resolved_incident_id": None,
        }
        h.clock.advance(60)
        sweep_and_run(h)  # exactly the interval: not late yet
        assert open_incidents(h, integration) == []
        assert h.client.post(path, content=b"anything").status_code == 200

        h.clock.advance(61)
        sweep_and_run(h)
        [incident] = open_incidents(h, integration)
        assert incident["title"] == "No heartbeat from Prometheus for 61 s"
        assert "expected every 60 s" in incident["message"]
        assert incident["team_id"] == "T001"
        pages = [p for p in h.runtime.console.sent if p.kind == "page"]
        assert len(pages) == 2
        assert all("No heartbeat from Prometheus" in p.title for p in pages)

        # Later sweeps (any number of workers run one) find it open and add nothing.
        for _ in range(3):
            h.clock.advance(15)
            sweep_and_run(h)
        assert [i["id"] for i in open_incidents(h, integration)] == [incident["id"]]
        assert h.ok("GET", f"incidents/{incident['id']}/")["alerts_count"] == 1
        assert len([p for p in h.runtime.console.sent if p.kind == "page"]) == 2

        back = h.client.post(path).json()
        assert back["resolved_incident_id"] == incident["id"]
        resolved = h.ok("GET", f"incidents/{incident['id']}/")
        assert (resolved["state"], resolved["resolved_by"]) == ("resolved", "Prometheus")
        h.queue.run_due()

        # A second outage is a second incident.
        h.clock.advance(120)
        sweep_and_run(h)
        [second] = open_incidents(h, integration)
        assert second["id"] != incident["id"]
        assert second["title"] == "No heartbeat from Prometheus for 120 s"


def test_resolving_by_hand_does_not_reopen_the_same_outage(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "webhook", "name": "Cron", "team_id": "T001", "heartbeat_interval": 300},
        )
        h.client.get(heartbeat_path(integration))
        h.clock.advance(301)
        sweep_and_run(h)
        [incident] = open_incidents(h, integration)
        h.ok("POST", f"incidents/{incident['id']}/resolve/")
        h.clock.advance(600)
        sweep_and_run(h)
        assert open_incidents(h, integration) == []
        assert h.ok("GET", f"incidents/?integration_id={integration['id']}")["count"] == 1
        # The next check-in finds nothing open and just records the time.
        assert h.client.get(heartbeat_path(integration)).json()["resolved_incident_id"] is None


def test_heartbeat_incident_follows_routes_and_maintenance(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        chain = h.ok(
            "POST",
            "escalation_chains/",
            {
                "name": "Heartbeats",
                "team_id": "T001",
                "steps": [{"type": "notify_team_members", "team_id": "T001"}],
            },
        )
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "grafana_alerting", "name": "Grafana", "team_id": "T001", "heartbeat_interval": 60},
        )
        h.ok(
            "POST",
            "routes/",
            {
                "integration_id": integration["id"],
                "routing_regex": "alertname=Heartbeat",
                "escalation_chain_id": chain["id"],
            },
        )
        # Grouping fields and templates are for the sender's alerts; Tocsin's own keeps its key and title.
        h.ok("PUT", f"integrations/{integration['id']}/grouping/", {"fields": ["namespace"]})
        h.ok(
            "PATCH",
            f"integrations/{integration['id']}/",
            {"templates": {"title": "{{ payload.receiver }} says"}},
        )
        h.client.get(heartbeat_path(integration))
        h.ok("POST", f"integrations/{integration['id']}/maintenance_start/", {"duration": 600})
        h.clock.advance(90)
        sweep_and_run(h)
        [incident] = open_incidents(h, integration)
        assert incident["title"] == "No heartbeat from Grafana for 90 s"
        assert incident["escalation_chain_id"] == chain["id"]
        assert incident["in_maintenance"] is True
        assert incident["template_error"] is None
        assert h.runtime.console.sent == []
        # Tocsin's own alert is no example of what the sender posts.
        assert h.ok(
            "PATCH", f"integrations/{integration['id']}/", {"templates": {"title": "{{ payload.x }}"}}
        )


def test_heartbeat_refusals(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        token = integration["link"].rstrip("/").rsplit("/", 1)[1]
        assert h.client.get("/integrations/v1/alertmanager/nope/heartbeat/").status_code == 404
        assert h.client.get(f"/integrations/v1/nosuchtype/{token}/heartbeat/").status_code == 404
        wrong = h.client.get(f"/integrations/v1/webhook/{token}/heartbeat/")
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "wrong_integration_type"
        # A check-in on an integration without an interval is recorded and watched by nobody.
        assert h.client.get(heartbeat_path(integration)).status_code == 200
        h.clock.advance(86400)
        sweep_and_run(h)
        assert open_incidents(h, integration) == []
