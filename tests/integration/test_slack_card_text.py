"""Slack card text as a responder reads it: the notification line escaped once, every block within
Slack's limits even for a group of long alert titles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.escalation import chain, fire, integration, person
from tests.support.slack import CHANNEL, SlackWorld, alertmanager_body, blocks_of, slack_world

SMS = {"type": "sms", "important": False}


def setup(w: SlackWorld) -> None:
    person(w.h, 1, channels=[SMS])
    w.h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
    chain(w.h, [{"type": "notify_persons", "persons": ["U001"]}])


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text["text"]))
        for item in [*block.get("fields", []), *block.get("elements", [])]:
            if item.get("type") == "mrkdwn":
                found.append(str(item["text"]))
    return found


def test_notification_text_is_escaped_once(sqlite_url: str, fixtures_dir: Path) -> None:
    """The card's ``text`` is what a phone shows in the push notification: ``&lt;`` is ``<`` there,
    ``&amp;lt;`` is the five characters ``&lt;``."""
    with slack_world(sqlite_url, fixtures_dir) as w:
        setup(w)
        fire(w.h, integration(w.h, "E001")["link"], "disk < 10% & falling")
        w.h.queue.run_due()
        [card] = w.cards()
        assert card.text is not None
        assert "disk &lt; 10% &amp; falling" in card.text, card.text
        assert "&amp;lt;" not in card.text and "&amp;amp;" not in card.text
        assert card.attachments and "disk &lt; 10% &amp; falling" in card.attachments[0]["fallback"]


def test_ten_long_alert_titles_fit_one_section(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        setup(w)
        link = w.h.ok(
            "POST",
            "integrations/",
            {
                "type": "alertmanager",
                "name": "AM",
                "team_id": "T001",
                "default_route": {"escalation_chain_id": "E001"},
            },
        )["link"]
        body = alertmanager_body(12)
        for n, alert in enumerate(body["alerts"]):
            alert["labels"]["alertname"] = f"Disk{n}_" + "x" * 400
        response = w.h.post_alert(link, json.dumps(body))
        assert response.status_code == 200, response.text
        w.h.queue.run_due()
        [card] = w.cards()
        texts = mrkdwn_texts(blocks_of(card))
        assert any("Disk9_" in t for t in texts)
        assert max(len(t) for t in texts) <= 3000, sorted(len(t) for t in texts)[-3:]


def test_a_deleted_card_is_posted_again(sqlite_url: str, fixtures_dir: Path) -> None:
    """Someone deleted the card (or a retention policy did): the next change posts a fresh one instead
    of failing every edit for good and leaving the channel without the incident."""
    with slack_world(sqlite_url, fixtures_dir) as w:
        setup(w)
        w.h.ok("PATCH", "users/U001/", {"slack_user_id": "UA"})
        w.slack.add_user("UA")
        incident = fire(w.h, integration(w.h, "E001")["link"], "disk full")
        w.h.queue.run_due()
        [old] = w.cards()
        w.slack.fail_next_call("chat.update", "message_not_found", channel=CHANNEL)
        w.command(f"ack {w.h.ok('GET', f'incidents/{incident}/')['number']}", user="UA")
        w.h.queue.advance(60)
        cards = w.cards()
        assert len(cards) == 2 and cards[0].ts == old.ts
        assert "ACKNOWLEDGED by User 1" in json.dumps(blocks_of(cards[1]))
        timeline = w.h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        assert not [e for e in timeline if "chat card not updated" in e["text"]]
        # Later changes edit the new card.
        w.command("resolve 1", user="UA")
        w.h.queue.advance(60)
        assert len(w.cards()) == 2 and "RESOLVED by User 1" in json.dumps(blocks_of(w.cards()[1]))
