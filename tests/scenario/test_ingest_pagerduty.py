"""PagerDuty Events API v2: trigger, acknowledge and resolve, at the integration URL and ``/v2/enqueue``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.harness import Harness, harness, seed_team

Send = Callable[[Harness, dict[str, Any], dict[str, Any]], httpx.Response]


def via_integration_url(h: Harness, integration: dict[str, Any], event: dict[str, Any]) -> httpx.Response:
    return h.post_alert(integration["link"], json.dumps(event))  # type: ignore[no-any-return]


def via_enqueue(h: Harness, integration: dict[str, Any], event: dict[str, Any]) -> httpx.Response:
    token = integration["link"].rstrip("/").rsplit("/", 1)[1]
    return h.client.post("/v2/enqueue", json={**event, "routing_key": token})


def event(fixtures_dir: Path, action: str, dedup_key: str) -> dict[str, Any]:
    name = {"trigger": "pd_events_v2_trigger.json", "acknowledge": "pd_events_v2_acknowledge.json"}.get(
        action, "pd_events_v2_resolve.json"
    )
    body: dict[str, Any] = json.loads((fixtures_dir / "pagerduty" / name).read_text())
    body["dedup_key"] = dedup_key
    return body


@pytest.mark.parametrize("send", [via_integration_url, via_enqueue], ids=["integration_url", "v2_enqueue"])
def test_trigger_acknowledge_resolve(database_url: str, fixtures_dir: Path, send: Send) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "pagerduty", "name": "PD", "team_id": "T001"})

        triggered = send(h, integration, event(fixtures_dir, "trigger", "srv01/HTTP"))
        assert triggered.status_code == 202, triggered.text
        answer = triggered.json()
        assert (answer["status"], answer["message"], answer["dedup_key"]) == (
            "success",
            "Event processed",
            "srv01/HTTP",
        )
        incident_id = answer["incident_id"]
        h.queue.run_due()
        assert h.ok("GET", f"incidents/{incident_id}/")["state"] == "firing"

        acked = send(h, integration, event(fixtures_dir, "acknowledge", "srv01/HTTP"))
        assert acked.status_code == 202
        assert acked.json()["incident_id"] == incident_id
        incident = h.ok("GET", f"incidents/{incident_id}/")
        assert (incident["state"], incident["acknowledged_by"]) == ("acknowledged", "PD")
        # The acknowledge carries no alert content; the alert keeps the trigger's.
        assert incident["last_alert"]["title"] == "Example alert on host1.example.com"

        resolved = send(h, integration, event(fixtures_dir, "resolve", "srv01/HTTP"))
        assert resolved.status_code == 202
        assert resolved.json()["incident_id"] == incident_id
        incident = h.ok("GET", f"incidents/{incident_id}/")
        assert (incident["state"], incident["resolved_by"]) == ("resolved", "PD")

        # A trigger after the resolve (new details) opens a new incident, as PagerDuty does.
        again = event(fixtures_dir, "trigger", "srv01/HTTP")
        again["payload"]["timestamp"] = "2015-07-17T09:00:00.000+0000"
        reopened = send(h, integration, again)
        assert reopened.json()["incident_id"] not in (None, incident_id)


def test_trigger_without_dedup_key_gets_one_to_resolve_with(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "pagerduty", "team_id": "T001"})
        trigger = event(fixtures_dir, "trigger", "")
        del trigger["dedup_key"]
        answer = via_enqueue(h, integration, trigger).json()
        assert answer["dedup_key"]
        resolved = via_enqueue(h, integration, event(fixtures_dir, "resolve", answer["dedup_key"]))
        assert resolved.json()["incident_id"] == answer["incident_id"]
        assert h.ok("GET", f"incidents/{answer['incident_id']}/")["state"] == "resolved"


def test_enqueue_refusals_speak_pagerduty(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        alertmanager = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        trigger = event(fixtures_dir, "trigger", "k1")
        for routing_key in ("no-such-key", alertmanager["link"].rstrip("/").rsplit("/", 1)[1]):
            response = h.client.post("/v2/enqueue", json={**trigger, "routing_key": routing_key})
            assert response.status_code == 400
            assert response.json() == {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["Invalid routing key"],
            }
        missing = h.client.post("/v2/enqueue", json={k: v for k, v in trigger.items() if k != "routing_key"})
        assert missing.status_code == 400
        assert missing.json()["errors"] == ["'routing_key' is missing"]
        pd = h.ok("POST", "integrations/", {"type": "pagerduty", "team_id": "T001"})
        bad_action = via_enqueue(h, pd, {**trigger, "event_action": "explode"})
        assert bad_action.status_code == 400
        assert "event_action" in bad_action.json()["errors"][0]
        assert h.ok("GET", "incidents/")["count"] == 0
