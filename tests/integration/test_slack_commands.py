"""``/oncall`` through the real ``/slack/events`` route: every command, linking, and requests Slack did
not sign (401, nothing changes)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.services import identities
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.slack import CHANNEL, SECRET, SlackWorld, slack_world

SMS = {"type": "sms", "important": False}
SCHEDULE = {
    "id": "S001",
    "name": "Primary",
    "team_id": "T001",
    "type": "calendar",
    "time_zone": "UTC",
    "shifts": [
        {
            "name": "Always",
            "type": "rolling_users",
            "users": ["U002"],
            "rotation_start": "2026-02-01T00:00:00Z",
            "duration": 604800,
            "frequency": "weekly",
        }
    ],
}


def setup(w: SlackWorld) -> str:
    h = w.h
    person(h, 1, channels=[SMS])
    person(h, 2, channels=[SMS])
    h.ok("PATCH", "teams/T001/", {"slack_channel_id": CHANNEL})
    h.ok("PATCH", "users/U001/", {"slack_user_id": "UA", "email": "user1@example.com"})
    h.ok("PATCH", "users/U002/", {"slack_user_id": "UB", "email": "user2@example.com"})
    for user in ("UA", "UB", "UX"):
        w.slack.add_user(user, email=f"{user.lower()}@example.com")
    h.ok("POST", "schedules/", SCHEDULE)
    chain(h, [{"type": "notify_persons", "persons": ["U001"]}])
    incident = fire(h, integration(h, "E001")["link"], "disk full on db-1")
    h.queue.run_due()
    return incident


def last_answer(w: SlackWorld, user: str) -> str:
    texts = w.ephemeral_texts(user)
    assert texts, f"no answer for {user}"
    return texts[-1]


def state(w: SlackWorld, incident: str) -> str:
    return str(w.h.ok("GET", f"incidents/{incident}/")["state"])


def test_every_command(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as w:
        incident = setup(w)
        w.command("help", user="UA")
        assert "Tocsin commands" in last_answer(w, "UA")

        w.command("who", user="UA")
        assert last_answer(w, "UA") == "On call in Primary now: User 2."
        w.command("who Nowhere", user="UA")
        assert "No schedule named 'Nowhere'" in last_answer(w, "UA")

        w.command("incidents", user="UA")
        assert "#1 [firing] disk full on db-1" in last_answer(w, "UA")

        w.command("ack 1", user="UA")
        assert state(w, incident) == "acknowledged"
        assert last_answer(w, "UA").startswith("#1 acknowledged by User 1")
        w.h.queue.run_due()
        card = w.cards()[0]
        thread = [m.text or "" for m in w.slack.thread_replies(CHANNEL, card.ts)]
        assert any("acknowledged" in t.lower() for t in thread)  # shared state is announced in the thread

        w.command("silence 1 1h", user="UA")
        assert state(w, incident) == "silenced"
        w.command("unsilence 1", user="UA")
        assert state(w, incident) != "silenced"

        w.command("resolve 1 cleaned up /var/log", user="UA")
        assert state(w, incident) == "resolved"
        notes = w.h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        assert any("cleaned up /var/log" in e["text"] for e in notes)

        w.command("ack 99", user="UA")
        assert "99" in last_answer(w, "UA")

        w.command("frobnicate", user="UA")
        assert "help" in last_answer(w, "UA")


def test_page_and_override(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        setup(w)
        w.command("page <@UB|bo> the database is down", user="UA")
        answer = last_answer(w, "UA")
        assert answer.startswith("Paged: incident #2"), answer
        w.h.queue.run_due()
        paged = w.h.ok("GET", "incidents/2/")
        assert ("U002", "sms") in {(s[1], s[2]) for s in sent(w.h, paged["id"])}

        w.command("page <@UX|stranger> hello", user="UA")
        assert "not linked to Tocsin" in last_answer(w, "UA")

        w.command("override Primary 2h", user="UA")
        announced = [
            m.text or "" for m in w.slack.messages(CHANNEL) if m.thread_ts is None and not m.attachments
        ]
        assert any(
            "User 1 takes the pager in Primary for 2 h, until 2026-02-09 16:00 UTC" in t for t in announced
        ), announced
        w.command("who", user="UB")
        assert last_answer(w, "UB") == "On call in Primary now: User 1."
        w.h.clock.advance(hours=2, seconds=1)
        w.command("who", user="UB")
        assert last_answer(w, "UB") == "On call in Primary now: User 2."


def test_link_by_slack_profile_email(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        incident = setup(w)
        w.h.ok(
            "POST",
            "users/",
            {
                "id": "U003",
                "name": "Cleo",
                "username": "cleo",
                "email": "Cleo@Example.com",
                "team_ids": ["T001"],
            },
        )
        w.slack.add_user("UC", email="cleo@example.com")
        w.command("ack 1", user="UC")
        assert "not linked to Tocsin" in last_answer(w, "UC")
        assert state(w, incident) == "firing"

        w.command("link", user="UC")
        assert last_answer(w, "UC") == "Linked: you are Cleo in Tocsin now."
        assert w.h.ok("GET", "users/U003/")["slack_user_id"] == "UC"
        w.command("ack 1", user="UC")
        assert state(w, incident) == "acknowledged"

        w.slack.add_user("UD", email="nobody@elsewhere.example")
        w.command("link", user="UD")
        assert "No Tocsin user has the e-mail address" in last_answer(w, "UD")

        with w.h.runtime.db.unit() as uow:
            code = identities.create_code(uow.session, w.h.clock, "U002")
        w.slack.add_user("UE")
        w.command(f"link {code}", user="UE")
        assert last_answer(w, "UE") == "Linked: you are User 2 in Tocsin now."
        assert w.h.ok("GET", "users/U002/")["slack_user_id"] == "UE"


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "future", "tampered", "unsigned"])
def test_unsigned_or_stale_requests_change_nothing(sqlite_url: str, fixtures_dir: Path, case: str) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        incident = setup(w)
        calls = len(w.slack.requests)
        body = w.command_body("ack 1", user="UA")
        now = int(time.time())
        if case == "wrong_secret":
            response = w.send(body, secret="not-the-secret")
        elif case == "stale":
            response = w.send(body, timestamp=now - 301)
        elif case == "future":
            response = w.send(body, timestamp=now + 301)
        elif case == "tampered":
            from tests.fakes.slack_api import sign_slack_request

            headers = sign_slack_request(SECRET, body, now)
            tampered = body.replace(b"ack+1", b"resolve+1")
            response = w.h.client.post(
                "/slack/events",
                content=tampered,
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
            )
        else:
            response = w.h.client.post(
                "/slack/events", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        assert response.status_code == 401
        w.h.queue.run_due()
        assert state(w, incident) == "firing"
        assert len(w.slack.requests) == calls


def test_published_signing_vectors_are_replays(sqlite_url: str, fixtures_dir: Path) -> None:
    """Slack's own example requests are correctly signed but years old: a replay, refused."""
    vectors = json.loads((fixtures_dir / "slack" / "slack_signing_vectors.json").read_text())["vectors"]
    with slack_world(sqlite_url, fixtures_dir, slack_signing_secret=vectors[0]["signing_secret"]) as w:
        for vector in vectors:
            raw = vector.get("raw_body")
            body = (
                raw.encode()
                if raw is not None
                else (fixtures_dir / "slack" / vector["raw_body_file"]).read_bytes()
            )
            response = w.h.client.post("/slack/events", content=body, headers=vector["headers"])
            assert response.status_code == 401, vector["name"]


