"""What Slack sends as ``/oncall`` text is escaped like every Slack message (``&`` as ``&amp;``, ``<`` as
``&lt;``, ``>`` as ``&gt;``; mentions stay ``<@U…|name>``): Tocsin stores what the person typed."""

from __future__ import annotations

from pathlib import Path

from tests.support.escalation import person
from tests.support.slack import CHANNEL, slack_world

SMS = {"type": "sms", "important": False}


def test_page_text_is_stored_as_typed(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        h = w.h
        a = person(h, 1, channels=[SMS])
        b = person(h, 2, channels=[SMS])
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
        h.ok("PATCH", f"users/{a}/", {"slack_user_id": "UA"})
        h.ok("PATCH", f"users/{b}/", {"slack_user_id": "UB"})
        w.slack.add_user("UA")
        w.slack.add_user("UB")
        # Typed: /oncall page @bo disk < 10% & falling -> R&D
        w.command("page <@UB|bo> disk &lt; 10% &amp; falling -&gt; R&amp;D", user="UA")
        h.queue.run_due()
        incident = h.ok("GET", "incidents/1/")
        assert incident["title"] == "disk < 10% & falling -> R&D"
        answer = w.ephemeral_texts("UA")[-1]
        assert (
            answer == "Paged: incident #1 disk &lt; 10% &amp; falling -&gt; R&amp;D"
        )  # escaped once, going out

        w.command("resolve 1 freed 5 GB &amp; rotated logs", user="UA")
        h.queue.run_due()
        notes = h.ok("GET", "incidents/1/timeline/")["notes"]
        assert [n["text"] for n in notes] == ["freed 5 GB & rotated logs"]
