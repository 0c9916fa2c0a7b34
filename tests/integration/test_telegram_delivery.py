"""What Tocsin sends to Telegram: limits, escaping, flood control, moved and blocked chats, setup commands."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.telegram.cli import run_set_webhook, serve_polling
from tests.fakes.http_fake import Reply
from tests.fakes.telegram_api import make_message_update, utf16_length, visible_text
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.telegram import ANA, GROUP, SECRET, buttons, data_of, telegram_harness

SUPERGROUP = -1001234567890


def _alertmanager(count: int, title: str) -> dict[str, object]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.local",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": f"host-{i:02d}.example.local"},
                "annotations": {"summary": f"{title} on host-{i:02d} " + "x" * 150},
                "startsAt": "2026-12-04T07:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.local/graph",
                "fingerprint": f"{i:016x}",
            }
            for i in range(count)
        ],
    }


def test_a_25_alert_group_fits_in_one_message(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        person(h, 1, [{"type": "sms"}])
        h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        link = h.ok("POST", "integrations/", {"type": "alertmanager", "name": "AM", "team_id": "T001"})[
            "link"
        ]
        response = h.post_alert(link, json.dumps(_alertmanager(25, "Disk < 10% left & falling")))
        assert response.status_code == 200, response.text
        h.queue.advance(300)
        [card] = th.cards(GROUP)
        shown = visible_text(card.text, card.parse_mode)
        assert utf16_length(shown) <= 4096
        assert "…and " in shown and " more" in shown
        assert "< 10% left & falling" in shown  # escaped in HTML, shown literally
        assert [label for label, _ in buttons(card)][:2] == ["Acknowledge", "Resolve"]
        # Thread lines follow as replies, paced to one a second: later publishes wait in virtual time.
        lines = [m.text for m in th.replies(GROUP, card.message_id)]
        assert any("25 alert(s) received" in line for line in lines)
        retries = [j.run_at for j in h.queue.ran if j.kind == "event.publish.v1" and j.run_at is not None]
        assert len(retries) >= len(lines) - 1
        assert all((later - earlier).total_seconds() >= 1 for earlier, later in itertools.pairwise(retries))


def test_less_than_and_ampersand_are_shown_literally(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = th.group_responder()
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"], "<b>Disk</b> < 10% left & R&D")
        h.queue.advance(30)
        [card] = th.cards(GROUP)
        assert "&lt;b&gt;Disk&lt;/b&gt; &lt; 10% left &amp; R&amp;D" in card.text
        assert "<b>Disk</b> < 10% left & R&D" in visible_text(card.text, "HTML")
        page = th.api.messages(ANA)[-1]
        assert "<b>Disk</b> < 10% left & R&D" in visible_text(page.text, "HTML")


def test_flood_control_retry_after_is_honoured(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = th.group_responder()
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        h.queue.advance(10)
        th.api.rate_limit_next("sendMessage", retry_after=7, chat_id=GROUP)
        th.api.rate_limit_next("sendMessage", retry_after=12, chat_id=ANA)
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(5)
        assert th.cards(GROUP) == []
        assert not [m for m in th.api.messages(ANA) if "You are paged" in m.text]
        h.queue.advance(5)  # 10 s: past the card's 7 s
        assert len(th.cards(GROUP)) == 1
        assert not [m for m in th.api.messages(ANA) if "You are paged" in m.text]
        h.queue.advance(5)  # 15 s: past the page's 12 s
        assert len([m for m in th.api.messages(ANA) if "You are paged" in m.text]) == 1
        assert [user for _, user, channel, _ in sent(h, incident) if channel == "telegram"] == [a]


def test_flood_control_on_a_card_edit_retries_the_edit(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        th.group_responder("sms")
        fire(h, integration(h, None)["link"], "disk full")
        h.queue.advance(30)
        [card] = th.cards(GROUP)
        th.api.rate_limit_next("editMessageText", retry_after=20)
        th.press(GROUP, card.message_id, data_of(card, "Acknowledge"), from_user_id=ANA)
        h.queue.advance(10)
        assert "FIRING" in th.api.message(GROUP, card.message_id).text
        h.queue.advance(15)
        assert "ACKNOWLEDGED by User 1" in th.api.message(GROUP, card.message_id).text


def test_a_group_that_became_a_supergroup_is_followed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(database_url, monkeypatch) as th:
        h = th.h
        a = th.group_responder("sms")
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        th.api.migrate_chat(GROUP, SUPERGROUP)
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(30)
        assert th.cards(GROUP) == []
        [card] = th.cards(SUPERGROUP)
        assert h.ok("GET", "teams/T001/")["telegram_chat_id"] == str(SUPERGROUP)
        th.press(SUPERGROUP, card.message_id, data_of(card, "Acknowledge"), from_user_id=ANA)
        h.queue.advance(60)
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        [card] = th.cards(SUPERGROUP)
        assert "ACKNOWLEDGED by User 1" in card.text
        # The next incident goes straight to the supergroup.
        fire(h, integration(h, "E001")["link"], "cpu hot")
        h.queue.advance(30)
        assert len(th.cards(SUPERGROUP)) == 2


def test_a_migration_announced_by_update_moves_the_stored_chat(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        th.h.ok("POST", "teams/", {"id": "T001", "name": "Platform", "telegram_chat_id": str(GROUP)})
        update = {
            "update_id": 7001,
            "message": {
                "message_id": 99,
                "from": {"id": ANA, "is_bot": False, "first_name": "Ana"},
                "chat": {"id": GROUP, "type": "group", "title": "On-call"},
                "date": 1764831600,
                "migrate_to_chat_id": SUPERGROUP,
            },
        }
        assert th.post_update(update).status_code == 200
        assert th.h.ok("GET", "teams/T001/")["telegram_chat_id"] == str(SUPERGROUP)


def test_a_blocked_bot_fails_the_page_for_good(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = person(h, 1, [{"type": "telegram"}, {"type": "sms"}])
        th.link(a, ANA)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        th.api.block_bot(ANA)
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(120)
        timeline = h.ok("GET", f"incidents/{incident}/timeline/")
        entries = timeline["results"] if isinstance(timeline, dict) else timeline
        assert any("telegram" in e["text"] and "blocked" in e["text"] for e in entries)
        assert [channel for _, _, channel, _ in sent(h, incident)] == ["sms"]


def test_set_webhook_and_long_polling(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, fixtures_dir: Path
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        settings = Settings(
            telegram_bot_token=th.api.token,
            telegram_webhook_secret=SECRET,
            telegram_api_url=th.api.base_url,
            public_url="https://oncall.example.com/",
        )
        assert run_set_webhook(settings) == "https://oncall.example.com/telegram/webhook"
        assert th.api.webhook is not None
        assert th.api.webhook["url"] == "https://oncall.example.com/telegram/webhook"
        assert th.api.webhook["secret_token"] == SECRET

        th.h.ok("POST", "teams/", {"id": "T001", "name": "Platform"})
        th.link(person(th.h, 1), ANA)
        # Two getUpdates answers: the shared fixture (another bot's /stop in a group), then /incidents.
        fixture = json.loads(
            (fixtures_dir / "telegram" / "tg_getupdates_response_command_in_group.json").read_text()
        )
        command = make_message_update("/incidents", chat_id=GROUP, from_user_id=ANA)
        command["update_id"] = fixture["result"][0]["update_id"] + 1
        for body in (fixture, {"ok": True, "result": [command]}):
            th.api.fail_next(r"/bot[^/]+/getUpdates", Reply.json(body))

        stop = threading.Event()
        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(serve_polling(th.h.runtime.providers, stop)))
        worker.start()
        try:
            th.api.wait_for(lambda: th.api.messages(GROUP), timeout=30)
            later = th.api.wait_for_request(
                lambda r: r.path.endswith("/getUpdates") and not r.injected and r.status == 200, timeout=30
            )
        finally:
            stop.set()
            worker.join(60)
        assert th.api.webhook is None  # polling removed the webhook first
        assert [m.text for m in th.api.messages(GROUP)] == ["No open incidents. 🎉"]
        assert th.api.messages(-400000002) == []  # /stop was not for us
        assert int(later.params["offset"]) == command["update_id"] + 1
        assert result == [2]
