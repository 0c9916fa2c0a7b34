"""SPEC/issue 7 "done when": add the bot to a group, link with one command, then page, act and ask."""

from __future__ import annotations

import pytest

from adapters.telegram import TelegramParts
from bot.cards import build_card
from bot.ports import MessageRef
from bot.publishing import read_snapshot
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.telegram import ANA, GROUP, buttons, data_of, telegram_harness

BOT_ID = 123456789  # FakeTelegramApi's default token starts with the bot's id


def test_add_the_bot_link_with_one_command_and_respond(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = person(h, 1, [{"type": "sms"}])
        h.ok(
            "POST",
            "schedules/",
            {
                "id": "S001",
                "name": "Primary",
                "team_id": "T001",
                "type": "calendar",
                "time_zone": "UTC",
                "shifts": [
                    {
                        "name": "24/7",
                        "type": "rolling_users",
                        "users": [a],
                        "rotation_start": "2026-01-05T00:00:00Z",
                        "duration": 604800,
                        "frequency": "weekly",
                    }
                ],
            },
        )
        h.ok("PATCH", "teams/T001/", {"primary_schedule_id": "S001"})
        chain(h, [{"type": "notify_persons", "persons": [a]}])

        # Someone adds the bot to the group: Telegram sends a service message; the bot says how to set up.
        added = {
            "update_id": 5001,
            "message": {
                "message_id": 1,
                "from": {"id": ANA, "is_bot": False, "first_name": "Ana"},
                "chat": {"id": GROUP, "type": "group", "title": "On-call"},
                "date": 1770645600,
                "new_chat_members": [{"id": BOT_ID, "is_bot": True, "first_name": "Tocsin"}],
            },
        }
        assert th.post_update(added).status_code == 200
        assert "/link CODE" in th.api.messages(GROUP)[-1].text

        # A wrong code changes nothing.
        th.command("/link WRONG234", chat_id=GROUP, from_user_id=ANA)
        assert "unknown or expired" in th.api.messages(GROUP)[-1].text
        assert h.ok("GET", "teams/T001/")["telegram_chat_id"] is None

        # One command in the group links Ana and routes the team's incidents here.
        code = h.ok("POST", "users/U001/telegram_link_code/")["code"]
        th.command(f"/link@tocsin_test_bot {code}", chat_id=GROUP, from_user_id=ANA)
        texts = [m.text for m in th.api.messages(GROUP)[-2:]]
        assert texts == [
            "Linked: you are User 1 in Tocsin now.",
            "This chat now receives the incidents of Platform.",
        ]
        assert h.ok("GET", "teams/T001/")["telegram_chat_id"] == str(GROUP)

        th.command("/who", chat_id=GROUP, from_user_id=ANA)
        assert th.api.messages(GROUP)[-1].text == "On call in Primary now: User 1."

        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(30)
        [card] = [m for m in th.cards(GROUP) if m.reply_markup]
        th.press(GROUP, card.message_id, data_of(card, "Resolve"), from_user_id=ANA)
        h.queue.advance(30)
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "resolved"
        assert "RESOLVED by User 1" in th.api.message(GROUP, card.message_id).text


def test_ack_on_a_personal_page_stops_the_escalation(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = person(h, 1, [{"type": "telegram"}])
        b = person(h, 2, [{"type": "sms"}])
        th.link(a, ANA)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 600},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(60)
        [page] = [m for m in th.api.messages(ANA) if "You are paged" in m.text]
        th.press(ANA, page.message_id, data_of(page, "Acknowledge"), from_user_id=ANA)
        assert th.api.callback_answers()[-1]["text"] == "#1 acknowledged by User 1."
        h.queue.advance(3600)
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        assert [(user, channel) for _, user, channel, kind in sent(h, incident) if kind == "page"] == [
            (a, "telegram")
        ]


def test_an_edit_that_changes_nothing_counts_as_done(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        person(h, 1, [{"type": "sms"}])
        h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        incident = fire(h, integration(h, None)["link"], "disk full")
        h.queue.advance(30)
        [card] = th.cards(GROUP)
        [part] = [p for p in h.runtime.providers if isinstance(p, TelegramParts)]
        assert part.publisher is not None
        same = build_card(read_snapshot(h.runtime.deps, incident))
        h.clock.advance(2)
        part.publisher.edit_card(MessageRef(str(GROUP), str(card.message_id)), same)  # no error raised
        assert th.api.requests_to(r".*/editMessageText")[-1].status == 400  # Telegram said "not modified"
        assert buttons(th.api.message(GROUP, card.message_id)) == buttons(card)
