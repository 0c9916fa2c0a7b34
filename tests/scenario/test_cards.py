"""Incident cards: posted once per chat, edited in place on every change, thread lines for the story.

Without chat credentials the console stands in for Slack and Telegram and prints what they would get.
"""

from __future__ import annotations

from bot.actions import Action, ActionKind
from bot.conversation import Conversation
from bot.inbound import ButtonPressed, ChatIdentity, Provider
from tests.support.escalation import chain, fire, integration, person
from tests.support.harness import harness


def test_card_lifecycle_on_the_console(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a = person(h, 1)
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": "C0OPS", "telegram_chat_id": "-4001"})
        h.ok("PATCH", f"users/{a}/", {"slack_user_id": "UA"})
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.run_due()
        out = h.console.getvalue()
        assert out.count("[slack C0OPS] card posted: 🔴 #1 disk full — FIRING [Acknowledge]") == 1
        assert out.count("[telegram -4001] card posted:") == 1
        assert "↳" in out and "page to User 1" in out

        conversation = Conversation(h.runtime.deps)
        replies = conversation.handle(
            ButtonPressed(
                ChatIdentity(Provider.SLACK, "UA", "C0OPS"), Action(ActionKind.ACKNOWLEDGE, incident)
            )
        )
        assert replies[0].text == "#1 acknowledged by User 1."
        h.queue.run_due()
        out = h.console.getvalue()
        assert "[slack C0OPS] card updated: 🟠 #1 disk full — ACKNOWLEDGED by User 1 [Unacknowledge]" in out
        assert out.count("card posted") == 2  # still one card per chat

        stranger = conversation.handle(
            ButtonPressed(ChatIdentity(Provider.SLACK, "UX", "C0OPS"), Action(ActionKind.RESOLVE, incident))
        )
        assert "not linked" in stranger[0].text and stranger[0].ephemeral
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"

        again = conversation.handle(
            ButtonPressed(
                ChatIdentity(Provider.SLACK, "UA", "C0OPS"), Action(ActionKind.ACKNOWLEDGE, incident)
            )
        )
        assert "it is acknowledged by User 1" in again[0].text
