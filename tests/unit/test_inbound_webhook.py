"""Plain and formatted webhooks, and the parser registry."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from adapters.inbound import PARSERS, formatted_webhook, parse, webhook
from engine.errors import ValidationFailed
from engine.model.alert import AlertStatus
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES


def test_registry_names_every_ingest_type() -> None:
    assert set(PARSERS) == {
        "grafana_alerting",
        "alertmanager",
        "grafana",
        "webhook",
        "formatted_webhook",
        "pagerduty",
    }


def test_parse_dispatches_by_type_and_rejects_unknown_types() -> None:
    body = json.loads((FIXTURES / "pagerduty" / "pd_events_v2_resolve.json").read_text())
    assert parse("pagerduty", body, {}).status is AlertStatus.RESOLVED
    with pytest.raises(ValidationFailed) as caught:
        parse("zabbix", body, {})
    assert caught.value.field == "type"


@pytest.mark.parametrize(
    "body", [None, 0, 1.5, True, "text", [], [1, {"a": None}], {}, {"nested": {"deep": [1]}}]
)
def test_plain_webhook_takes_any_json(body: Any) -> None:
    parsed = webhook.parse(body, {})
    assert parsed.status is AlertStatus.FIRING
    assert parsed.group_key.startswith("body:")
    [alert] = parsed.alerts
    assert alert.raw == (body if isinstance(body, dict) else {"payload": body})


def test_plain_webhook_group_key_is_a_hash_of_the_canonical_body() -> None:
    one = webhook.parse({"a": 1, "b": {"c": [1, 2]}}, {})
    same = webhook.parse({"b": {"c": [1, 2]}, "a": 1}, {})
    other = webhook.parse({"a": 2, "b": {"c": [1, 2]}}, {})
    assert one.group_key == same.group_key != other.group_key
    canonical = b'{"a":1,"b":{"c":[1,2]}}'
    assert one.group_key == "body:" + hashlib.sha256(canonical).hexdigest()[:32]


def test_plain_webhook_reads_common_fields() -> None:
    body = {
        "alert_name": "Queue backlog",
        "description": "12k messages waiting",
        "url": "https://queue.example/q/1",
        "labels": {"team": "payments", "prio": 1},
        "state": "OK",
    }
    parsed = webhook.parse(body, {})
    assert (parsed.title, parsed.message, parsed.source_link) == (
        "Queue backlog",
        "12k messages waiting",
        "https://queue.example/q/1",
    )
    assert dict(parsed.labels) == {"team": "payments", "prio": "1"}
    assert parsed.status is AlertStatus.RESOLVED


def test_plain_webhook_title_of_a_bare_string_is_the_string() -> None:
    assert webhook.parse("  disk   full  ", {}).title == "disk full"
    assert webhook.parse([1, 2], {}).title == "Webhook alert"


def test_plain_webhook_accepts_every_sender_fixture() -> None:
    for path in sorted(FIXTURES.glob("*/*.json")):
        parsed = webhook.parse(json.loads(path.read_text()), {})
        assert parsed.group_key.startswith("body:"), path.name


def test_plain_webhook_cuts_huge_titles() -> None:
    assert len(webhook.parse({"title": "x" * 5000}, {}).title) == 1024


FORMATTED = {
    "alert_uid": "08d6891a-835c-e661-39fa-96b6a9e26552",
    "title": "The whole system is down",
    "image_url": "https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat_by_Gage_Skidmore.jpg",
    "state": "alerting",
    "link_to_upstream_details": "https://en.wikipedia.org/wiki/Downtime",
    "message": "Smth happened. Oh no!",
}


def test_formatted_webhook_fields() -> None:
    parsed = formatted_webhook.parse(FORMATTED, {})
    assert parsed.group_key == "08d6891a-835c-e661-39fa-96b6a9e26552"
    assert parsed.status is AlertStatus.FIRING
    assert (parsed.title, parsed.message, parsed.source_link) == (
        "The whole system is down",
        "Smth happened. Oh no!",
        "https://en.wikipedia.org/wiki/Downtime",
    )
    [alert] = parsed.alerts
    assert alert.fingerprint == FORMATTED["alert_uid"]
    assert alert.annotations["image_url"] == FORMATTED["image_url"]


def test_formatted_webhook_state_ok_resolves_the_same_uid() -> None:
    parsed = formatted_webhook.parse({**FORMATTED, "state": "ok"}, {})
    assert parsed.status is AlertStatus.RESOLVED
    assert parsed.group_key == FORMATTED["alert_uid"]


def test_formatted_webhook_without_uid_groups_by_title() -> None:
    firing = formatted_webhook.parse({"title": "DB down", "state": "alerting"}, {})
    ok = formatted_webhook.parse({"title": "DB down", "state": "ok", "message": "back"}, {})
    assert firing.group_key == ok.group_key
    assert firing.group_key.startswith("title:")


def test_formatted_webhook_title_falls_back_to_the_first_message_line() -> None:
    assert formatted_webhook.parse({"message": "first line\nsecond"}, {}).title == "first line"
    assert formatted_webhook.parse({}, {}).title == "Untitled alert"


def test_formatted_webhook_must_be_an_object() -> None:
    with pytest.raises(ValidationFailed):
        formatted_webhook.parse(["title"], {})


def test_a_huge_alert_uid_becomes_a_digest_that_fits_and_still_differs() -> None:
    from adapters.inbound import formatted_webhook

    uid = {"nested": ["x" * 300], "n": 1}
    one = formatted_webhook.parse({"title": "t", "alert_uid": uid}, {})
    two = formatted_webhook.parse({"title": "t", "alert_uid": {**uid, "n": 2}}, {})
    again = formatted_webhook.parse({"title": "t", "alert_uid": uid}, {})
    fingerprints = [p.alerts[0].fingerprint for p in (one, two, again)]
    assert all(f.startswith("sha256:") and len(f) <= 128 for f in fingerprints)
    assert fingerprints[0] == fingerprints[2] != fingerprints[1]
