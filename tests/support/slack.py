"""Driving Tocsin the way Slack does: a loopback Web API, and signed requests to ``/slack/events``
built from the shared fixtures (real Bolt test payloads)."""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.slack_api import FakeSlackApi, SlackMessage, sign_slack_request
from tests.support.harness import Harness, harness

SECRET = "test-signing-secret"
TOKEN = "xoxb-fake-bot-token"
CHANNEL = "C0OPS"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_triggers = itertools.count(1)


@dataclass
class SlackWorld:
    h: Harness
    slack: FakeSlackApi
    fixtures: Path

    # -- requests Slack sends -------------------------------------------------------------------------

    def send(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **sign_slack_request(secret, body, timestamp if timestamp is not None else int(time.time())),
            **(extra or {}),
        }
        return self.h.client.post("/slack/events", content=body, headers=headers)

    def action_body(self, value: str, *, user: str, **kwargs: Any) -> bytes:
        return block_actions_body(self.fixtures, value, user=user, **kwargs)

    def press(self, value: str, *, user: str, **kwargs: Any) -> httpx.Response:
        response = self.send(self.action_body(value, user=user, **kwargs))
        assert response.status_code == 200, response.text
        return response

    def command_body(self, text: str, *, user: str, channel: str = CHANNEL) -> bytes:
        raw = (self.fixtures / "slack" / "slack_slash_command.form").read_text()
        fields = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        fields.update(
            command="/oncall",
            text=text,
            user_id=user,
            channel_id=channel,
            trigger_id=f"cmd-{next(_triggers)}",
        )
        return urllib.parse.urlencode(fields).encode()

    def command(self, text: str, *, user: str, channel: str = CHANNEL) -> httpx.Response:
        response = self.send(self.command_body(text, user=user, channel=channel))
        assert response.status_code == 200, response.text
        return response

    def submit_view(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> httpx.Response:
        body = json.loads((self.fixtures / "slack" / "slack_view_submission.json").read_text())
        body["user"]["id"] = user
        body["view"].update(
            id=view["id"],
            hash=view["hash"],
            callback_id=view["callback_id"],
            private_metadata=view["private_metadata"],
            blocks=view["blocks"],
            state={"values": values},
        )
        raw = ("payload=" + urllib.parse.quote(json.dumps(body))).encode()
        response = self.send(raw)
        assert response.status_code == 200, response.text
        return response

    # -- what Slack shows -----------------------------------------------------------------------------

    def cards(self, channel: str = CHANNEL) -> list[SlackMessage]:
        return [m for m in self.slack.messages(channel) if m.thread_ts is None]

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.text or "" for e in self.slack.ephemerals() if e.user == user]


def block_actions_body(
    fixtures: Path,
    value: str,
    *,
    user: str,
    message_ts: str | None = None,
    channel: str = CHANNEL,
    action_id: str = "tocsin.0",
    select: bool = False,
    action_ts: str | None = None,
) -> bytes:
    """A ``block_actions`` request body as Slack sends it for a press of the button carrying ``value``."""
    body = json.loads((fixtures / "slack" / "slack_block_actions_button.json").read_text())
    body["user"]["id"] = user
    body["channel"]["id"] = channel
    body["container"].update(channel_id=channel, message_ts=message_ts or "1.0", is_ephemeral=False)
    body["trigger_id"] = f"trigger-{next(_triggers)}"
    action = body["actions"][0]
    action["action_id"] = action_id
    action["action_ts"] = action_ts or f"{time.time():.6f}-{next(_triggers)}"
    if select:
        action.update(
            type="static_select",
            selected_option={"text": {"type": "plain_text", "text": "x"}, "value": value},
        )
        action.pop("value")
    else:
        action["value"] = value
    return ("payload=" + urllib.parse.quote(json.dumps(body))).encode()


def blocks_of(message: SlackMessage) -> list[dict[str, Any]]:
    assert message.attachments, message
    blocks: list[dict[str, Any]] = message.attachments[0]["blocks"]
    return blocks


def buttons_of(message: SlackMessage) -> dict[str, str]:
    """Label → value (or url) of every button and silence option on a card."""
    found: dict[str, str] = {}
    for block in blocks_of(message):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["type"] == "button":
                found[element["text"]["text"]] = element.get("value") or element.get("url")
            else:
                for option in element["options"]:
                    found["Silence " + option["text"]["text"]] = option["value"]
    return found


def block_text(message: SlackMessage) -> str:
    return json.dumps(blocks_of(message), ensure_ascii=False)


@contextmanager
def slack_world(database_url: str, fixtures: Path, **settings: Any) -> Iterator[SlackWorld]:
    # slack_sdk's urllib honours proxy variables; a proxy would swallow loopback traffic.
    saved = {name: os.environ.pop(name) for name in PROXY_VARIABLES if name in os.environ}
    try:
        with _world(database_url, fixtures, **settings) as world:
            yield world
    finally:
        os.environ.update(saved)


@contextmanager
def _world(database_url: str, fixtures: Path, **settings: Any) -> Iterator[SlackWorld]:
    with FakeSlackApi(TOKEN) as slack:
        config = {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": slack.base_url,
            "slack_process_before_response": True,
            **settings,
        }
        with harness(database_url, **config) as h:
            yield SlackWorld(h, slack, fixtures)


def alertmanager_body(
    count: int, *, runbook: str | None = None, description: str = "disk is filling up", group: str = "g1"
) -> dict[str, Any]:
    """An Alertmanager webhook body with ``count`` firing alerts in one group."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"DiskFull{i}", "instance": f"db-{i}:9100", "severity": "critical"},
            "annotations": {"description": description, **({"runbook_url": runbook} if runbook else {})},
            "startsAt": "2026-02-09T13:59:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"https://prometheus.example.com/graph?g0.expr=disk{i}",
            "fingerprint": f"{group}-{i:04d}",
        }
        for i in range(count)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": group},
        "commonLabels": {"severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example.com",
        "alerts": alerts,
    }
