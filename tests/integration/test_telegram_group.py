"""Telegram in a group, driven the way Telegram drives Tocsin: webhook updates in, Bot API calls out."""

from __future__ import annotations

import pytest

from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.telegram import ANA, GROUP, buttons, data_of, telegram_harness

BEN = 100000002


def test_full_lifecycle_in_a_group(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(database_url, monkeypatch) as th:
        h = th.h
        a = person(h, 1, [{"type": "telegram"}])
        b = person(h, 2, [{"type": "sms"}])
        h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        th.link(a, ANA)
        assert th.api.messages(ANA)[-1].text == "Linked: you are User 1 in Tocsin now."
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 1800},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.advance(30)

        [card] = th.cards(GROUP)
        assert card.parse_mode == "HTML"
        assert "<b>#1 disk full</b>" in card.text and "FIRING" in card.text
        assert [label for label, _ in buttons(card)] == ["Acknowledge", "Resolve", "Silence 1 h"]
        assert all(len(value.encode()) <= 64 for _, value in buttons(card))
        page = th.api.messages(ANA)[-1]
        assert "You are paged" in page.text and "#1 disk full" in page.text
        assert [label for label, _ in buttons(page)] == ["Acknowledge", "Resolve", "Silence 1 h"]

        # Ana acknowledges from the group card: the callback is answered and the card edited in place.
        th.press(GROUP, card.message_id, data_of(card, "Acknowledge"), from_user_id=ANA)
        assert th.api.callback_answers()[-1]["text"] == "#1 acknowledged by User 1."
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        h.queue.advance(60)
        [card] = th.cards(GROUP)
        assert "ACKNOWLEDGED by User 1" in card.text
        assert [label for label, _ in buttons(card)] == ["Unacknowledge", "Resolve", "Silence 1 h"]
        assert any("acknowledged" in r.text.lower() for r in th.replies(GROUP, card.message_id))

        # The acknowledgement stopped the escalation: Ben is never paged.
        h.queue.advance(3600)
        assert [user for _, user, _, kind in sent(h, incident) if kind == "page"] == [a]

        # Commands in the group, also addressed to the bot by name.
        th.command("/incidents", chat_id=GROUP, from_user_id=ANA)
        assert "#1 [acknowledged] disk full" in th.api.messages(GROUP)[-1].text
        th.command("/who", chat_id=GROUP, from_user_id=ANA)
        assert "schedule" in th.api.messages(GROUP)[-1].text
        th.command("/resolve@tocsin_test_bot 1", chat_id=GROUP, from_user_id=ANA)
        assert th.api.messages(GROUP)[-1].text == "#1 resolved by User 1 (resolved)."
        th.command("/ack@some_other_bot 1", chat_id=GROUP, from_user_id=ANA)  # not for us: silence
        assert th.api.messages(GROUP)[-1].text == "#1 resolved by User 1 (resolved)."
        h.queue.advance(60)
        [card] = th.cards(GROUP)
        assert "RESOLVED by User 1" in card.text
        assert [label for label, _ in buttons(card)] == ["Unresolve"]
