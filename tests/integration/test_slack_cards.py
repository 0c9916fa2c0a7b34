"""Slack end to end: incident cards posted and edited in place, buttons pressed through the real
``/slack/events`` route with signed requests, DMs for personal pages, and the fake Slack recording it all."""

from __future__ import annotations

import json
from pathlib import Path

from bot.actions import Action, ActionKind, encode
from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.slack import (
    CHANNEL,
    SlackWorld,
    alertmanager_body,
    block_text,
    blocks_of,
    buttons_of,
    slack_world,
)

SLACK = {"type": "slack", "important": False}


class Receiver(HttpFake):
    """An outgoing-webhook target that accepts anything."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply.json({"ok": True})


SMS = {"type": "sms", "important": False}


def setup(w: SlackWorld, *, channels: list[dict[str, object]] | None = None) -> tuple[str, str]:
    """Team with the channel, User 1 linked as Slack UA, a chain that pages User 1 then waits; an alert."""
    h = w.h
    a = person(h, 1, channels=channels)
    person(h, 2, channels=[SMS])
    h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
    h.ok("PATCH", f"users/{a}/", {"slack_user_id": "UA", "email": "user1@example.com"})
    w.slack.add_user("UA", email="user1@example.com", name="ana")
    w.slack.add_user("UB", email="user2@example.com", name="bo")
    w.slack.add_user("UX", email="nobody@example.com", name="stranger")
    chain(
        h,
        [
            {"type": "notify_persons", "persons": [a]},
            {"type": "wait", "duration": 600},
            {"type": "notify_persons", "persons": ["U002"]},
        ],
    )
    incident = fire(h, integration(h, "E001")["link"], "disk full on db-1")
    h.queue.run_due()
    return a, incident


def test_card_lifecycle_through_buttons(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as w:
        _, incident = setup(w)
        [card] = w.cards()
        assert "🔴 #1 disk full on db-1" in block_text(card)
        assert blocks_of(card)[0]["type"] == "header"
        assert card.attachments and card.attachments[0]["color"] == "#D0021B"
        buttons = buttons_of(card)
        assert buttons["Acknowledge"] == encode(Action(ActionKind.ACKNOWLEDGE, incident))
        assert {"Resolve", "Add note", "Page more", "Silence 30 min", "Silence 24 h"} <= set(buttons)

        w.press(buttons["Acknowledge"], user="UA", message_ts=card.ts)
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        [card] = w.cards()
        assert len(card.edits) == 1 and "*ACKNOWLEDGED by User 1* at 14:00 UTC, Feb 09" in block_text(card)
        assert card.attachments and card.attachments[0]["color"] == "#F5A623"
        assert "Unacknowledge" in buttons_of(card) and "Acknowledge" not in buttons_of(card)
        thread = [m.text or "" for m in w.slack.thread_replies(CHANNEL, card.ts)]
        assert any("acknowledged" in t.lower() and "User 1" in t for t in thread)

        # The escalation stopped: the second step never pages User 2.
        w.h.queue.advance(3600)
        assert not [s for s in sent(w.h, incident) if s[1] == "U002"]

        w.press(buttons_of(card)["Unacknowledge"], user="UA", message_ts=card.ts)
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"

        w.press(buttons_of(w.cards()[0])["Silence 1 h"], user="UA", action_id="tocsin.silence", select=True)
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "silenced"
        card = w.cards()[0]
        assert "SILENCED until" in block_text(card) and "Unsilence" in buttons_of(card)

        w.press(buttons_of(card)["Unsilence"], user="UA")
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"

        w.press(buttons_of(w.cards()[0])["Resolve"], user="UA")
        w.h.queue.run_due()
        card = w.cards()[0]
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "resolved"
        assert card.attachments and card.attachments[0]["color"] == "#2EB67D"
        assert set(buttons_of(card)) == {"Unresolve"}  # a resolved card drops its action buttons

        w.press(buttons_of(card)["Unresolve"], user="UA")
        w.h.queue.run_due()
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        assert len(w.cards()) == 1  # one card, edited in place all along


def test_double_press_and_duplicate_delivery(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as w:
        _, incident = setup(w)
        w.h.ok("PATCH", "users/U002/", {"slack_user_id": "UB"})
        ack = encode(Action(ActionKind.ACKNOWLEDGE, incident))
        body = w.action_body(ack, user="UA", action_ts="1700000000.000001")
        assert w.send(body).status_code == 200
        retry = w.send(body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        assert retry.status_code == 200
        w.h.queue.run_due()
        timeline = w.h.ok("GET", f"incidents/{incident}/timeline/")
        entries = timeline["results"] if isinstance(timeline, dict) else timeline
        assert sum(1 for e in entries if e["kind"] == "acknowledged") == 1
        assert not w.ephemeral_texts("UA")  # the retry was dropped, not answered "already acknowledged"

        w.press(ack, user="UB")
        [answer] = w.ephemeral_texts("UB")
        assert "acknowledged by User 1 at" in answer
        assert w.h.ok("GET", f"incidents/{incident}/")["acknowledged_by"] == "User 1"


def test_unlinked_user_changes_nothing(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        _, incident = setup(w)
        requests_before = len(w.slack.requests_to(r"/api/chat\.update"))
        w.press(encode(Action(ActionKind.ACKNOWLEDGE, incident)), user="UX")
        w.command("ack 1", user="UX")
        w.press(encode(Action(ActionKind.ADD_NOTE, incident)), user="UX")
        w.h.queue.run_due()
        answers = w.ephemeral_texts("UX")
        assert len(answers) == 3
        assert all("not linked to Tocsin" in a and "link" in a for a in answers)
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        assert len(w.slack.requests_to(r"/api/chat\.update")) == requests_before
        assert not w.slack.views()


def test_add_note_and_page_more_modals(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        _, incident = setup(w)
        w.h.ok("PATCH", "users/U002/", {"slack_user_id": "UB"})
        card = w.cards()[0]
        w.press(buttons_of(card)["Add note"], user="UA", message_ts=card.ts)
        [view] = w.slack.views().values()
        assert view["callback_id"] == "tocsin_note"
        w.submit_view(
            view,
            {"note": {"text": {"type": "plain_text_input", "value": "rebooting <db-1> & co"}}},
            user="UA",
        )
        w.h.queue.run_due()
        thread = [m.text or "" for m in w.slack.thread_replies(CHANNEL, card.ts)]
        assert any("rebooting &lt;db-1&gt; &amp; co" in t for t in thread), thread

        w.press(buttons_of(w.cards()[0])["Page more"], user="UA", message_ts=card.ts)
        view = next(v for v in w.slack.views().values() if v["callback_id"] == "tocsin_page_more")
        values = {"users": {"users": {"type": "multi_users_select", "selected_users": ["UB", "UX"]}}}
        w.submit_view(view, values, user="UA")
        w.h.queue.run_due()
        assert ("U002", "sms") in {(s[1], s[2]) for s in sent(w.h, incident)}
        assert any("Paged User 2 for #1" in t and "not linked" in t for t in w.ephemeral_texts("UA"))


def test_personal_page_is_a_dm_with_the_card(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as w:
        _, incident = setup(w, channels=[SLACK])
        dm = w.slack.dm_channel("UA")
        [message] = w.slack.messages(dm)
        assert "You are paged for #1 disk full on db-1" in (message.text or "")
        buttons = buttons_of(message)
        assert buttons["Acknowledge"] == encode(Action(ActionKind.ACKNOWLEDGE, incident))
        assert ("U001", "slack") in {(s[1], s[2]) for s in sent(w.h, incident)}

        # The DM's button works like the channel card's.
        w.press(buttons["Acknowledge"], user="UA", channel=dm, message_ts=message.ts)
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"
        message = w.slack.message(dm, message.ts)
        assert "ACKNOWLEDGED by User 1" in block_text(message) and "Unacknowledge" in buttons_of(message)


def test_webhook_and_runbook_buttons(sqlite_url: str, fixtures_dir: Path) -> None:
    with (
        Receiver() as receiver,
        slack_world(sqlite_url, fixtures_dir, webhook_allowed_hosts="127.0.0.1") as w,
    ):
        h = w.h
        person(h, 1)
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
        h.ok("PATCH", "users/U001/", {"slack_user_id": "UA"})
        w.slack.add_user("UA")
        manual = h.ok(
            "POST", "webhooks/", {"name": "Restart Pod", "webhook_url": f"{receiver.origin}/restart"}
        )
        chain(h, [{"type": "notify_persons", "persons": ["U001"]}])
        link = h.ok(
            "POST",
            "integrations/",
            {
                "type": "alertmanager",
                "name": "AM",
                "team_id": "T001",
                "default_route": {"escalation_chain_id": "E001"},
            },
        )["link"]
        response = h.post_alert(
            link, json.dumps(alertmanager_body(1, runbook="https://wiki.example.com/disk"))
        )
        incident = response.json()["incident_id"]
        h.queue.run_due()
        buttons = buttons_of(w.cards()[0])
        assert buttons["Runbook"] == "https://wiki.example.com/disk"
        assert buttons["Restart Pod"] == encode(
            Action(ActionKind.TRIGGER_WEBHOOK, incident, webhook_id=manual["id"])
        )

        runbook = w.action_body("", user="UA", action_id="tocsin.runbook.5")
        assert w.send(runbook).status_code == 200
        assert not w.ephemeral_texts("UA")  # Slack opens the URL itself

        w.press(buttons["Restart Pod"], user="UA")
        h.queue.run_due()
        assert len(receiver.requests_to(r"^/restart$")) == 1
        assert any("Webhook triggered" in t for t in w.ephemeral_texts("UA"))


def test_slack_gets_its_answer_before_the_work_is_done(sqlite_url: str, fixtures_dir: Path) -> None:
    """Without process_before_response (production), Bolt acks at once and the listener runs on."""
    with slack_world(sqlite_url, fixtures_dir, slack_process_before_response=False) as w:
        _, incident = setup(w)
        response = w.command("ack 1", user="UA")
        assert response.status_code == 200 and response.text == ""
        [answer] = w.slack.wait_for(lambda: w.ephemeral_texts("UA"), timeout=30)
        assert answer.startswith("#1 acknowledged by User 1")
        assert w.h.ok("GET", f"incidents/{incident}/")["state"] == "acknowledged"


def test_cards_go_to_the_route_then_integration_then_team_channel(
    sqlite_url: str, fixtures_dir: Path
) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        h = w.h
        person(h, 1)
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": "C0TEAM"})
        chain(h, [{"type": "notify_persons", "persons": ["U001"]}])
        plain = integration(h, "E001")
        own = h.ok(
            "POST",
            "integrations/",
            {
                "type": "webhook",
                "name": "Own",
                "team_id": "T001",
                "slack_channel_id": "C0INT",
                "default_route": {"escalation_chain_id": "E001"},
            },
        )
        routed = h.ok(
            "POST",
            "integrations/",
            {
                "type": "webhook",
                "name": "Routed",
                "team_id": "T001",
                "slack_channel_id": "C0INT2",
                "default_route": {"escalation_chain_id": "E001", "slack_channel_id": "C0ROUTE"},
            },
        )
        fire(h, plain["link"], "team alert")
        fire(h, own["link"], "integration alert")
        fire(h, routed["link"], "route alert")
        h.queue.run_due()
        assert "team alert" in block_text(w.cards("C0TEAM")[0])
        assert "integration alert" in block_text(w.cards("C0INT")[0])
        assert "route alert" in block_text(w.cards("C0ROUTE")[0])
        assert not w.cards("C0INT2")
