"""Routing (SPEC 4.4) through the real ingest route: regex over labels, Jinja2 over headers, the default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.harness import Harness, harness, seed_team

CRITICAL = ".*severity=critical.*"


def chain(h: Harness, name: str) -> str:
    body = {"name": name, "team_id": "T001", "steps": [{"type": "notify_team_members", "team_id": "T001"}]}
    return h.ok("POST", "escalation_chains/", body)["id"]  # type: ignore[no-any-return]


def routed(h: Harness, integration: dict[str, Any], body: str | bytes, **headers: str) -> dict[str, Any]:
    path = "/" + integration["link"].split("://", 1)[1].split("/", 1)[1]
    data = body.encode() if isinstance(body, str) else body
    response = h.client.post(path, content=data, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 200, response.text
    incident: dict[str, Any] = h.ok("GET", f"incidents/{response.json()['incident_id']}/")
    return incident


def routing_entry(h: Harness, incident: dict[str, Any]) -> str:
    timeline = h.ok("GET", f"incidents/{incident['id']}/timeline/")["results"]
    return next(e["text"] for e in timeline if e["kind"] == "routed")


def with_severity(fixtures_dir: Path, name: str, severity: str) -> str:
    """The fixture with every ``severity`` label set to ``severity`` (and a distinct group key)."""
    payload = json.loads((fixtures_dir / name).read_text())
    for alert in payload["alerts"]:
        alert["labels"]["severity"] = severity
    for key in ("commonLabels", "groupLabels"):
        if "severity" in payload.get(key, {}):
            payload[key]["severity"] = severity
    payload["groupKey"] = f"{payload['groupKey']}/{severity}"
    return json.dumps(payload)


def test_critical_regex_routes_grafana_and_alertmanager_to_their_chain(
    database_url: str, fixtures_dir: Path
) -> None:
    with harness(database_url) as h:
        seed_team(h)
        critical, default = chain(h, "Critical"), chain(h, "Everything else")
        for type_name, fixture in (
            ("grafana_alerting", "grafana/grafana_oncall_integration_example_3alerts.json"),
            ("alertmanager", "alertmanager/am_0.25_live_capture_firing.json"),
        ):
            integration = h.ok(
                "POST",
                "integrations/",
                {"type": type_name, "team_id": "T001", "default_route": {"escalation_chain_id": default}},
            )
            route = h.ok(
                "POST",
                "routes/",
                {
                    "integration_id": integration["id"],
                    "routing_regex": CRITICAL,
                    "escalation_chain_id": critical,
                },
            )
            hot = routed(h, integration, (fixtures_dir / fixture).read_bytes())
            assert hot["escalation_chain_id"] == critical, type_name
            assert hot["route_id"] == route["id"]
            assert routing_entry(h, hot) == f"routed by route {route['id']} ({CRITICAL})"

            cold = routed(h, integration, with_severity(fixtures_dir, fixture, "warning"))
            assert cold["escalation_chain_id"] == default, type_name
            assert cold["route_id"] == integration["default_route"]["id"]
            assert routing_entry(h, cold) == "routed by default route"

        # The chain runs: both team members are paged for each incident.
        h.queue.run_due()
        assert len([p for p in h.runtime.console.sent if p.kind == "page"]) == 2 * 4


def test_header_route_with_a_jinja2_condition(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        production, default = chain(h, "Production"), chain(h, "Default")
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "webhook", "team_id": "T001", "default_route": {"escalation_chain_id": default}},
        )
        h.ok(
            "POST",
            "routes/",
            {
                "integration_id": integration["id"],
                "routing_type": "jinja2",
                "routing_regex": '{{ headers["X-Team"] == "production" }}',
                "escalation_chain_id": production,
            },
        )
        body = {"title": "Checkout errors", "status": "firing"}
        assert (
            routed(h, integration, json.dumps(body), **{"X-Team": "production"})["escalation_chain_id"]
            == production
        )
        body["n"] = 2  # type: ignore[assignment]
        assert (
            routed(h, integration, json.dumps(body), **{"X-Team": "staging"})["escalation_chain_id"]
            == default
        )
        body["n"] = 3  # type: ignore[assignment]
        assert routed(h, integration, json.dumps(body))["escalation_chain_id"] == default


def test_routes_in_order_and_a_broken_route_falls_through(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        first, second, default = chain(h, "First"), chain(h, "Second"), chain(h, "Default")
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "alertmanager", "team_id": "T001", "default_route": {"escalation_chain_id": default}},
        )
        broken = h.ok(
            "POST",
            "routes/",
            {
                "integration_id": integration["id"],
                "routing_type": "jinja2",
                "routing_regex": "{{ payload.alerts[0].labels.severity / 0 }}",
                "escalation_chain_id": first,
            },
        )
        h.ok(
            "POST",
            "routes/",
            {
                "integration_id": integration["id"],
                "routing_regex": "service=api",
                "escalation_chain_id": second,
            },
        )
        h.ok(
            "POST",
            "routes/",
            {"integration_id": integration["id"], "routing_regex": CRITICAL, "escalation_chain_id": first},
        )
        incident = routed(
            h, integration, (fixtures_dir / "alertmanager" / "am_0.25_live_capture_firing.json").read_bytes()
        )
        assert incident["escalation_chain_id"] == second
        timeline = h.ok("GET", f"incidents/{incident['id']}/timeline/")["results"]
        problems = [e["text"] for e in timeline if e["kind"] == "template_error"]
        assert len(problems) == 1
        assert problems[0].startswith(f"route {broken['id']} failed")
