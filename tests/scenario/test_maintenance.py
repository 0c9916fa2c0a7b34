"""Maintenance (SPEC §4.10): alerts are stored and grouped, nobody is paged, the incident says so."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.harness import harness, seed_team


def _am_body(fixtures_dir: Path, group: str) -> str:
    payload = json.loads((fixtures_dir / "alertmanager" / "am_firing_2alerts_fingerprint.json").read_text())
    payload["groupKey"] = group
    return json.dumps(payload)


def test_maintenance_mode_records_without_paging(sqlite_url: str, fixtures_dir: Path) -> None:
    with harness(sqlite_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        started = h.ok("POST", f"integrations/{integration['id']}/maintenance_start/", {"duration": 3600})
        assert started["maintenance_mode"] is True

        answer = h.post_alert(integration["link"], _am_body(fixtures_dir, "g1")).json()
        assert answer["status"] == "maintenance"
        h.queue.run_due()
        assert h.console.getvalue() == ""
        incident = h.ok("GET", f"incidents/{answer['incident_id']}/")
        assert incident["in_maintenance"] is True
        assert incident["alerts_count"] == 2

        # The window ends by itself after its duration.
        h.clock.advance(3601)
        assert h.ok("GET", f"integrations/{integration['id']}/")["maintenance_mode"] is False
        later = h.post_alert(integration["link"], _am_body(fixtures_dir, "g2")).json()
        assert later["status"] == "created"
        h.queue.run_due()
        assert "page to User 1" in h.console.getvalue()


def test_maintenance_window_and_stop(sqlite_url: str, fixtures_dir: Path) -> None:
    with harness(sqlite_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        window = h.ok(
            "POST",
            "maintenance/",
            {
                "integration_ids": [integration["id"]],
                "start_time": "2026-02-09T14:00:00Z",
                "end_time": "2026-02-09T16:00:00Z",
            },
        )
        assert window["integration_ids"] == [integration["id"]]
        assert (
            h.post_alert(integration["link"], _am_body(fixtures_dir, "w1")).json()["status"] == "maintenance"
        )
        h.ok("DELETE", f"maintenance/{window['id']}/")
        assert h.post_alert(integration["link"], _am_body(fixtures_dir, "w2")).json()["status"] == "created"

        h.ok("POST", f"integrations/{integration['id']}/maintenance_start/")
        h.ok("POST", f"integrations/{integration['id']}/maintenance_stop/")
        assert h.post_alert(integration["link"], _am_body(fixtures_dir, "w3")).json()["status"] == "created"

        bad = h.api(
            "POST",
            "maintenance/",
            {
                "integration_ids": ["nope"],
                "start_time": "2026-02-09T14:00:00Z",
                "end_time": "2026-02-09T16:00:00Z",
            },
        )
        assert bad.status_code == 422
        assert bad.json()["field"] == "integration_ids[0]"
        backwards = h.api(
            "POST",
            "maintenance/",
            {
                "integration_ids": [integration["id"]],
                "start_time": "2026-02-09T16:00:00Z",
                "end_time": "2026-02-09T14:00:00Z",
            },
        )
        assert backwards.status_code == 422
        assert backwards.json()["field"] == "end_time"
