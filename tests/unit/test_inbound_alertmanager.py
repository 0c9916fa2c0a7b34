"""The Alertmanager webhook parser against every captured payload, then the odd shapes one by one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.inbound import alertmanager
from adapters.inbound.canonical import stable_hash
from engine.errors import ValidationFailed
from engine.model.alert import AlertStatus
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "alertmanager"
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# fixture -> group key, group status, title, message, source link, common labels, alerts as
# (fingerprint, status, ends_at, source_link)
EXPECTED: dict[str, dict[str, Any]] = {
    "am_0.25_live_capture_firing.json": {
        "group_key": '{}:{alertname="HighLatency", service="api"}',
        "status": F,
        "title": "HighLatency (service=api)",
        "message": "p99 latency above 2s",
        "source_link": "http://prometheus.example/graph?g0.expr=x",
        "labels": {"alertname": "HighLatency", "service": "api", "severity": "critical"},
        "alerts": [
            ("341371f04756c610", F, None, "http://prometheus.example/graph?g0.expr=x"),
            ("001073a34507721f", F, None, None),
        ],
    },
    "am_0.25_live_capture_resolved.json": {
        "group_key": '{}:{alertname="HighLatency", service="api"}',
        "status": R,
        "title": "HighLatency (service=api)",
        "message": "p99 latency above 2s",
        # Both generatorURLs are empty, so the group links to the Alertmanager itself.
        "source_link": "http://vm:19093",
        "labels": {"alertname": "HighLatency", "service": "api", "severity": "critical"},
        "alerts": [
            ("341371f04756c610", R, datetime(2026, 12, 3, 18, 14, 34, tzinfo=UTC), None),
            ("001073a34507721f", R, datetime(2026, 12, 3, 18, 14, 34, tzinfo=UTC), None),
        ],
    },
    "am_firing_2alerts_fingerprint.json": {
        "group_key": "{}/{}:{}",
        "status": F,
        "title": "High CPU Temperature (severity=critical)",
        "message": "High CPU core temperature",
        "source_link": "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature%3D~%22core_"
        "%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1",
        "labels": {"alertname": "High CPU Temperature", "severity": "critical"},
        "alerts": [
            (
                "a1bc48475b20e73d",
                F,
                None,
                "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input"
                "%7Bfeature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1",
            ),
            (
                "c2ea85182f28cbd9",
                F,
                None,
                "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input"
                "%7Bfeature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1",
            ),
        ],
    },
    "am_firing_single_compact_future_endsat.json": {
        "group_key": '{}:{alertname="Fire"}',
        "status": F,
        "title": "Fire (severity=critical)",
        "message": "Something is on fire",
        "source_link": "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1",
        "labels": {"alertname": "Fire", "severity": "critical"},
        # No fingerprint: a hash of the labels; the future endsAt does not end a firing alert.
        "alerts": [
            (
                stable_hash({"alertname": "Fire", "severity": "critical"}),
                F,
                None,
                "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1",
            )
        ],
    },
    "am_resolved_single_compact.json": {
        "group_key": '{}:{alertname="Fire"}',
        "status": R,
        "title": "Fire (severity=critical)",
        "message": "Something is on fire",
        "source_link": "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1",
        "labels": {"alertname": "Fire", "severity": "critical"},
        "alerts": [
            (
                stable_hash({"alertname": "Fire", "severity": "critical"}),
                R,
                datetime(2018, 11, 4, 21, 48, 13, 283995, tzinfo=UTC),
                "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1",
            )
        ],
    },
    "am_mixed_firing_and_resolved.json": {
        "group_key": '{}:{alertname="ServerStop", env="prod"}',
        "status": F,
        "title": "ServerStop (env=prod)",
        "message": "",
        "source_link": "http://alertmanager.example.local:9093",
        "labels": {"alertname": "ServerStop", "env": "prod"},
        "alerts": [
            (stable_hash({"alertname": "ServerStop", "env": "prod", "status": "firing"}), F, None, None),
            (
                stable_hash(
                    {"alertname": "ServerStop", "env": "prod", "instance": "a1", "status": "resolved"}
                ),
                R,
                datetime(2017, 10, 21, 17, 50, 28, 806970, tzinfo=UTC),
                None,
            ),
        ],
    },
}


def test_every_alertmanager_fixture_has_expectations() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    body = load(name)
    want = EXPECTED[name]
    parsed = alertmanager.parse(body, {})
    assert parsed.group_key == want["group_key"]
    assert parsed.status is want["status"]
    assert parsed.title == want["title"]
    assert parsed.message == want["message"]
    assert parsed.source_link == want["source_link"]
    assert dict(parsed.labels) == want["labels"]
    assert parsed.truncated_alerts == 0
    got = [(a.fingerprint, a.status, a.ends_at, a.source_link) for a in parsed.alerts]
    assert got == want["alerts"]
    for alert, raw in zip(parsed.alerts, body["alerts"], strict=True):
        assert alert.raw == raw
        assert dict(alert.labels) == raw["labels"]
        assert alert.starts_at is not None and alert.starts_at.tzinfo is not None


def test_starts_at_keeps_the_offset_and_drops_nanoseconds() -> None:
    parsed = alertmanager.parse(load("am_mixed_firing_and_resolved.json"), {})
    assert parsed.alerts[0].starts_at == datetime(2017, 10, 21, 17, 50, 17, 160954, tzinfo=UTC)


def test_resolve_after_fire_keeps_group_key_and_fingerprints() -> None:
    firing = alertmanager.parse(load("am_0.25_live_capture_firing.json"), {})
    resolved = alertmanager.parse(load("am_0.25_live_capture_resolved.json"), {})
    assert firing.group_key == resolved.group_key
    assert [a.fingerprint for a in firing.alerts] == [a.fingerprint for a in resolved.alerts]


def minimal(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "receiver": "hook",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "Disk", "host": "db1"}}],
        "groupLabels": {"alertname": "Disk"},
        "externalURL": "http://am.example:9093/",
        "groupKey": '{}:{alertname="Disk"}',
    }
    body.update(changes)
    return body


def test_status_word_is_the_truth_not_ends_at() -> None:
    alert = {"status": "resolved", "labels": {"a": "1"}, "endsAt": "0001-01-01T00:00:00Z"}
    parsed = alertmanager.parse(minimal(status="resolved", alerts=[alert]), {})
    assert parsed.status is R and parsed.alerts[0].status is R
    assert parsed.alerts[0].ends_at is None


def test_group_resolves_when_every_alert_says_resolved_even_if_top_level_says_firing() -> None:
    alerts = [{"status": "resolved", "labels": {"n": str(i)}} for i in range(2)]
    assert alertmanager.parse(minimal(alerts=alerts), {}).status is R


def test_alert_without_status_inherits_the_group_status() -> None:
    parsed = alertmanager.parse(minimal(status="resolved", alerts=[{"labels": {"a": "b"}}]), {})
    assert parsed.alerts[0].status is R


@pytest.mark.parametrize(
    ("generator", "external", "expected"),
    [
        ("/graph?g0.expr=up", "http://am.example:9093/", "http://am.example:9093/graph?g0.expr=up"),
        ("graph?g0.expr=up", "http://am.example:9093", "http://am.example:9093/graph?g0.expr=up"),
        ("/alerting/x/view", "https://host/grafana/", "https://host/grafana/alerting/x/view"),
        ("", "http://am.example:9093/", None),
        ("/graph", "", None),
        ("javascript:alert(1)", "http://am.example:9093/", None),
        ("HTTPS://prom.example/graph", "", "HTTPS://prom.example/graph"),
    ],
)
def test_generator_url_made_absolute_against_external_url(
    generator: str, external: str, expected: str
) -> None:
    body = minimal(
        externalURL=external, alerts=[{"status": "firing", "labels": {}, "generatorURL": generator}]
    )
    assert alertmanager.parse(body, {}).alerts[0].source_link == expected


def test_missing_fingerprint_is_a_stable_hash_of_the_labels_whatever_their_order() -> None:
    one = alertmanager.parse(minimal(alerts=[{"labels": {"a": "1", "b": "2"}}]), {})
    two = alertmanager.parse(minimal(alerts=[{"labels": {"b": "2", "a": "1"}}]), {})
    other = alertmanager.parse(minimal(alerts=[{"labels": {"a": "1", "b": "3"}}]), {})
    assert one.alerts[0].fingerprint == two.alerts[0].fingerprint != other.alerts[0].fingerprint
    assert len(one.alerts[0].fingerprint) == 16


def test_labels_are_coerced_to_text() -> None:
    body = minimal(alerts=[{"labels": {"port": 8080, "up": False, "gone": None, "ratio": 0.5, "l": [1]}}])
    assert dict(alertmanager.parse(body, {}).alerts[0].labels) == {
        "port": "8080",
        "up": "false",
        "gone": "",
        "ratio": "0.5",
        "l": "[1]",
    }


def test_truncated_alerts_is_reported() -> None:
    assert alertmanager.parse(minimal(truncatedAlerts=12), {}).truncated_alerts == 12
    assert alertmanager.parse(minimal(truncatedAlerts="3"), {}).truncated_alerts == 3
    assert alertmanager.parse(minimal(truncatedAlerts="lots"), {}).truncated_alerts == 0
    assert alertmanager.parse(minimal(truncatedAlerts=-1), {}).truncated_alerts == 0


def test_missing_group_key_falls_back_to_a_hash_of_receiver_and_group_labels() -> None:
    first = alertmanager.parse(minimal(groupKey=None), {})
    again = alertmanager.parse(minimal(groupKey=None, alerts=[{"labels": {"x": "y"}}]), {})
    other = alertmanager.parse(minimal(groupKey=None, groupLabels={"alertname": "Cpu"}), {})
    assert first.group_key == again.group_key != other.group_key
    assert first.group_key.startswith("group:")


def test_title_lists_several_alertnames_when_the_group_mixes_them() -> None:
    alerts = [{"labels": {"alertname": name}} for name in ["A", "B", "A", "C", "D", "E"]]
    parsed = alertmanager.parse(minimal(alerts=alerts, groupLabels={}, commonLabels={}), {})
    assert parsed.title == "A, B, C +2 more"


def test_title_falls_back_to_receiver_without_any_alertname() -> None:
    parsed = alertmanager.parse(minimal(alerts=[{"labels": {}}], groupLabels={}), {})
    assert parsed.title == "hook"


def test_common_labels_are_computed_when_absent() -> None:
    alerts = [{"labels": {"a": "1", "b": "2"}}, {"labels": {"a": "1", "b": "3"}}]
    assert dict(alertmanager.parse(minimal(alerts=alerts), {}).labels) == {"a": "1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], None),
        ("firing", None),
        ({"status": "firing"}, "alerts"),
        (minimal(alerts={"0": {}}), "alerts"),
        (minimal(alerts=[]), "alerts"),
        (minimal(alerts=["oops"]), "alerts[0]"),
        (minimal(alerts=[{"labels": ["a=b"]}]), "alerts[0].labels"),
        (minimal(alerts=[{"labels": {}, "annotations": "text"}]), "alerts[0].annotations"),
        (minimal(groupLabels="x"), "groupLabels"),
    ],
)
def test_shapes_alertmanager_never_sends_are_rejected(body: Any, field: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        alertmanager.parse(body, {})
    assert caught.value.field == field
