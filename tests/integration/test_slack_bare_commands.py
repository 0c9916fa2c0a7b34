"""``/oncall resolve`` with no number means the incident last paged to you: a later update about another
incident ("#1 acknowledged by User 2") must not change which one that is."""

from __future__ import annotations

from pathlib import Path

from bot.actions import Action, ActionKind, encode
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.slack import CHANNEL, slack_world

SLACK = {"type": "slack", "important": False}


def test_a_bare_resolve_acts_on_the_last_page_not_the_last_update(
    sqlite_url: str, fixtures_dir: Path
) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        h = w.h
        a = person(h, 1, channels=[SLACK])
        b = person(h, 2, channels=[SLACK])
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
        h.ok("PATCH", f"users/{a}/", {"slack_user_id": "UA"})
        h.ok("PATCH", f"users/{b}/", {"slack_user_id": "UB"})
        w.slack.add_user("UA")
        w.slack.add_user("UB")
        chain(h, [{"type": "notify_persons", "persons": [a, b]}])
        link = integration(h, "E001")["link"]
        first = fire(h, link, "disk full on db-1")
        h.queue.advance(60)
        second = fire(h, link, "cpu hot on api-2")
        h.queue.advance(60)
        assert {(user, kind) for _, user, _, kind in sent(h, second)} == {(a, "page"), (b, "page")}

        # User 2 acknowledges the first incident; User 1, paged for it too, is told so.
        w.press(encode(Action(ActionKind.ACKNOWLEDGE, first)), user="UB")
        h.queue.advance(60)
        assert (a, "update") in {(user, kind) for _, user, _, kind in sent(h, first)}

        # User 1 resolves "the one I was paged for": the second incident, the last page they got.
        w.command("resolve", user="UA")
        h.queue.run_due()
        assert h.ok("GET", f"incidents/{second}/")["state"] == "resolved"
        assert h.ok("GET", f"incidents/{first}/")["state"] == "acknowledged"


def test_incidents_says_when_the_list_is_not_all(sqlite_url: str, fixtures_dir: Path) -> None:
    """During a storm the list is the newest ten: it must not read as if those were all."""
    with slack_world(sqlite_url, fixtures_dir) as w:
        h = w.h
        a = person(h, 1, channels=[{"type": "sms", "important": False}])
        h.ok("PATCH", f"users/{a}/", {"slack_user_id": "UA"})
        w.slack.add_user("UA")
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        for n in range(12):
            fire(h, link, f"disk full on db-{n}")
        h.queue.run_due()
        w.command("incidents", user="UA")
        [answer] = w.ephemeral_texts("UA")
        assert "#12 [firing] disk full on db-11" in answer and "#3 [firing]" in answer
        assert "#2 [firing]" not in answer
        assert "12 open" in answer, answer

        w.command("resolve 12", user="UA")
        w.command("incidents", user="UA")
        answer = w.ephemeral_texts("UA")[-1]
        assert "11 open" in answer and "#2 [firing]" in answer, answer
