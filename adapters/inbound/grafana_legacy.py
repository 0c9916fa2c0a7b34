"""Legacy (pre-unified) Grafana alert webhook: ``ruleId``, ``ruleName``, ``state``, ``evalMatches``.

One payload is one rule changing state, so it becomes one alert; the matched series stay in
``raw["evalMatches"]``. Group key: ``ruleId`` (the recovery, ``state: ok``, carries the same id and an
empty ``evalMatches``), else ``ruleName``, else ``ruleUrl``, else a hash of the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.inbound.canonical import stable_hash
from adapters.inbound.values import (
    first_text,
    http_link,
    is_resolved_word,
    optional_list,
    require_object,
    string_map,
    title_text,
)
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse a legacy Grafana notification; ``state`` "ok" resolves, every other state fires."""
    body = require_object(payload)
    matches = [
        require_object(item, f"evalMatches[{index}]")
        for index, item in enumerate(optional_list(body.get("evalMatches"), "evalMatches"))
    ]
    rule_name = first_text(body.get("ruleName"))
    labels = {
        **_shared_match_tags(matches),
        **string_map(body.get("tags"), "tags"),
        # Rules have no alertname label; the rule name plays that part for routing and grouping.
        **({"alertname": rule_name} if rule_name else {}),
    }
    status = AlertStatus.RESOLVED if is_resolved_word(body.get("state")) else AlertStatus.FIRING
    group_key = first_text(body.get("ruleId"), rule_name, body.get("ruleUrl")) or "body:" + stable_hash(body)
    title = title_text(first_text(rule_name, body.get("title")) or "Grafana alert")
    message = first_text(body.get("message"))
    link = http_link(body.get("ruleUrl"))
    annotations = {
        key: value
        for key, value in (("message", message), ("image_url", http_link(body.get("imageUrl")) or ""))
        if value
    }
    alert = AlertEvent(
        fingerprint=stable_hash({"rule": group_key}),
        status=status,
        title=title,
        labels=labels,
        annotations=annotations,
        source_link=link,
        raw=body,
    )
    return ParsedPayload(
        group_key=group_key,
        status=status,
        alerts=(alert,),
        title=title,
        message=message,
        source_link=link,
        labels=labels,
    )


def _shared_match_tags(matches: list[Mapping[str, Any]]) -> dict[str, str]:
    """The series tags every match agrees on (a rule matching one series gives that series' labels)."""
    tag_sets = [
        string_map(match.get("tags"), f"evalMatches[{index}].tags") for index, match in enumerate(matches)
    ]
    if not tag_sets:
        return {}
    first, *rest = tag_sets
    return {key: value for key, value in first.items() if all(tags.get(key) == value for tags in rest)}
