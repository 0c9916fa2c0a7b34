"""The PagerDuty Events API v2 parser against the documented events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.inbound import pagerduty
from engine.errors import ValidationFailed
from engine.model.alert import AlertStatus, SenderAction
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "pagerduty"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


EXPECTED: dict[str, dict[str, Any]] = {
    "pd_events_v2_trigger.json": {
        "group_key": "samplekeyhere",
        "status": AlertStatus.FIRING,
        "action": SenderAction.TRIGGER,
        "title": "Example alert on host1.example.com",
        "source_link": "https://monitoring.example.com",
        "labels": {
            "severity": "info",
            "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
            "component": "postgres",
            "group": "prod-datapipe",
            "class": "deploy",
        },
        "annotations": {
            "ping time": "1500ms",
            "load avg": "0.75",
            "summary": "Example alert on host1.example.com",
        },
        "starts_at": datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC),
    },
    "pd_events_v2_acknowledge.json": {
        "group_key": "dedupkeyhere",
        "status": AlertStatus.FIRING,
        "action": SenderAction.ACKNOWLEDGE,
        "title": "PagerDuty acknowledge: dedupkeyhere",
        "source_link": None,
        "labels": {},
        "annotations": {},
        "starts_at": None,
    },
    "pd_events_v2_resolve.json": {
        "group_key": "dedupkeyhere",
        "status": AlertStatus.RESOLVED,
        "action": SenderAction.RESOLVE,
        "title": "PagerDuty resolve: dedupkeyhere",
        "source_link": None,
        "labels": {},
        "annotations": {},
        "starts_at": None,
    },
}


def test_every_pagerduty_fixture_has_expectations() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    body = load(name)
    want = EXPECTED[name]
    parsed = pagerduty.parse(body, {})
    assert parsed.group_key == want["group_key"]
    assert parsed.status is want["status"]
    assert parsed.action is want["action"]
    assert parsed.title == want["title"]
    assert parsed.source_link == want["source_link"]
    assert dict(parsed.labels) == want["labels"]
    [alert] = parsed.alerts
    assert alert.fingerprint == want["group_key"]
    assert dict(alert.annotations) == want["annotations"]
    assert alert.starts_at == want["starts_at"]
    assert alert.raw == body


def trigger(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": "k" * 32,
        "event_action": "trigger",
        "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"},
    }
    body.update(changes)
    return body


def test_trigger_without_dedup_key_gets_a_fresh_key_every_time() -> None:
    keys = {pagerduty.parse(trigger(), {}).group_key for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) == 32 for key in keys)


def test_links_fall_back_when_there_is_no_client_url() -> None:
    body = trigger(links=[{"text": "x"}, "junk", {"href": "https://runbook.example/disk"}])
    assert pagerduty.parse(body, {}).source_link == "https://runbook.example/disk"


def test_action_is_read_case_insensitively_and_numbers_become_keys() -> None:
    parsed = pagerduty.parse({"event_action": "Resolve", "dedup_key": 42}, {})
    assert parsed.action is SenderAction.RESOLVE and parsed.group_key == "42"


def test_text_custom_details_are_kept() -> None:
    body = trigger(payload={"summary": "s", "custom_details": "free text"})
    assert dict(pagerduty.parse(body, {}).alerts[0].annotations) == {
        "custom_details": "free text",
        "summary": "s",
    }


def test_summary_is_the_title_and_message() -> None:
    parsed = pagerduty.parse(trigger(dedup_key="d1"), {})
    assert (parsed.title, parsed.message, dict(parsed.labels)) == (
        "Disk full",
        "Disk full",
        {"severity": "critical", "source": "db1"},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"routing_key": "k", "dedup_key": "d"}, "event_action"),
        ({"event_action": "snooze", "dedup_key": "d"}, "event_action"),
        ({"event_action": "acknowledge"}, "dedup_key"),
        ({"event_action": "resolve", "dedup_key": ""}, "dedup_key"),
        ({"event_action": "trigger", "dedup_key": "x" * 256}, "dedup_key"),
        ({"event_action": "trigger", "payload": "Disk full"}, "payload"),
        ("trigger", None),
    ],
)
def test_events_pagerduty_would_refuse_are_rejected(body: Any, field: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pagerduty.parse(body, {})
    assert caught.value.field == field
