"""The Grafana unified alerting parser against every captured payload, plus Grafana-only fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.inbound import grafana_alerting
from engine.errors import ValidationFailed
from engine.model.alert import AlertStatus
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "grafana"
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED
RABBIT = "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view"
CAMO = "https://grafana.example.com/alerting/grafana/_0rkK_C7z/view"
RESOLVED_AT = datetime(2022, 6, 17, 1, 8, 28, 652747, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


EXPECTED: dict[str, dict[str, Any]] = {
    "grafana_oncall_integration_example_3alerts.json": {
        "group_key": '{}:{alertname="InstanceDown"}',
        "status": F,
        "title": "InstanceDown (job=node, severity=critical)",
        "message": "Instance localhost:8081 down",
        # Empty generatorURL and empty externalURL: nothing to link to.
        "source_link": None,
        "labels": {"job": "node", "severity": "critical", "alertname": "InstanceDown"},
        "alerts": [
            ("f404ecabc8dd5cd7", F, "InstanceDown: Instance localhost:8081 down", None),
            ("f8f08d4e32c61a9d", F, "InstanceDown: Instance localhost:8082 down", None),
            ("39f38c0611ee7abd", F, "InstanceDown: Instance localhost:8083 down", None),
        ],
    },
    "grafana_unified_docs_firing_2alerts.json": {
        "group_key": "{}:{}",
        "status": F,
        # Not derived from Grafana's own title or message, which disagree with the alerts here.
        "title": "High memory usage, High CPU usage (team=blue)",
        "message": "This alert was triggered for zone us-1",
        "source_link": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "labels": {"team": "blue"},
        "alerts": [
            ("c6eadffa33fcdf37", F, "High memory usage: This alert was triggered for zone us-1", None),
            ("bc97ff14869b13e3", F, "High CPU usage: This alert was triggered for zone eu-1", None),
        ],
    },
    "grafana_unified_firing_3alerts_valuestring.json": {
        "group_key": '{}/{test="true"}:{}',
        "status": F,
        "title": "Test alert, Second webhook test (test=true)",
        "message": "This is a summary field, failure on badhost.example.com",
        "source_link": RABBIT,
        "labels": {"test": "true"},
        "alerts": [
            (
                "aaafafe0953f0962",
                F,
                "Test alert: This is a summary field, failure on badhost.example.com",
                None,
            ),
            (
                "fb31814ac93dbe7d",
                F,
                "Test alert: This is a summary field, failure on otherhost.example.com",
                None,
            ),
            ("6f9cd313db421ef1", F, "Second webhook test: Testing **another** failing alert", None),
        ],
    },
    "grafana_unified_integration_test_single_alert.json": {
        "group_key": '{}/{alertname="WebhookAlert"}:{alertname="WebhookAlert"}',
        "status": F,
        "title": "WebhookAlert (grafana_folder=default)",
        "message": "",
        "source_link": "http://localhost:3000/alerting/grafana/UID_WebhookAlert/view",
        "labels": {"alertname": "WebhookAlert", "grafana_folder": "default"},
        "alerts": [("15c59b0a380bd9f1", F, "WebhookAlert", None)],
    },
    "grafana_unified_mixed_firing_and_resolved.json": {
        "group_key": '{}/{test="true"}:{}',
        # Top-level "firing" with one alert still firing: the group stays open.
        "status": F,
        "title": "Test alert, Second webhook test (test=true)",
        "message": "This is a summary field, failure on badhost.example.com",
        "source_link": RABBIT,
        "labels": {"test": "true"},
        "alerts": [
            (
                "aaafafe0953f0962",
                R,
                "Test alert: This is a summary field, failure on badhost.example.com",
                RESOLVED_AT,
            ),
            (
                "fb31814ac93dbe7d",
                R,
                "Test alert: This is a summary field, failure on otherhost.example.com",
                RESOLVED_AT,
            ),
            ("6f9cd313db421ef1", F, "Second webhook test: Testing **another** failing alert", None),
        ],
    },
    "grafana_unified_resolved.json": {
        "group_key": '{}/{test="true"}:{}',
        "status": R,
        "title": "Test alert (test=true)",
        "message": "This is a summary field, failure on <no value>",
        "source_link": RABBIT,
        "labels": {"alertname": "Test alert", "test": "true"},
        "alerts": [
            (
                "d8a21484c9c25a60",
                R,
                "Test alert: This is a summary field, failure on <no value>",
                datetime(2022, 6, 17, 0, 51, 24, 67337, tzinfo=UTC),
            )
        ],
    },
}


def test_every_grafana_fixture_has_expectations() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    body = load(name)
    want = EXPECTED[name]
    parsed = grafana_alerting.parse(body, {"Content-Type": "application/json"})
    assert parsed.group_key == want["group_key"]
    assert parsed.status is want["status"]
    assert parsed.title == want["title"]
    assert parsed.message == want["message"]
    assert parsed.source_link == want["source_link"]
    assert dict(parsed.labels) == want["labels"]
    assert parsed.truncated_alerts == 0
    assert [(a.fingerprint, a.status, a.title, a.ends_at) for a in parsed.alerts] == want["alerts"]
    for alert, raw in zip(parsed.alerts, body["alerts"], strict=True):
        # Grafana's extra per-alert fields (silenceURL, values …) stay available to templates.
        assert alert.raw == raw
        assert dict(alert.annotations) == raw["annotations"]


def test_mixed_payload_alerts_carry_their_own_links() -> None:
    parsed = grafana_alerting.parse(load("grafana_unified_mixed_firing_and_resolved.json"), {})
    assert [a.source_link for a in parsed.alerts] == [RABBIT, RABBIT, CAMO]


def test_firing_alert_zero_ends_at_is_no_end() -> None:
    parsed = grafana_alerting.parse(load("grafana_unified_docs_firing_2alerts.json"), {})
    assert all(a.ends_at is None for a in parsed.alerts)
    assert parsed.alerts[0].starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)


def test_state_ok_resolves_the_group() -> None:
    body = load("grafana_unified_resolved.json")
    body["status"] = "firing"
    body["alerts"][0]["status"] = "firing"
    assert grafana_alerting.parse(body, {}).status is R


def test_empty_generator_url_falls_back_to_external_url_for_the_group() -> None:
    body = load("grafana_unified_integration_test_single_alert.json")
    body["alerts"][0]["generatorURL"] = ""
    parsed = grafana_alerting.parse(body, {})
    assert parsed.alerts[0].source_link is None
    assert parsed.source_link == "http://localhost:3000/"


def test_relative_generator_url_is_resolved_against_external_url() -> None:
    body = load("grafana_unified_integration_test_single_alert.json")
    body["alerts"][0]["generatorURL"] = "/alerting/grafana/UID_WebhookAlert/view"
    assert grafana_alerting.parse(body, {}).alerts[0].source_link == (
        "http://localhost:3000/alerting/grafana/UID_WebhookAlert/view"
    )


def test_truncated_alerts_are_counted() -> None:
    body = load("grafana_oncall_integration_example_3alerts.json")
    body["truncatedAlerts"] = 40
    assert grafana_alerting.parse(body, {}).truncated_alerts == 40


def test_alerts_must_be_a_list() -> None:
    body = load("grafana_unified_resolved.json")
    body["alerts"] = body["alerts"][0]
    with pytest.raises(ValidationFailed) as caught:
        grafana_alerting.parse(body, {})
    assert caught.value.field == "alerts"