def test_url_verification(sqlite_url: str, fixtures_dir: Path) -> None:
    with slack_world(sqlite_url, fixtures_dir) as w:
        body = json.dumps(
            {
                "token": "x",
                "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                "type": "url_verification",
            }
        ).encode()
        response = w.send(body, extra={"Content-Type": "application/json"})
        assert response.status_code == 200
        assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


def test_test_command_sends_a_realistic_alert_that_pages(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as w:
        setup(w)
        w.command("test checks", user="UA")  # the integration's name, any case
        w.h.queue.run_due()
        said = [m.text or "" for m in w.slack.messages(CHANNEL) if m.thread_ts is None and not m.attachments]
        assert any("User 1 sent a test alert to Checks: incident #2 (marked test)" in t for t in said), said
        test_incident = w.h.ok("GET", "incidents/2/")
        assert test_incident["state"] == "firing"
        with w.h.runtime.db.unit() as uow:
            from engine.db import Incident

            assert uow.session.get(Incident, test_incident["id"]).is_test
        # It went the real way: a card of its own, and the chain paged User 1.
        assert len([m for m in w.cards() if m.attachments]) == 2
        assert (0.0, "U001", "sms", "page") in [(0.0, *s[1:]) for s in sent(w.h, test_incident["id"])]

        w.command("test nowhere", user="UA")
        assert "No integration named 'nowhere'" in last_answer(w, "UA")
        w.command("test", user="UA")
        assert "test needs an integration" in last_answer(w, "UA")
        assert w.h.ok("GET", "incidents/")["count"] == 2  # nothing else opened
