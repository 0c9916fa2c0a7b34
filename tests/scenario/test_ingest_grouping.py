"""Grouping (SPEC 4.7) through the real ingest route: the sender's key, and configured fields + timeout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.harness import Harness, harness, seed_team


def am_payload(
    fixtures_dir: Path,
    group_key: str,
    alerts: list[tuple[str, str, str]],
    starts: str = "2026-02-09T14:00:00Z",
) -> str:
    """An Alertmanager notification whose alerts are ``(alertname, namespace, pod)``."""
    payload = json.loads((fixtures_dir / "alertmanager" / "am_0.25_live_capture_firing.json").read_text())
    template = payload["alerts"][0]
    payload["alerts"] = [
        {
            **template,
            "labels": {"alertname": name, "namespace": namespace, "pod": pod, "severity": "warning"},
            "fingerprint": f"{name}-{namespace}-{pod}",
            "startsAt": starts,
        }
        for name, namespace, pod in alerts
    ]
    payload["groupKey"] = group_key
    payload["groupLabels"] = {}
    payload["commonLabels"] = {}
    return json.dumps(payload)


def post(h: Harness, link: str, body: str) -> dict[str, Any]:
    response = h.post_alert(link, body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_sender_key_groups_however_long_the_incident_is_open(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        link = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})["link"]
        first = post(h, link, am_payload(fixtures_dir, "g1", [("PodCrash", "prod", "a")]))
        h.clock.advance(10 * 86400)
        later = post(
            h, link, am_payload(fixtures_dir, "g1", [("PodCrash", "prod", "b")], "2026-02-19T14:00:00Z")
        )
        assert (later["status"], later["incident_id"]) == ("grouped", first["incident_id"])
        other = post(h, link, am_payload(fixtures_dir, "g2", [("PodCrash", "prod", "a")]))
        assert other["status"] == "created"


def test_configured_fields_split_and_join_and_time_out(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        link = integration["link"]
        saved = h.ok(
            "PUT",
            f"integrations/{integration['id']}/grouping/",
            {"enabled": True, "fields": ["namespace", "alertname"], "timeout": 300},
        )
        assert saved["grouping"] == {"enabled": True, "fields": ["namespace", "alertname"], "timeout": 300}

        # One notification, two field groups: two incidents, both named in the answer.
        split = post(
            h,
            link,
            am_payload(
                fixtures_dir,
                "g1",
                [("PodCrash", "prod", "a"), ("PodCrash", "prod", "b"), ("PodCrash", "dev", "a")],
            ),
        )
        assert split["status"] == "created"
        assert len(split["incident_ids"]) == 2
        prod, dev = (h.ok("GET", f"incidents/{i}/") for i in split["incident_ids"])
        assert sorted([prod["alerts_count"], dev["alerts_count"]]) == [1, 2]
        prod_id = prod["id"] if prod["alerts_count"] == 2 else dev["id"]

        # Another sender group with equal fields joins within the timeout (measured from the last alert).
        h.clock.advance(200)
        joined = post(
            h,
            link,
            am_payload(fixtures_dir, "other-group", [("PodCrash", "prod", "c")], "2026-02-09T14:03:20Z"),
        )
        assert (joined["status"], joined["incident_id"]) == ("grouped", prod_id)
        h.clock.advance(300)
        exactly = post(
            h, link, am_payload(fixtures_dir, "g3", [("PodCrash", "prod", "d")], "2026-02-09T14:08:20Z")
        )
        assert (exactly["status"], exactly["incident_id"]) == ("grouped", prod_id)
        assert h.ok("GET", f"incidents/{prod_id}/")["alerts_count"] == 4

        # Past the timeout a new incident opens; the old one stays open but takes no more alerts.
        h.clock.advance(301)
        fresh = post(
            h, link, am_payload(fixtures_dir, "g4", [("PodCrash", "prod", "e")], "2026-02-09T14:13:21Z")
        )
        assert fresh["status"] == "created"
        assert fresh["incident_id"] != prod_id
        assert h.ok("GET", f"incidents/{prod_id}/")["state"] == "firing"
        again = post(
            h, link, am_payload(fixtures_dir, "g5", [("PodCrash", "prod", "f")], "2026-02-09T14:13:22Z")
        )
        assert again["incident_id"] == fresh["incident_id"]

        # Different alertname, same namespace: its own incident.
        other = post(h, link, am_payload(fixtures_dir, "g6", [("DiskFull", "prod", "a")]))
        assert other["status"] == "created"
        assert other["incident_id"] not in (prod_id, fresh["incident_id"])


def test_identical_delivery_is_a_duplicate_even_after_the_timeout(
    database_url: str, fixtures_dir: Path
) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        h.ok(
            "PUT",
            f"integrations/{integration['id']}/grouping/",
            {"enabled": True, "fields": ["namespace"], "timeout": 60},
        )
        body = am_payload(fixtures_dir, "g1", [("PodCrash", "prod", "a")])
        first = post(h, integration["link"], body)
        h.clock.advance(3600)
        again = post(h, integration["link"], body)
        assert again == {**first, "status": "duplicate"}
        listed = h.ok("GET", f"incidents/?integration_id={integration['id']}")
        assert listed["count"] == 1


def test_invalid_grouping_is_refused(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        no_fields = h.api(
            "PUT", f"integrations/{integration['id']}/grouping/", {"enabled": True, "fields": []}
        )
        assert no_fields.status_code == 422
        bad_timeout = h.api(
            "PUT", f"integrations/{integration['id']}/grouping/", {"fields": ["namespace"], "timeout": 0}
        )
        assert bad_timeout.status_code == 422
