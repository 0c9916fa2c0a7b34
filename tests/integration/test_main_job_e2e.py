"""The main job end to end, on the production shape, with a real sender.

`tocsin serve` and `tocsin worker` run as processes on PostgreSQL and Redis with Slack, Telegram and
Twilio credentials pointing at the loopback fakes. A real Prometheus Alertmanager sends the alerts. The
incident's card reaches Slack and Telegram, the on-call person is paged in Slack, then by SMS, then by a
phone call; a Slack Acknowledge press (signed, built from the button Tocsin actually sent) stops the
escalation before it reaches the backup; Alertmanager's repeats open nothing new and its resolve
notification resolves the incident and edits the card.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.slack_api import FakeSlackApi, sign_slack_request
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.twilio_api import FakeTwilioApi
from tests.support.alertmanager import alert, alertmanager, post_alerts
from tests.support.processes import free_port, process_env, running, wait_for, wait_ready
from tests.support.slack import block_actions_body, buttons_of

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "e2e-admin-token"
SIGNING_SECRET = "e2e-signing-secret"
CHANNEL = "C0OPS"
GROUP_CHAT = "-400000001"
ANA_SLACK = "U123456"
ANA_PHONE = "+15555550101"
BOB_PHONE = "+15555550102"
FROM_NUMBER = "+15555550100"


@dataclass
class World:
    base: str
    api: httpx.Client
    slack: FakeSlackApi
    telegram: FakeTelegramApi
    twilio: FakeTwilioApi
    logs: Path

    def incidents(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self.api.get("/incidents/").json()["results"]
        return results

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("*.log"))
        )

    def cards(self) -> list[Any]:
        return [m for m in self.slack.messages(CHANNEL) if m.thread_ts is None]

    def press(self, fixtures: Path, value: str, message_ts: str) -> httpx.Response:
        body = block_actions_body(fixtures, value, user=ANA_SLACK, message_ts=message_ts, channel=CHANNEL)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **sign_slack_request(SIGNING_SECRET, body, int(time.time())),
        }
        return httpx.post(f"{self.base}/slack/events", content=body, headers=headers, timeout=10)


@contextmanager
def production(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[World]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlackApi())
        telegram = stack.enter_context(FakeTelegramApi())
        twilio = stack.enter_context(FakeTwilioApi())
        slack.add_user(ANA_SLACK, email="ana@example.com")
        env = process_env(
            TOCSIN_DATABASE_URL=postgres_url,
            TOCSIN_REDIS_URL=redis_url,
            TOCSIN_PUBLIC_URL=base,
            TOCSIN_API_TOKEN=TOKEN,
            TOCSIN_SWEEP_INTERVAL_SECONDS="1",
            TOCSIN_SLACK_BOT_TOKEN="xoxb-fake-bot-token",
            TOCSIN_SLACK_SIGNING_SECRET=SIGNING_SECRET,
            TOCSIN_SLACK_API_URL=slack.base_url,
            TOCSIN_TELEGRAM_BOT_TOKEN=telegram.token,
            TOCSIN_TELEGRAM_WEBHOOK_SECRET="e2e-telegram-secret",
            TOCSIN_TELEGRAM_API_URL=telegram.base_url,
            TOCSIN_TWILIO_ACCOUNT_SID=twilio.account_sid,
            TOCSIN_TWILIO_AUTH_TOKEN=twilio.auth_token,
            TOCSIN_TWILIO_FROM_NUMBER=FROM_NUMBER,
            TOCSIN_TWILIO_API_URL=twilio.origin,
        )
        server = stack.enter_context(running(["serve", "--port", str(port)], env, tmp_path / "serve.log"))
        stack.enter_context(running(["worker"], env, tmp_path / "worker.log"))
        wait_ready(base, server, tmp_path / "serve.log")
        api = stack.enter_context(
            httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        )
        yield World(base, api, slack, telegram, twilio, tmp_path)


def ok(api: httpx.Client, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.request(method, path, json=body)
    assert response.status_code < 300, (path, response.status_code, response.text)
    result: dict[str, Any] = response.json()
    return result


def add_integration(api: httpx.Client, integration_type: str, name: str = "Production") -> str:
    body = {
        "type": integration_type,
        "name": name,
        "team_id": "T001",
        "default_route": {"escalation_chain_id": "E001"},
    }
    return str(ok(api, "POST", "/integrations/", body)["link"])


def configure(api: httpx.Client, integration_type: str) -> str:
    """Ana is paged in Slack, then by SMS, then by phone; Bob is the backup 15 s later."""
    team = {"id": "T001", "name": "Platform", "slack_channel_id": CHANNEL, "telegram_chat_id": GROUP_CHAT}
    ok(api, "POST", "/teams/", team)
    for user_id, name, phone, slack_id in (
        ("U001", "Ana", ANA_PHONE, ANA_SLACK),
        ("U002", "Bob", BOB_PHONE, None),
    ):
        user = {
            "id": user_id,
            "name": name,
            "username": name.lower(),
            "email": f"{name.lower()}@example.com",
            "team_ids": ["T001"],
            "phone_number": phone,
            "phone_verified": True,
            **({"slack_user_id": slack_id} if slack_id else {}),
        }
        ok(api, "POST", "/users/", user)
    ana_channels = {
        "user_id": "U001",
        "notification_channels": [
            {"type": "slack", "slack_user_id": ANA_SLACK, "important": False},
            {"type": "sms", "phone_number": ANA_PHONE, "important": True},
            {"type": "phone_call", "phone_number": ANA_PHONE, "important": True},
        ],
        "default_rules": [
            {"type": "notify_by_slack"},
            {"type": "wait", "duration": 2},
            {"type": "notify_by_sms"},
            {"type": "wait", "duration": 2},
            {"type": "notify_by_phone_call"},
        ],
    }
    ok(api, "PUT", "/users/U001/notification_channels/", ana_channels)
    bob_channels = {
        "user_id": "U002",
        "notification_channels": [{"type": "sms", "phone_number": BOB_PHONE, "important": False}],
    }
    ok(api, "PUT", "/users/U002/notification_channels/", bob_channels)
    chain = {
        "id": "E001",
        "name": "Ana then Bob",
        "team_id": "T001",
        "steps": [
            {"type": "notify_persons", "persons": ["U001"]},
            {"type": "wait", "duration": 15},
            {"type": "notify_persons", "persons": ["U002"]},
        ],
    }
    ok(api, "POST", "/escalation_chains/", chain)
    return add_integration(api, integration_type)


def to(resources: list[Any], number: str) -> list[Any]:
    return [r for r in resources if r.to == number]


def test_alertmanager_to_chat_sms_call_and_slack_ack(
    postgres_url: str, redis_url: str, tmp_path: Path, fixtures_dir: Path
) -> None:
    with production(postgres_url, redis_url, tmp_path) as w:
        link = configure(w.api, "alertmanager")
        with alertmanager(link, tmp_path, repeat="3s") as am:
            post_alerts(am, [alert("HighCPU", "api", "api-1"), alert("HighCPU", "api", "api-2")])
            try:
                wait_for(
                    lambda: len(w.incidents()) == 1 and w.incidents()[0]["alerts_count"] == 2, timeout=30
                )
                opened = time.monotonic()
                # The card, in the team's Slack channel and Telegram group.
                card = wait_for(lambda: (w.cards() or [None])[0], timeout=20)
                wait_for(lambda: w.telegram.messages(int(GROUP_CHAT)), timeout=20)
                # Ana: Slack DM, then SMS, then a phone call; each on the fakes.
                wait_for(lambda: w.slack.messages(w.slack.dm_channel(ANA_SLACK)), timeout=20)
                wait_for(lambda: to(w.twilio.messages(), ANA_PHONE), timeout=20)
                wait_for(lambda: to(w.twilio.calls(), ANA_PHONE), timeout=20)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{w.log_tail()}") from exc
            incident = w.incidents()[0]
            assert incident["state"] == "firing"
            assert "HighCPU" in incident["title"]

            # Ana presses Acknowledge on the card Tocsin posted (its real button value).
            card = w.slack.message(CHANNEL, card.ts)
            buttons = buttons_of(card)
            assert "Acknowledge" in buttons, buttons
            pressed = w.press(fixtures_dir, buttons["Acknowledge"], card.ts)
            assert pressed.status_code == 200, pressed.text
            wait_for(lambda: w.incidents()[0]["state"] == "acknowledged", timeout=15)
            assert w.incidents()[0]["acknowledged_by"]
            wait_for(lambda: "Acknowledge" not in buttons_of(w.slack.message(CHANNEL, card.ts)), timeout=15)
            pages_at_ack = (len(w.twilio.messages()), len(w.twilio.calls()))

            # Past the 15 s wait: Bob, the backup, is never paged; Ana gets nothing more.
            time.sleep(max(0.0, opened + 19 - time.monotonic()))
            assert to(w.twilio.messages(), BOB_PHONE) == []
            # Ana pressed the button herself: she is not texted about it either.
            assert (len(w.twilio.messages()), len(w.twilio.calls())) == pages_at_ack
            # Alertmanager repeated the group every 3 s meanwhile: still one incident, still two alerts.
            assert len(w.incidents()) == 1
            assert w.incidents()[0]["alerts_count"] == 2

            post_alerts(
                am,
                [
                    alert("HighCPU", "api", "api-1", resolved=True),
                    alert("HighCPU", "api", "api-2", resolved=True),
                ],
            )
            wait_for(lambda: w.incidents()[0]["state"] == "resolved", timeout=30)
            # The card was edited to its resolved form: no action buttons left.
            wait_for(
                lambda: (
                    not {"Resolve", "Acknowledge", "Unacknowledge"}
                    & set(buttons_of(w.slack.message(CHANNEL, card.ts)))
                ),
                timeout=15,
            )
            assert len(w.cards()) == 1
            assert len(w.incidents()) == 1
        serve_log = (tmp_path / "serve.log").read_text(errors="replace")
        assert serve_log.count("POST /integrations/v1/alertmanager/") >= 3


def resolved_version(payload: dict[str, Any]) -> dict[str, Any]:
    """What Grafana sends when the same alerts recover."""
    body = copy.deepcopy(payload)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body["status"] = "resolved"
    if "state" in body:
        body["state"] = "ok"
    for item in body.get("alerts", []):
        item["status"] = "resolved"
        item["endsAt"] = now
    return body


GRAFANA_HEADERS = {"Content-Type": "application/json", "User-Agent": "Grafana"}


def grafana_flow(w: World, grafana: httpx.Client, fixtures_dir: Path, path: Path) -> str | None:
    """Post one fixture as Grafana would; page, acknowledge from the Slack card, resolve as Grafana would."""
    payload = json.loads(path.read_text())
    link = add_integration(w.api, "grafana_alerting", name=path.stem[:60])
    cards_before = len(w.cards())
    dms_before = len(w.slack.messages(w.slack.dm_channel(ANA_SLACK)))
    answer = grafana.post(link, content=json.dumps(payload), headers=GRAFANA_HEADERS)
    assert answer.status_code == 200, (path.name, answer.text)
    result = answer.json()
    if not any(a.get("status", "firing") == "firing" for a in payload["alerts"]):
        # Only recoveries, for nothing open: stored, nobody paged, no card.
        assert result["status"] == "resolved" and result["incident_id"] is None, (path.name, result)
        return None
    assert result["status"] == "created", (path.name, result)
    incident_id = str(result["incident_id"])

    def state() -> str:
        return str(w.api.get(f"/incidents/{incident_id}/").json()["state"])

    try:
        card = wait_for(lambda: len(w.cards()) > cards_before and w.cards()[-1], timeout=20)
        wait_for(lambda: len(w.slack.messages(w.slack.dm_channel(ANA_SLACK))) > dms_before, timeout=20)
    except AssertionError as exc:
        raise AssertionError(f"{path.name}: {exc}\n{w.log_tail()}") from exc
    pressed = w.press(fixtures_dir, buttons_of(card)["Acknowledge"], card.ts)
    assert pressed.status_code == 200, pressed.text
    wait_for(lambda: state() == "acknowledged", timeout=15)

    again = grafana.post(link, content=json.dumps(resolved_version(payload)), headers=GRAFANA_HEADERS)
    assert again.status_code == 200 and again.json()["incident_id"] == incident_id, again.text
    wait_for(lambda: state() == "resolved", timeout=15)
    wait_for(lambda: "Resolve" not in buttons_of(w.slack.message(CHANNEL, card.ts)), timeout=15)
    return incident_id


def test_every_grafana_fixture_pages_acks_from_slack_and_resolves(
    postgres_url: str, redis_url: str, tmp_path: Path, fixtures_dir: Path
) -> None:
    with production(postgres_url, redis_url, tmp_path) as w, httpx.Client(timeout=10) as grafana:
        configure(w.api, "grafana_alerting")
        opened = [
            grafana_flow(w, grafana, fixtures_dir, p)
            for p in sorted((fixtures_dir / "grafana").glob("*.json"))
        ]
        incidents = [i for i in opened if i is not None]
        assert len(opened) == 6 and len(incidents) == 5
        assert {i["id"] for i in w.incidents()} == set(incidents)
        assert all(i["state"] == "resolved" for i in w.incidents())
