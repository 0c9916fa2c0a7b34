"""The foundation's thin path: a Grafana alert arrives, an incident is stored, the console pages."""

from __future__ import annotations

from pathlib import Path

from tests.support.harness import harness, seed_team


def test_grafana_alert_opens_incident_and_pages_team(database_url: str, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "grafana" / "grafana_unified_docs_firing_2alerts.json").read_bytes()
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok(
            "POST",
            "integrations/",
            {"type": "grafana_alerting", "name": "Production Alerts", "team_id": "T001"},
        )
        assert integration["link"].startswith("http://127.0.0.1:8080/integrations/v1/grafana_alerting/")

        response = h.post_alert(integration["link"], body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "created"
        incident = h.ok("GET", f"incidents/{answer['incident_id']}/")
        assert incident["number"] == 1
        assert incident["state"] == "firing"
        assert incident["alerts_count"] == 2
        assert incident["team_id"] == "T001"

        # Nothing is paged until the engine runs the job that the commit enqueued.
        assert h.console.getvalue() == ""
        h.queue.run_due()
        lines = h.console.getvalue().splitlines()
        assert len(lines) == 2
        assert any("User 1" in line and "#1" in line for line in lines)
        assert any("User 2" in line for line in lines)

        again = h.post_alert(integration["link"], body)
        assert again.json() == {**answer, "status": "duplicate"}
        h.queue.run_due()
        assert len(h.console.getvalue().splitlines()) == 2


def test_unknown_token_and_wrong_type(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        token = integration["link"].rstrip("/").rsplit("/", 1)[1]
        missing = h.client.post("/integrations/v1/alertmanager/nope/", json={})
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        wrong = h.client.post(f"/integrations/v1/grafana_alerting/{token}/", json={"alerts": []})
        assert wrong.status_code == 400
        assert "alertmanager" in wrong.json()["detail"]
        form = h.client.post(
            f"/integrations/v1/alertmanager/{token}/",
            content=b"a=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 415
        broken = h.client.post(
            f"/integrations/v1/alertmanager/{token}/",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert broken.status_code == 400
        assert broken.json()["error"] == "invalid_json"
