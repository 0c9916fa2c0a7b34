"""Incident list filters by label, and the Grafana OnCall-compatible aliases scripts move over with."""

from __future__ import annotations

import json
from typing import Any

from tests.support.escalation import chain, person
from tests.support.harness import Harness, harness


def _am_alert(h: Harness, link: str, name: str, severity: str, service: str) -> str:
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "severity": severity, "service": service},
        "commonAnnotations": {"summary": f"{name} on {service}"},
        "externalURL": "http://alertmanager.example.com",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "severity": severity, "service": service},
                "annotations": {"summary": f"{name} on {service}"},
                "startsAt": "2026-02-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": name,
            }
        ],
    }
    response = h.post_alert(link, json.dumps(body))
    assert response.status_code == 200, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


def _setup(h: Harness) -> tuple[str, str, str]:
    a = person(h, 1)
    chain(h, [{"type": "notify_persons", "persons": [a]}])
    link = h.ok(
        "POST",
        "integrations/",
        {
            "type": "alertmanager",
            "name": "AM",
            "team_id": "T001",
            "default_route": {"escalation_chain_id": "E001"},
        },
    )["link"]
    return (
        _am_alert(h, link, "HighCPU", "critical", "api"),
        _am_alert(h, link, "DiskFull", "warning", "db"),
        _am_alert(h, link, "HighLatency", "critical", "db"),
    )


def _ids(page: dict[str, Any]) -> set[str]:
    return {item["id"] for item in page["results"]}


def test_label_filters_combine_and_reject_bad_syntax(database_url: str) -> None:
    with harness(database_url) as h:
        cpu, disk, latency = _setup(h)
        assert _ids(h.ok("GET", "incidents/", params={"label": "severity:critical"})) == {cpu, latency}
        both = h.ok("GET", "incidents/", params=[("label", "severity:critical"), ("label", "service:db")])
        assert _ids(both) == {latency}
        assert _ids(h.ok("GET", "incidents/", params={"label": "service:nowhere"})) == set()
        bad = h.api("GET", "incidents/", params={"label": "severity"})
        assert bad.status_code == 400
        assert bad.json()["error"] and "key:value" in bad.json()["detail"]
        assert disk in _ids(h.ok("GET", "incidents/", params={"label": "severity:warning"}))


def test_alert_groups_alias_lists_and_acts_in_oncall_shape(database_url: str) -> None:
    with harness(database_url) as h:
        cpu, disk, latency = _setup(h)
        groups = h.ok("GET", "alert_groups/")
        assert groups["count"] == 3
        assert {g["state"] for g in groups["results"]} == {"new"}
        assert _ids(h.ok("GET", "alert_groups", params={"labels": "service:db"})) == {disk, latency}
        assert _ids(h.ok("GET", "alert_groups/", params={"label": "service:db"})) == {disk, latency}

        acked = h.ok("POST", f"alert_groups/{cpu}/acknowledge")  # OnCall's docs write no trailing slash
        assert acked["state"] == "acknowledged" and acked["acknowledged_by"]
        assert h.ok("GET", f"incidents/{cpu}/")["state"] == "acknowledged"
        timeline = h.ok("GET", f"incidents/{cpu}/timeline/")["results"]
        assert any("acknowledg" in json.dumps(entry).lower() for entry in timeline)

        silenced = h.ok("POST", f"alert_groups/{disk}/silence/", {"delay": -1})
        assert silenced["state"] == "silenced" and silenced["silenced_until"]
        bad = h.api("POST", f"alert_groups/{disk}/silence/", {"delay": 0})
        assert bad.status_code == 400
        assert h.ok("POST", f"alert_groups/{disk}/unsilence/")["state"] == "new"

        assert h.ok("POST", f"alert_groups/{latency}/resolve/")["state"] == "resolved"
        assert _ids(h.ok("GET", "alert_groups/", params={"state": "new"})) == {disk}
        assert _ids(h.ok("GET", "alert_groups/", params={"state": "resolved"})) == {latency}
        missing = h.api("POST", "alert_groups/nope/acknowledge/")
        assert missing.status_code == 404 and missing.json()["error"]


def test_resolution_notes_alias_adds_and_lists_incident_notes(database_url: str) -> None:
    with harness(database_url) as h:
        cpu, disk, _ = _setup(h)
        note = h.ok("POST", "resolution_notes/", {"alert_group_id": cpu, "text": "restarted api-1"})
        assert note["alert_group_id"] == cpu and note["text"] == "restarted api-1"
        h.ok("POST", f"incidents/{disk}/notes/", {"text": "disk grows 1 GB/h"})
        h.ok("POST", f"incidents/{cpu}/resolve/", {"note": "rolled back 2.3.1"})

        listed = h.ok("GET", "resolution_notes/", params={"alert_group_id": cpu})
        assert [n["text"] for n in listed["results"]] == ["restarted api-1", "rolled back 2.3.1"]
        assert [n["is_resolution"] for n in listed["results"]] == [False, True]
        assert h.ok("GET", "resolution_notes/")["count"] == 3
        assert h.ok("GET", f"resolution_notes/{note['id']}")["text"] == "restarted api-1"
        empty = h.api("POST", "resolution_notes/", {"alert_group_id": cpu, "text": ""})
        assert empty.status_code in (400, 422) and empty.json()["error"]
        gone = h.api("POST", "resolution_notes/", {"alert_group_id": "nope", "text": "x"})
        assert gone.status_code == 404
        # Nothing accepted earlier was lost by the bad requests.
        assert h.ok("GET", "resolution_notes/", params={"alert_group_id": cpu})["count"] == 2
