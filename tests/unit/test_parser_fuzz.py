"""Random JSON at every parser: a ParsedPayload or ValidationFailed, never any other exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.inbound import PARSERS
from engine.errors import ValidationFailed
from engine.model.alert import ParsedPayload

# Surrogates included: json.loads produces lone ones from "\ud800" escapes.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
KEYS = st.sampled_from(
    [
        "alerts",
        "status",
        "state",
        "labels",
        "annotations",
        "fingerprint",
        "groupKey",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "generatorURL",
        "startsAt",
        "endsAt",
        "truncatedAlerts",
        "receiver",
        "ruleId",
        "ruleName",
        "ruleUrl",
        "evalMatches",
        "tags",
        "title",
        "message",
        "image_url",
        "imageUrl",
        "alert_uid",
        "link_to_upstream_details",
        "event_action",
        "dedup_key",
        "payload",
        "summary",
        "custom_details",
        "links",
        "href",
        "client_url",
        "timestamp",
        "alertname",
        "severity",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
    | st.sampled_from(
        [
            "firing",
            "resolved",
            "ok",
            "trigger",
            "acknowledge",
            "resolve",
            "0001-01-01T00:00:00Z",
            "2024-02-30T25:61:00Z",
            "2022-06-17T01:11:00.782137894Z",
            "/relative",
            "http://x",
            "javascript:x",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS | TEXT, children, max_size=5),
    max_leaves=25,
)
# Bodies shaped like the senders' so the parsers get past their first checks.
ALERT = st.dictionaries(KEYS, JSON, max_size=6)
SHAPED = st.dictionaries(KEYS, JSON | st.lists(ALERT, max_size=3) | ALERT, max_size=8)


def parse_or_reject(type_name: str, body: Any) -> None:
    try:
        result = PARSERS[type_name](body, {"X-Team": "fuzz"})
    except ValidationFailed:
        return
    assert isinstance(result, ParsedPayload)
    assert result.alerts, "a parsed payload always carries at least one alert"
    assert isinstance(result.group_key, str) and result.group_key
    for alert in result.alerts:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.labels.items())
        assert alert.starts_at is None or alert.starts_at.tzinfo is not None


# Each example goes to all six parsers: generating the bodies costs far more than parsing them.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=JSON | SHAPED)
def test_every_parser_returns_or_rejects(body: Any) -> None:
    for type_name in sorted(PARSERS):
        parse_or_reject(type_name, body)


@pytest.mark.parametrize("type_name", sorted(PARSERS))
@pytest.mark.parametrize("body", ["\ud800", {"title": "\udfff", "labels": {"\ud800": "\udc00"}}, [[[[[]]]]]])
def test_lone_surrogates_and_nesting(type_name: str, body: Any) -> None:
    parse_or_reject(type_name, body)
