"""The Telegram webhook route: secret check, repeats, strangers, other bots' buttons, gone incidents."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.telegram_api import make_message_update
from tests.support.escalation import chain, fire, integration, person
from tests.support.telegram import (
    ANA,
    GROUP,
    TelegramHarness,
    buttons,
    data_of,
    fixture_update,
    telegram_harness,
)

STRANGER = 100000077


def _incident_in_group(th: TelegramHarness) -> str:
    h = th.h
    a = person(h, 1, [{"type": "sms"}])
    h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
    chain(h, [{"type": "notify_persons", "persons": [a]}])
    incident = fire(h, integration(h, "E001")["link"], "disk full")
    h.queue.advance(30)
    return incident


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "tg-webhook-secret_"])
def test_wrong_or_missing_secret_is_refused_and_changes_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        incident = _incident_in_group(th)
        th.link("U001", ANA)
        [card] = th.cards(GROUP)
        update = th.api.callback_update(
            GROUP, card.message_id, data_of(card, "Acknowledge"), from_user_id=ANA
        )
        response = th.post_update(update, secret=secret)
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        assert th.api.callback_answers() == []
        # The same update with the right secret does act: the refusal did not mark it as seen.
        assert th.post_update(update).status_code == 200
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"


def test_a_repeated_update_id_is_handled_once(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        incident = _incident_in_group(th)
        th.link("U001", ANA)
        [card] = th.cards(GROUP)
        press = th.api.callback_update(GROUP, card.message_id, data_of(card, "Acknowledge"), from_user_id=ANA)
        assert th.post_update(press).status_code == 200
        assert th.post_update(press).status_code == 200  # Telegram's retry of the same update
        assert len(th.api.callback_answers()) == 1
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        command = make_message_update("/incidents", chat_id=GROUP, from_user_id=ANA)
        th.post_update(command)
        th.post_update(command)
        assert sum("#1 [acknowledged]" in m.text for m in th.api.messages(GROUP)) == 1


def test_an_unlinked_presser_is_told_how_to_link_and_nothing_changes(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        incident = _incident_in_group(th)
        [card] = th.cards(GROUP)
        th.press(GROUP, card.message_id, data_of(card, "Resolve"), from_user_id=STRANGER)
        [answer] = th.api.callback_answers()
        assert "not linked" in answer["text"] and "link CODE" in answer["text"]
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        th.command("/ack 1", chat_id=GROUP, from_user_id=STRANGER)
        assert "not linked" in th.api.messages(GROUP)[-1].text
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"


def test_a_press_for_an_incident_that_no_longer_exists(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        _incident_in_group(th)
        th.link("U001", ANA)
        [card] = th.cards(GROUP)
        th.press(GROUP, card.message_id, "v1:ack:IGONE0000000X", from_user_id=ANA)
        [answer] = th.api.callback_answers()
        assert answer["text"] == "This incident no longer exists."
        assert th.api.message(GROUP, card.message_id).reply_markup is None


def test_fixture_updates_from_other_bots(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, fixtures_dir: Path
) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        incident = _incident_in_group(th)
        th.link("U001", ANA)
        before = len(th.api.messages(GROUP))
        # Another bot's button ("/ack <uuid>") in the fixture group: a polite answer, nothing changes.
        assert (
            th.post_update(
                fixture_update(fixtures_dir, "tg_update_callback_query_group_ack.json")
            ).status_code
            == 200
        )
        [answer] = th.api.callback_answers()
        assert answer["callback_query_id"] == "1000000000000000001"
        assert "not one of Tocsin's" in answer["text"]
        assert th.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        # "/stop" in a group is another bot's command: Tocsin stays silent.
        assert (
            th.post_update(fixture_update(fixtures_dir, "tg_update_command_in_group.json")).status_code == 200
        )
        assert len(th.api.messages(GROUP)) == before
        assert len(th.api.messages(-400000002)) == 0


def test_link_by_deep_link_and_private_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        _incident_in_group(th)
        assert th.h.client.post("/api/v1/users/U001/telegram_link_code/").status_code == 401
        answer = th.h.ok("POST", "users/U001/telegram_link_code/")
        assert answer["deep_link"] == f"https://t.me/tocsin_test_bot?start={answer['code']}"
        th.command(f"/start {answer['code']}", chat_id=ANA, from_user_id=ANA)
        assert th.api.messages(ANA)[-1].text == "Linked: you are User 1 in Tocsin now."
        assert th.h.ok("GET", "users/U001/")["telegram_chat_id"] == str(ANA)
        th.command("/start " + answer["code"], chat_id=ANA, from_user_id=ANA)  # used up
        assert "unknown or expired" in th.api.messages(ANA)[-1].text
        th.command("/start", chat_id=ANA, from_user_id=ANA)
        assert "telegram_link_code" in th.api.messages(ANA)[-1].text
        th.command("/help", chat_id=ANA, from_user_id=ANA)
        assert "Tocsin commands" in th.api.messages(ANA)[-1].text
        th.command("/silence 1 30m", chat_id=ANA, from_user_id=ANA)
        assert th.api.messages(ANA)[-1].text == "#1 silenced by User 1 (silenced)."
        th.h.queue.advance(60)
        [card] = th.cards(GROUP)
        assert "SILENCED until" in card.text
        assert ("Unsilence", "v1:unsil:" + data_of(card, "Unsilence").split(":")[2]) in buttons(card)
