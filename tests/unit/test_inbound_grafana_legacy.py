"""The legacy Grafana alert parser against every captured payload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.inbound import grafana_legacy
from adapters.inbound.canonical import stable_hash
from engine.errors import ValidationFailed
from engine.model.alert import AlertStatus
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "grafana_legacy"
ZETA_URL = "https://grafana.domain.tld/dashboard/db/alarms?fullscreen&edit&tab=alert&panelId=1&orgId=1"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


EXPECTED: dict[str, dict[str, Any]] = {
    "grafana_legacy_alerting_evalmatch_tags.json": {
        "group_key": "7",
        "status": AlertStatus.FIRING,
        "title": "Zeta CPU alert",
        "message": "boom!",
        "source_link": ZETA_URL,
        "labels": {
            "__name__": "netdata_cpu_cpu_percentage_average",
            "chart": "cpu.cpu0",
            "dimension": "user",
            "family": "utilization",
            "instance": "zeta.domain",
            "job": "monitoring",
            "info.host_id": "i-00000000000000000",
            "alertname": "Zeta CPU alert",
        },
        "annotations": {"message": "boom!"},
    },
    "grafana_legacy_alerting_oncall_docs.json": {
        "group_key": "1",
        "status": AlertStatus.FIRING,
        "title": "Panel Title alert",
        "message": "Notification Message",
        "source_link": "http://localhost:3000/d/hZ7BuVbWz/test-dashboard?fullscreen&edit&tab=alert&panelId=2&orgId=1",
        "labels": {"tag name": "tag value", "alertname": "Panel Title alert"},
        "annotations": {
            "message": "Notification Message",
            "image_url": "https://grafana.com/static/assets/img/blog/mixed_styles.png",
        },
    },
    "grafana_legacy_ok.json": {
        "group_key": "7",
        "status": AlertStatus.RESOLVED,
        "title": "Zeta CPU alert",
        "message": "boom!",
        "source_link": ZETA_URL,
        "labels": {"alertname": "Zeta CPU alert"},
        "annotations": {"message": "boom!"},
    },
}


def test_every_legacy_fixture_has_expectations() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    body = load(name)
    want = EXPECTED[name]
    parsed = grafana_legacy.parse(body, {})
    assert parsed.group_key == want["group_key"]
    assert parsed.status is want["status"]
    assert parsed.title == want["title"]
    assert parsed.message == want["message"]
    assert parsed.source_link == want["source_link"]
    assert dict(parsed.labels) == want["labels"]
    [alert] = parsed.alerts
    assert alert.status is want["status"]
    assert alert.fingerprint == stable_hash({"rule": want["group_key"]})
    assert dict(alert.annotations) == want["annotations"]
    assert alert.raw == body


def test_recovery_resolves_what_the_alert_opened() -> None:
    firing = grafana_legacy.parse(load("grafana_legacy_alerting_evalmatch_tags.json"), {})
    ok = grafana_legacy.parse(load("grafana_legacy_ok.json"), {})
    assert firing.group_key == ok.group_key
    assert firing.alerts[0].fingerprint == ok.alerts[0].fingerprint


def test_only_tags_every_match_agrees_on_become_labels() -> None:
    body = {
        "ruleId": 3,
        "ruleName": "Disk",
        "state": "alerting",
        "evalMatches": [
            {"metric": "a", "value": 1, "tags": {"job": "node", "instance": "a"}},
            {"metric": "b", "value": 2, "tags": {"job": "node", "instance": "b"}},
        ],
    }
    assert dict(grafana_legacy.parse(body, {}).labels) == {"job": "node", "alertname": "Disk"}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"ruleName": "Disk", "state": "alerting"}, "Disk"),
        ({"ruleUrl": "http://g/d/1", "state": "alerting"}, "http://g/d/1"),
        ({"ruleId": 0, "ruleName": "Zero", "state": "alerting"}, "0"),
    ],
)
def test_group_key_fallbacks(body: dict[str, Any], key: str) -> None:
    assert grafana_legacy.parse(body, {}).group_key == key


def test_no_data_state_fires() -> None:
    assert grafana_legacy.parse({"ruleId": 1, "state": "no_data"}, {}).status is AlertStatus.FIRING


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (["alerting"], None),
        ({"ruleId": 1, "evalMatches": {"x": 1}}, "evalMatches"),
        ({"ruleId": 1, "evalMatches": [1]}, "evalMatches[0]"),
        ({"ruleId": 1, "tags": ["a"]}, "tags"),
    ],
)
def test_impossible_shapes_are_rejected(body: Any, field: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        grafana_legacy.parse(body, {})
    assert caught.value.field == field
