"""A personal page in a private chat: its buttons act, and the message shows what they did."""

from __future__ import annotations

import pytest

from tests.support.escalation import chain, fire, integration
from tests.support.telegram import ANA, GROUP, buttons, data_of, telegram_harness


def test_a_pressed_page_shows_the_new_state(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        a = th.group_responder()
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(30)
        [page] = [m for m in th.api.messages(ANA) if "You are paged" in m.text]
        assert [label for label, _ in buttons(page)] == ["Acknowledge", "Resolve", "Silence 1 h"]

        th.press(ANA, page.message_id, data_of(page, "Acknowledge"), from_user_id=ANA)
        h.queue.advance(30)
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        page = th.api.message(ANA, page.message_id)
        # Not the firing keyboard any more: pressing Acknowledge again could only fail.
        assert [label for label, _ in buttons(page)] == ["Unacknowledge", "Resolve", "Silence 1 h"]
        assert "ACKNOWLEDGED by User 1" in page.text

        th.press(ANA, page.message_id, data_of(page, "Resolve"), from_user_id=ANA)
        h.queue.advance(30)
        page = th.api.message(ANA, page.message_id)
        assert [label for label, _ in buttons(page)] == ["Unresolve"]
        assert "RESOLVED by User 1" in page.text
        # The group card is the publisher's and was updated as usual, once.
        [card] = th.cards(GROUP)
        assert "RESOLVED by User 1" in card.text


def test_a_deleted_group_card_is_posted_again(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(sqlite_url, monkeypatch) as th:
        h = th.h
        th.group_responder("sms")
        incident = fire(h, integration(h, None)["link"], "disk full")
        h.queue.advance(30)
        [old] = th.cards(GROUP)
        th.api.fail_next_call("editMessageText", 400, "Bad Request: message to edit not found", chat_id=GROUP)
        th.command("/ack 1", chat_id=GROUP, from_user_id=ANA)
        h.queue.advance(60)
        cards = [c for c in th.cards(GROUP) if c.reply_markup]
        assert len(cards) == 2 and cards[0].message_id == old.message_id
        assert "ACKNOWLEDGED by User 1" in cards[1].text
        timeline = h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        assert not [e for e in timeline if "chat card not updated" in e["text"]]
