"""Integration templates: checked when saved, never losing an alert when they fail at ingest; test alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.config.apply import ApplyError, apply_text
from engine.db import Incident
from tests.support.harness import Harness, harness, seed_team

AM_FIRING = "alertmanager/am_0.25_live_capture_firing.json"
TYPES = ("grafana_alerting", "alertmanager", "grafana", "webhook", "formatted_webhook", "pagerduty")


def post(h: Harness, link: str, body: str | bytes) -> dict[str, Any]:
    response = h.post_alert(link, body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def kinds(h: Harness, incident_id: str, kind: str) -> list[str]:
    timeline = h.ok("GET", f"incidents/{incident_id}/timeline/")["results"]
    return [e["text"] for e in timeline if e["kind"] == kind]


def test_failing_templates_fall_back_to_the_defaults(database_url: str, fixtures_dir: Path) -> None:
    payload = json.loads((fixtures_dir / AM_FIRING).read_text())
    with harness(database_url) as h:
        seed_team(h)
        # No payload has arrived yet, so only the syntax is checked on save; these fail at ingest.
        integration = h.ok(
            "POST",
            "integrations/",
            {
                "type": "alertmanager",
                "team_id": "T001",
                "templates": {
                    "title": "{{ payload.commonLabels.alertname ~ (1 / 0) }}",
                    "message": "{{ payload.alerts | map(attribute='labels') | sum }}",
                    "grouping_key": "{{ payload.groupKey.nope() }}",
                },
            },
        )
        first = post(h, integration["link"], json.dumps(payload))
        assert first["status"] == "created"
        incident = h.ok("GET", f"incidents/{first['incident_id']}/")
        assert incident["title"] == "HighLatency (service=api)"
        assert "Alerts: 2 firing, 0 resolved" in incident["message"]
        error = incident["template_error"]
        assert "title: template error: ZeroDivisionError" in error
        assert "message: template error" in error
        assert "grouping_key: template error" in error
        assert error.count("used the default") == 3
        assert kinds(h, first["incident_id"], "template_error") == [f"template failed: {error}"]

        # The grouping key fell back to groupKey, so the next notification of the group still joins,
        # and its template failures are on the timeline too.
        payload["alerts"][0]["annotations"]["summary"] = "p99 latency above 3s"
        second = post(h, integration["link"], json.dumps(payload))
        assert (second["status"], second["incident_id"]) == ("grouped", first["incident_id"])
        assert len(kinds(h, first["incident_id"], "template_error")) == 2

        h.queue.run_due()
        assert len([p for p in h.runtime.console.sent if p.kind == "page"]) == 2


def test_blank_title_falls_back_and_says_so(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok(
            "POST",
            "integrations/",
            {
                "type": "grafana_alerting",
                "team_id": "T001",
                "templates": {"title": "{{ payload.nothing }}  "},
            },
        )
        body = (fixtures_dir / "grafana" / "grafana_unified_integration_test_single_alert.json").read_bytes()
        incident = h.ok("GET", f"incidents/{post(h, integration['link'], body)['incident_id']}/")
        assert incident["title"] == "WebhookAlert (grafana_folder=default)"
        assert incident["template_error"] == "title: rendered empty; used the default"


def test_custom_templates_shape_the_incident(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok(
            "POST",
            "integrations/",
            {
                "type": "alertmanager",
                "team_id": "T001",
                "templates": {
                    "title": "{{ payload.commonLabels.alertname }} on {{ payload.commonLabels.service }}"
                    " for {{ headers['X-Team'] }}",
                    "source_link": "https://runbooks.example/{{ payload.commonLabels.service }}",
                },
            },
        )
        path = "/" + integration["link"].split("://", 1)[1].split("/", 1)[1]
        response = h.client.post(
            path,
            content=(fixtures_dir / AM_FIRING).read_bytes(),
            headers={"Content-Type": "application/json", "X-Team": "payments"},
        )
        incident = h.ok("GET", f"incidents/{response.json()['incident_id']}/")
        assert incident["title"] == "HighLatency on api for payments"
        assert incident["source_link"] == "https://runbooks.example/api"
        assert incident["template_error"] is None


def test_templates_are_checked_against_the_last_payload_when_saved(
    database_url: str, fixtures_dir: Path
) -> None:
    with harness(database_url) as h:
        seed_team(h)
        broken_syntax = h.api(
            "POST",
            "integrations/",
            {"type": "alertmanager", "team_id": "T001", "templates": {"message": "{% if payload %}no end"}},
        )
        assert broken_syntax.status_code == 422
        assert broken_syntax.json()["field"] == "templates.message"
        assert broken_syntax.json()["detail"].startswith("templates.message: template syntax error")

        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        path = f"integrations/{integration['id']}/"
        # Without a payload a template that can only fail at run time saves (syntax is all there is).
        h.ok("PATCH", path, {"templates": {"title": "{{ payload.commonLabels.alertname | int / 1 }}"}})

        post(h, integration["link"], (fixtures_dir / AM_FIRING).read_bytes())
        for method in ("PUT", "PATCH"):
            refused = h.api(
                method, path, {"templates": {"title": "{{ payload.commonLabels.alertname / 2 }}"}}
            )
            assert refused.status_code == 422, method
            assert refused.json()["field"] == "templates.title"
            assert "TypeError" in refused.json()["detail"]
        override = h.api("PATCH", path, {"templates": {"slack": {"title": "{{ payload.alerts[0].nope() }}"}}})
        assert override.status_code == 422
        assert override.json()["field"] == "templates.slack.title"
        unknown = h.api("PATCH", path, {"templates": {"titel": "x"}})
        assert unknown.status_code == 422
        # The refused edits changed nothing.
        assert h.ok("GET", path)["templates"] == {"title": "{{ payload.commonLabels.alertname | int / 1 }}"}

        ok = h.ok("PATCH", path, {"templates": {"title": "{{ payload.commonLabels.alertname | lower }}"}})
        assert ok["templates"] == {"title": "{{ payload.commonLabels.alertname | lower }}"}


def test_unchanged_templates_do_not_block_other_edits(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": "webhook", "team_id": "T001"})
        path = f"integrations/{integration['id']}/"
        post(h, integration["link"], json.dumps({"title": "load", "n": 2}))
        templates = {"message": "{{ 10 // payload.n }} per node"}
        h.ok("PATCH", path, {"templates": templates})
        # A later payload makes the saved template fail; ingest falls back, and editing the name
        # with the same templates (as `tocsin apply` does) still works.
        post(h, integration["link"], json.dumps({"title": "load", "n": 0}))
        assert h.ok("PATCH", path, {"name": "Renamed", "templates": templates})["name"] == "Renamed"
        changed = h.api("PATCH", path, {"templates": {"message": "{{ 20 // payload.n }} per node"}})
        assert changed.status_code == 422


def test_apply_checks_templates_too(database_url: str, fixtures_dir: Path) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"id": "I001", "type": "alertmanager", "team_id": "T001"})
        post(h, integration["link"], (fixtures_dir / AM_FIRING).read_bytes())
        config = """\
