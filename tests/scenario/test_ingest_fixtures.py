"""Every recorded sender payload through the real ingest route: which incidents it opens, grouped how.

The fixtures are real bodies from Grafana, Alertmanager and PagerDuty (see the fixtures' README); each
test posts the exact bytes, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Harness, harness, seed_team

TYPES = {"grafana": "grafana_alerting", "grafana_legacy": "grafana", "alertmanager": "alertmanager"}

# fixture -> (status, title, alerts, resolved alerts); None title: nothing is open to resolve.
EXPECTED: dict[str, tuple[str, str | None, int, int]] = {
    "grafana/grafana_oncall_integration_example_3alerts.json": (
        "created",
        "InstanceDown (job=node, severity=critical)",
        3,
        0,
    ),
    "grafana/grafana_unified_docs_firing_2alerts.json": (
        "created",
        "High memory usage, High CPU usage (team=blue)",
        2,
        0,
    ),
    "grafana/grafana_unified_firing_3alerts_valuestring.json": (
        "created",
        "Test alert, Second webhook test (test=true)",
        3,
        0,
    ),
    "grafana/grafana_unified_integration_test_single_alert.json": (
        "created",
        "WebhookAlert (grafana_folder=default)",
        1,
        0,
    ),
    "grafana/grafana_unified_mixed_firing_and_resolved.json": (
        "created",
        "Test alert, Second webhook test (test=true)",
        3,
        2,
    ),
    "grafana/grafana_unified_resolved.json": ("resolved", None, 0, 0),
    "grafana_legacy/grafana_legacy_alerting_evalmatch_tags.json": ("created", "Zeta CPU alert", 1, 0),
    "grafana_legacy/grafana_legacy_alerting_oncall_docs.json": ("created", "Panel Title alert", 1, 0),
    "grafana_legacy/grafana_legacy_ok.json": ("resolved", None, 0, 0),
    "alertmanager/am_0.25_live_capture_firing.json": ("created", "HighLatency (service=api)", 2, 0),
    "alertmanager/am_0.25_live_capture_resolved.json": ("resolved", None, 0, 0),
    "alertmanager/am_firing_2alerts_fingerprint.json": (
        "created",
        "High CPU Temperature (severity=critical)",
        2,
        0,
    ),
    "alertmanager/am_firing_single_compact_future_endsat.json": ("created", "Fire (severity=critical)", 1, 0),
    "alertmanager/am_mixed_firing_and_resolved.json": ("created", "ServerStop (env=prod)", 2, 1),
    "alertmanager/am_resolved_single_compact.json": ("resolved", None, 0, 0),
}


def new_integration(h: Harness, type_name: str) -> dict[str, Any]:
    return h.ok("POST", "integrations/", {"type": type_name, "name": type_name, "team_id": "T001"})  # type: ignore[no-any-return]


def incidents_of(h: Harness, integration: dict[str, Any]) -> list[dict[str, Any]]:
    return h.ok("GET", f"incidents/?integration_id={integration['id']}")["results"]  # type: ignore[no-any-return]


def pages(h: Harness) -> int:
    return sum(1 for page in h.runtime.console.sent if page.kind == "page")


def post(h: Harness, integration: dict[str, Any], body: bytes | str) -> dict[str, Any]:
    response = h.post_alert(integration["link"], body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_every_fixture_opens_the_expected_incident(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        for name, (status, title, alerts, resolved) in EXPECTED.items():
            integration = new_integration(h, TYPES[name.split("/")[0]])
            answer = post(h, integration, (fixtures_dir / name).read_bytes())
            assert answer["status"] == status, name
            opened = incidents_of(h, integration)
            if title is None:
                assert answer["incident_id"] is None, name
                assert opened == [], name
                continue
            assert [i["id"] for i in opened] == [answer["incident_id"]], name
            incident = opened[0]
            assert (incident["title"], incident["state"]) == (title, "firing"), name
            assert (incident["alerts_count"], incident["alerts_resolved"]) == (alerts, resolved), name
            assert incident["template_error"] is None, name
            assert answer["alert_id"] is not None, name


def test_pagerduty_fixtures_answer_as_pagerduty(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = new_integration(h, "pagerduty")
        for name in ("pd_events_v2_acknowledge.json", "pd_events_v2_resolve.json"):
            # Their dedup_key names no open incident: PagerDuty drops such events, and so do we.
            response = h.post_alert(integration["link"], (fixtures_dir / "pagerduty" / name).read_bytes())
            assert response.status_code == 202, response.text
            assert response.json()["incident_id"] is None
        response = h.post_alert(
            integration["link"], (fixtures_dir / "pagerduty" / "pd_events_v2_trigger.json").read_bytes()
        )
        assert response.status_code == 202
        answer = response.json()
        assert answer["status"] == "success"
        assert answer["dedup_key"] == "samplekeyhere"
        [incident] = incidents_of(h, integration)
        assert incident["id"] == answer["incident_id"]
        assert incident["title"] == "Example alert on host1.example.com"
        assert incident["labels"]["severity"] == "info"
        assert incident["source_link"] == "https://monitoring.example.com"


def test_one_group_of_three_alerts_is_one_incident_and_repeats_are_duplicates(
    database_url: str, fixtures_dir: Path
) -> None:
    payload = json.loads((fixtures_dir / "alertmanager" / "am_0.25_live_capture_firing.json").read_text())
    third = copy.deepcopy(payload["alerts"][1])
    third["labels"]["instance"] = "api-3"
    third["fingerprint"] = "9f1073a34507721f"
    payload["alerts"].append(third)
    body = json.dumps(payload)
    with harness(database_url) as h:
        seed_team(h)
        integration = new_integration(h, "alertmanager")
        first = post(h, integration, body)
        assert first["status"] == "created"
        h.queue.run_due()
        paged = pages(h)
        assert paged == 2  # both team members, once

        [incident] = incidents_of(h, integration)
        assert incident["alerts_count"] == 3
        assert incident["title"] == "HighLatency (service=api)"

        # Alertmanager retries after a timeout and HA pairs send the same body twice.
        again = post(h, integration, body)
        assert again == {**first, "status": "duplicate"}
        # Same bytes re-serialised with another key order are the same delivery.
        reordered = post(h, integration, json.dumps(dict(reversed(list(payload.items())))))
        assert reordered["status"] == "duplicate"
        h.queue.run_due()
        assert pages(h) == paged
        assert len(incidents_of(h, integration)) == 1

        # A repeat notification (new body, same group) joins the open incident: no second page.
        payload["alerts"][0]["annotations"]["summary"] = "p99 latency above 3s"
        repeat = post(h, integration, json.dumps(payload))
        assert repeat["status"] == "grouped"
        assert repeat["incident_id"] == first["incident_id"]
        h.queue.run_due()
        assert pages(h) == paged
        [incident] = incidents_of(h, integration)
        assert incident["alerts_count"] == 3


@pytest.mark.parametrize(
    ("type_name", "steps"),
    [
        (
            "grafana_alerting",
            [
                ("grafana/grafana_unified_firing_3alerts_valuestring.json", "created", "firing", (3, 0)),
                # 2 of 3 resolved and the group still says firing: the incident stays open.
                ("grafana/grafana_unified_mixed_firing_and_resolved.json", "grouped", "firing", (3, 2)),
                # A fourth alert (another fingerprint) arrives resolved, and the group's status says
                # resolved: the sender's word closes the incident although one alert never said so.
                ("grafana/grafana_unified_resolved.json", "resolved", "resolved", (4, 3)),
            ],
        ),
        (
            "alertmanager",
            [
                ("alertmanager/am_0.25_live_capture_firing.json", "created", "firing", (2, 0)),
                ("alertmanager/am_0.25_live_capture_resolved.json", "resolved", "resolved", (2, 2)),
            ],
        ),
        (
            "alertmanager",
            [
                ("alertmanager/am_firing_single_compact_future_endsat.json", "created", "firing", (1, 0)),
                ("alertmanager/am_resolved_single_compact.json", "resolved", "resolved", (1, 1)),
            ],
        ),
        (
            "grafana",
            [
                ("grafana_legacy/grafana_legacy_alerting_evalmatch_tags.json", "created", "firing", (1, 0)),
                ("grafana_legacy/grafana_legacy_ok.json", "resolved", "resolved", (1, 1)),
            ],
        ),
    ],
)
def test_sender_sequences_resolve_once(
    database_url: str, fixtures_dir: Path, type_name: str, steps: list[tuple[str, str, str, tuple[int, int]]]
) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = new_integration(h, type_name)
        incident_id = None
        for name, status, state, counts in steps:
            answer = post(h, integration, (fixtures_dir / name).read_bytes())
            assert answer["status"] == status, name
            incident_id = incident_id or answer["incident_id"]
            assert answer["incident_id"] == incident_id, name
            h.queue.run_due()
            incident = h.ok("GET", f"incidents/{incident_id}/")
            assert incident["state"] == state, name
            assert (incident["alerts_count"], incident["alerts_resolved"]) == counts, name
        assert incident["resolved_by"] == type_name

        # The sender says "resolved" again (a retry with a new timestamp, or its HA twin): nothing
        # is open under that key any more, so nothing is resolved twice and nobody is told twice.
        told = len(h.runtime.console.sent)
        last = json.loads((fixtures_dir / steps[-1][0]).read_text())
        last["resent"] = True
        again = post(h, integration, json.dumps(last))
        assert (again["status"], again["incident_id"]) == ("resolved", None)
        h.queue.run_due()
        assert len(h.runtime.console.sent) == told
        timeline = h.ok("GET", f"incidents/{incident_id}/timeline/")["results"]
        assert [e["kind"] for e in timeline].count("resolved") == 1
        assert len(incidents_of(h, integration)) == 1


def test_mixed_alertmanager_group_resolves_when_its_last_alert_does(
    database_url: str, fixtures_dir: Path
) -> None:
    payload = json.loads((fixtures_dir / "alertmanager" / "am_mixed_firing_and_resolved.json").read_text())
    with harness(database_url) as h:
        seed_team(h)
        integration = new_integration(h, "alertmanager")
        opened = post(h, integration, json.dumps(payload))
        assert opened["status"] == "created"
        incident = h.ok("GET", f"incidents/{opened['incident_id']}/")
        assert (incident["state"], incident["alerts_count"], incident["alerts_resolved"]) == ("firing", 2, 1)

        # Every alert resolved while the group's own status still says firing (as a sender may put
        # it): the last firing alert resolving closes the incident.
        for alert in payload["alerts"]:
            alert["status"] = "resolved"
        closed = post(h, integration, json.dumps(payload))
        assert (closed["status"], closed["incident_id"]) == ("resolved", opened["incident_id"])
        incident = h.ok("GET", f"incidents/{opened['incident_id']}/")
        assert (incident["state"], incident["alerts_resolved"]) == ("resolved", 2)
