"""Slack's limits and failures: long text cut, big groups capped at 50 blocks, rate-limit storms
absorbed per channel in virtual time, and refusals recorded as typed failures on the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.slack import (
    CHANNEL,
    SlackWorld,
    alertmanager_body,
    block_text,
    blocks_of,
    slack_world,
)

SMS = {"type": "sms", "important": False}


def setup(w: SlackWorld) -> str:
    h = w.h
    person(h, 1, channels=[SMS])
    h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
    chain(h, [{"type": "notify_persons", "persons": ["U001"]}])
    body = {
        "type": "alertmanager",
        "name": "AM",
        "team_id": "T001",
        "default_route": {"escalation_chain_id": "E001"},
    }
    return str(h.ok("POST", "integrations/", body)["link"])


def texts_of(blocks: list[dict[str, object]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text["text"]))
    return found


def test_long_description_is_cut_with_a_link(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        link = setup(w)
        description = ("x < y & z > w " * 300)[:3500]
        response = w.h.post_alert(link, json.dumps(alertmanager_body(1, description=description)))
        incident = response.json()["incident_id"]
        w.h.queue.run_due()
        [card] = w.cards()
        texts = texts_of(blocks_of(card))
        assert all(len(t) <= 3000 for t in texts)
        [cut] = [t for t in texts if "Description: x &lt; y &amp; z &gt; w" in t]
        assert "…" in cut and f"/incidents/{incident}/|full text>" in cut
        assert "<" not in cut.split(" <http")[0]  # alert text is escaped, only Tocsin's link is markup


def test_long_title_fits_the_header(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        setup(w)
        fire(w.h, integration(w.h, "E001")["link"], "T" * 400)
        w.h.queue.run_due()
        [card] = w.cards()
        header = blocks_of(card)[0]
        assert header["type"] == "header" and len(header["text"]["text"]) <= 150
        assert header["text"]["text"].endswith("…")


def test_sixty_alert_group_stays_within_fifty_blocks(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        link = setup(w)
        response = w.h.post_alert(link, json.dumps(alertmanager_body(60)))
        incident = response.json()["incident_id"]
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["alerts_count"] == 60
        [card] = w.cards()
        blocks = blocks_of(card)
        assert len(blocks) <= 50
        text = block_text(card)
        assert "60 alerts" in text and "DiskFull0" in text and "…and 40 more" in text
        for block in blocks:
            for element in block.get("elements", []):
                if element.get("type") == "button" and "value" in element:
                    assert len(element["value"]) <= 2000
                for option in element.get("options", []):
                    assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150


def test_rate_limit_storm_on_one_channel(sqlite_url: str, fixtures_dir: Path) -> None:
    """50 incidents in 10 s on one channel while Slack answers 429: each ends with exactly one card,
    up to date, and every SMS page goes out when it would have without Slack."""
    with slack_world(sqlite_url, fixtures_dir) as w:
        h = w.h
        link = setup(w)
        w.slack.rate_limit_next("chat.postMessage", retry_after=3, times=40)
        incidents = []
        for n in range(50):
            body = alertmanager_body(1, group=f"storm{n}")
            incidents.append(h.post_alert(link, json.dumps(body)).json()["incident_id"])
            h.queue.advance(0.2)
        h.queue.advance(600)

        assert sum(1 for r in w.slack.requests if r.status == 429) == 40
        assert w.slack.pending_failures() == 0
        cards = w.cards()
        assert len(cards) == 50
        numbers = sorted(int(block_text(c).split("#", 1)[1].split(" ", 1)[0]) for c in cards)
        assert numbers == list(range(1, 51))
        pages = [s for s in sent(h) if s[2] == "sms"]
        assert len(pages) == 50
        assert max(p[0] for p in pages) <= 10.0  # SMS never waited for Slack
        for incident in incidents:
            timeline = h.ok("GET", f"incidents/{incident}/timeline/")["results"]
            assert not [e for e in timeline if "chat card not updated" in e["text"]]


@pytest.mark.parametrize(
    "code",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "message_limit_exceeded",
    ],
)
def test_permanent_refusals_land_on_the_timeline(sqlite_url: str, fixtures_dir: Path, code: str) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        link = setup(w)
        w.slack.fail_next_call("chat.postMessage", code, times=None)
        incident = w.h.post_alert(link, json.dumps(alertmanager_body(1))).json()["incident_id"]
        w.h.queue.advance(60)
        timeline = w.h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        failures = [e["text"] for e in timeline if "chat card not updated" in e["text"]]
        assert failures and f"({code})" in failures[0]
        calls = len(w.slack.requests_to(r"/api/chat\.postMessage"))
        w.h.queue.advance(3600)
        assert len(w.slack.requests_to(r"/api/chat\.postMessage")) == calls  # permanent: no retry loop
        assert [s[2] for s in sent(w.h, incident)] == ["sms"]


def test_slack_outage_never_delays_sms(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        link = setup(w)
        w.slack.fail_next_call(None, "service_unavailable", status=503, times=None)
        incident = w.h.post_alert(link, json.dumps(alertmanager_body(1))).json()["incident_id"]
        w.h.queue.advance(120)
        assert [(s[0], s[2]) for s in sent(w.h, incident)] == [(0.0, "sms")]
        assert not w.cards()
        w.slack.clear_failures()
        w.h.queue.advance(60)
        assert len(w.cards()) == 1  # the card catches up once Slack is back
        timeline = w.h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        assert not [e for e in timeline if "chat card not updated" in e["text"]]