integrations:
  - id: I001
    type: alertmanager
    team_id: T001
    templates:
      title: "{{ payload.commonLabels.service.upper( }}"
"""
        with pytest.raises(ApplyError, match=r"templates\.title"):
            apply_text(h.runtime, config)
        assert h.ok("GET", "integrations/I001/")["templates"] == {}


@pytest.mark.parametrize("type_name", TYPES)
def test_test_alert_goes_the_real_path(database_url: str, type_name: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        integration = h.ok("POST", "integrations/", {"type": type_name, "name": "Source", "team_id": "T001"})
        response = h.api("POST", f"integrations/{integration['id']}/test/")
        assert response.status_code == (202 if type_name == "pagerduty" else 200), response.text
        answer = response.json()
        assert answer["incident_id"]
        if type_name != "pagerduty":
            assert answer["status"] == "created"
        incident = h.ok("GET", f"incidents/{answer['incident_id']}/")
        assert "test" in incident["title"].lower()
        assert incident["state"] == "firing"
        assert incident["template_error"] is None
        with h.runtime.db.unit() as uow:
            assert uow.session.get(Incident, answer["incident_id"]).is_test is True

        # A second test is a new incident, not a retry of the first; both page like real alerts.
        second = h.api("POST", f"integrations/{integration['id']}/test/").json()
        assert second["incident_id"] not in (None, answer["incident_id"])
        h.queue.run_due()
        assert len([p for p in h.runtime.console.sent if p.kind == "page"]) == 4

        # The example became the last payload, so templates are now checked against it.
        refused = h.api(
            "PATCH",
            f"integrations/{integration['id']}/",
            {"templates": {"title": "{{ payload.items() | sum }}"}},
        )
        assert refused.status_code == 422


def test_test_alert_refusals(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h)
        assert h.api("POST", "integrations/nope/test/").status_code == 404
        integration = h.ok("POST", "integrations/", {"type": "webhook", "team_id": "T001"})
        unauthenticated = h.client.post(f"/api/v1/integrations/{integration['id']}/test/")
        assert unauthenticated.status_code == 401
        h.ok("POST", f"integrations/{integration['id']}/maintenance_start/")
        held = h.ok("POST", f"integrations/{integration['id']}/test/")
        assert held["status"] == "maintenance"
