"""Grouping keys (config fields, template output, sender key) and the join timeout, as tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.inbound import parse
from engine.errors import ValidationFailed
from engine.model.alert import AlertEvent, AlertStatus
from engine.rules.grouping import (
    MAX_KEY,
    GroupingConfig,
    field_value,
    group_timeout,
    grouping_key,
    joins_open_incident,
)
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES
BY_NAMESPACE = GroupingConfig(enabled=True, fields=("namespace", "alertname"), timeout=300)


def alert(**labels: str) -> AlertEvent:
    return AlertEvent(fingerprint="f", status=AlertStatus.FIRING, title="t", labels=labels)


PAYLOAD = {"namespace": "payload-ns", "receiver": "hook", "commonLabels": {"cluster": "eu"}, "alerts": [{}]}


@pytest.mark.parametrize(
    ("case", "template_output", "config", "expected_kind"),
    [
        ("sender key by default", None, None, "sender"),
        ("blank template output falls back to the sender key", "  \n", None, "sender"),
        ("template output wins over the sender key", " team-a ", None, "template"),
        (
            "disabled config is ignored",
            "team-a",
            GroupingConfig(enabled=False, fields=("namespace",)),
            "template",
        ),
        ("enabled config without fields is ignored", None, GroupingConfig(enabled=True), "sender"),
        ("enabled config wins over everything", "team-a", BY_NAMESPACE, "fields"),
    ],
)
def test_precedence(
    case: str, template_output: str | None, config: GroupingConfig | None, expected_kind: str
) -> None:
    key = grouping_key(
        alert(namespace="prod", alertname="Disk"),
        PAYLOAD,
        "{}:{}",
        template_output=template_output,
        config=config,
    )
    expected = {"sender": "{}:{}", "template": "team-a"}.get(expected_kind)
    if expected is None:
        assert key.startswith("fields:") and len(key) == len("fields:") + 64, case
    else:
        assert key == expected, case


@pytest.mark.parametrize(
    ("first", "second", "same_group"),
    [
        (
            {"namespace": "prod", "alertname": "Disk"},
            {"namespace": "prod", "alertname": "Disk", "pod": "b"},
            True,
        ),
        ({"namespace": "prod", "alertname": "Disk"}, {"namespace": "dev", "alertname": "Disk"}, False),
        ({"namespace": "prod", "alertname": "Disk"}, {"namespace": "prod", "alertname": "Cpu"}, False),
        # No namespace label: the payload's top-level "namespace" stands in.
        ({"alertname": "Disk"}, {"namespace": "payload-ns", "alertname": "Disk"}, True),
        ({"alertname": "Disk"}, {"namespace": "prod", "alertname": "Disk"}, False),
    ],
)
def test_fields_are_read_per_alert_labels_first(
    first: dict[str, str], second: dict[str, str], same_group: bool
) -> None:
    one = grouping_key(alert(**first), PAYLOAD, "k", config=BY_NAMESPACE)
    two = grouping_key(alert(**second), PAYLOAD, "k", config=BY_NAMESPACE)
    assert (one == two) is same_group


@pytest.mark.parametrize(
    ("name", "labels", "payload", "value"),
    [
        ("namespace", {"namespace": "prod"}, {"namespace": "other"}, "prod"),
        ("namespace", {}, {"namespace": "other"}, "other"),
        ("receiver", {}, PAYLOAD, "hook"),
        ("commonLabels.cluster", {}, PAYLOAD, "eu"),
        ("commonLabels.missing", {}, PAYLOAD, None),
        ("alerts.0", {}, {"alerts": [{"a": 1}]}, '{"a":1}'),
        ("alerts.5", {}, {"alerts": [{"a": 1}]}, None),
        ("ruleId", {}, {"ruleId": 7}, "7"),
        ("missing", {}, ["not", "an", "object"], None),
        ("dotted.label", {"dotted.label": "yes"}, {}, "yes"),
    ],
)
def test_field_value(name: str, labels: dict[str, str], payload: Any, value: str | None) -> None:
    assert field_value(alert(**labels), payload, name) == value


def test_one_alertmanager_delivery_splits_by_field() -> None:
    body = json.loads((FIXTURES / "grafana" / "grafana_oncall_integration_example_3alerts.json").read_text())
    parsed = parse("grafana_alerting", body, {})
    config = GroupingConfig(enabled=True, fields=("group",))
    keys = [grouping_key(a, body, parsed.group_key, config=config) for a in parsed.alerts]
    # Alerts carry group=production, canary, production.
    assert keys[0] == keys[2] != keys[1]
    # Without the config the whole delivery shares Alertmanager's groupKey.
    assert {grouping_key(a, body, parsed.group_key) for a in parsed.alerts} == {
        '{}:{alertname="InstanceDown"}'
    }


def test_long_keys_are_hashed_to_fit_an_index() -> None:
    long_output = "x" * (MAX_KEY + 1)
    key = grouping_key(alert(), {}, "k", template_output=long_output)
    assert key.startswith("sha256:") and len(key) == 71
    assert grouping_key(alert(), {}, "y" * MAX_KEY) == "y" * MAX_KEY
    assert grouping_key(alert(), {}, "\udc80" * 300).startswith("sha256:")


T0 = datetime(2026, 2, 9, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("elapsed", "timeout", "joins"),
    [
        (timedelta(days=30), None, True),
        (timedelta(seconds=0), 300, True),
        (timedelta(seconds=299), 300, True),
        (timedelta(seconds=300), 300, True),
        (timedelta(seconds=300, microseconds=1), 300, False),
        (timedelta(hours=2), 300, False),
        # A delivery stamped slightly before the last alert (clock skew between workers) still joins.
        (timedelta(seconds=-5), 300, True),
    ],
)
def test_joins_open_incident(elapsed: timedelta, timeout: int | None, joins: bool) -> None:
    assert joins_open_incident(T0, T0 + elapsed, timeout) is joins


def test_group_timeout_applies_only_with_active_config() -> None:
    assert group_timeout(None) is None
    assert group_timeout(GroupingConfig(enabled=False, fields=("a",), timeout=60)) is None
    assert group_timeout(BY_NAMESPACE) == 300


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"enabled": True, "fields": ["namespace", "alertname"], "timeout": 300}, BY_NAMESPACE),
        ({}, GroupingConfig()),
        ({"enabled": False, "fields": None}, GroupingConfig()),
        ({"enabled": True, "fields": [" pod "]}, GroupingConfig(enabled=True, fields=("pod",))),
    ],
)
def test_config_from_mapping(data: dict[str, Any], expected: GroupingConfig) -> None:
    assert GroupingConfig.from_mapping(data) == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": True}, "fields"),
        ({"enabled": True, "fields": "namespace"}, "fields"),
        ({"enabled": True, "fields": ["ok", ""]}, "fields"),
        ({"enabled": True, "fields": ["a"], "timeout": 0}, "timeout"),
        ({"enabled": True, "fields": ["a"], "timeout": True}, "timeout"),
        ({"enabled": True, "fields": ["a"], "timeout": "300"}, "timeout"),
    ],
)
def test_config_rejects_bad_shapes(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        GroupingConfig.from_mapping(data)
    assert caught.value.field == field
