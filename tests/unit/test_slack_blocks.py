"""Block Kit building and Slack error translation: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from adapters.slack.blocks import BLOCKS_MAX, card_blocks, fit_mrkdwn
from adapters.slack.dedup import SeenKeys, delivery_key
from adapters.slack.errors import delivery_failure
from bot.cards import build_card
from engine.model.snapshot import IncidentSnapshot


def snapshot(**fields: object) -> IncidentSnapshot:
    base: dict[str, object] = {
        "id": "IABC",
        "number": 7,
        "title": "disk full",
        "message": "",
        "state": "firing",
        "severity": "critical",
        "labels": {},
        "alerts_count": 1,
        "alerts_resolved": 0,
        "created_at": datetime(2026, 2, 9, tzinfo=UTC),
        "web_link": "https://tocsin.example.com/incidents/IABC/",
    }
    return IncidentSnapshot(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 1, 2999, 3000, 3001, 3500, 10_000])
@pytest.mark.parametrize("unit", ["a", "&", "<>", "😀"])
def test_fit_mrkdwn_never_exceeds_the_limit(size: int, unit: str) -> None:
    raw = (unit * size)[:size]
    text = fit_mrkdwn(raw, 3000, "https://t.example.com/i/1")
    assert len(text) <= 3000
    if len(raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")) > 3000:
        assert "…" in text and text.endswith("|full text>")
        assert "&am…" not in text and "&l…" not in text  # never a torn entity
    else:
        assert "…" not in text


def test_alert_text_is_escaped() -> None:
    card = build_card(snapshot(title="a<b>&c", message="<!channel> & <@U1>"))
    blocks = card_blocks(card)
    summary = blocks[2]["text"]["text"]
    assert summary == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert blocks[0]["text"]["text"] == "🔴 #7 a<b>&c"  # plain_text needs no escaping


def test_group_of_any_size_stays_within_fifty_blocks() -> None:
    for count in (2, 20, 21, 60, 5000):
        titles = tuple(f"alert {i}" for i in range(count))
        card = build_card(
            snapshot(alerts_count=count, alert_titles=titles, labels={f"k{i}": "v" for i in range(40)})
        )
        blocks = card_blocks(card)
        assert len(blocks) <= BLOCKS_MAX
        assert blocks[-1]["type"] == "context" and blocks[-2]["type"] == "actions"
        if count > 20:
            assert any(f"…and {count - 20} more" in str(b) for b in blocks)


def _error(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="x",
        req_args={},
        data=body,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


def test_errors_become_typed_delivery_failures() -> None:
    limited = delivery_failure(
        _error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}), "post"
    )
    assert limited.retryable and limited.retry_after == 7 and limited.provider_code == "ratelimited"
    for code in ("channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive"):
        failure = delivery_failure(_error(200, {"ok": False, "error": code}), "post")
        assert not failure.retryable and failure.provider_code == code and code in failure.detail
    limit = delivery_failure(_error(200, {"ok": False, "error": "message_limit_exceeded"}), "post")
    assert not limit.retryable
    internal = delivery_failure(_error(200, {"ok": False, "error": "internal_error"}), "post")
    assert internal.retryable


def test_delivery_keys() -> None:
    seen = SeenKeys(size=2)
    event = {"type": "event_callback", "event_id": "Ev1"}
    assert delivery_key(event) == "event:Ev1"
    assert seen.first_time("event:Ev1") and not seen.first_time("event:Ev1")
    seen.first_time("b")
    seen.first_time("c")
    assert seen.first_time("event:Ev1")  # bounded: the oldest key was forgotten
    assert delivery_key({"type": "url_verification"}) is None
