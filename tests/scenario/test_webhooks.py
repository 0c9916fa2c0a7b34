"""Outgoing webhooks through the real engine and a loopback receiver: triggers, signature, retries,
and the refusal of private addresses without the allow-list."""

from __future__ import annotations

import hashlib
import hmac
import json

from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply
from tests.support.escalation import chain, fire, integration, person
from tests.support.harness import harness


class Receiver(HttpFake):
    """Accepts anything with 200; failures are injected with ``fail_next``."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply.json({"ok": True})


def _timeline(h, incident: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        e["text"] for e in h.ok("GET", f"incidents/{incident}/timeline/")["results"] if e["kind"] == "webhook"
    ]


def test_triggers_signature_and_retries(sqlite_url: str) -> None:
    with Receiver() as receiver, harness(sqlite_url, webhook_allowed_hosts="127.0.0.1") as h:
        a = person(h, 1)
        created = h.ok(
            "POST",
            "webhooks/",
            {
                "name": "Open ticket",
                "webhook_url": f"{receiver.origin}/tickets",
                "trigger_type": "incident_created",
                "data": '{"title": {{ incident.title | tojson }}, "labels": {{ payload.labels | tojson }}}',
                "secret": "s3cret",
                "team_id": "T001",
            },
        )
        assert created["has_secret"] is True and "secret" not in created
        manual = h.ok(
            "POST",
            "webhooks/",
            {"name": "Restart Pod", "webhook_url": f"{receiver.origin}/restart", "data": "{{ payload }}"},
        )
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "trigger_webhook", "webhook_id": manual["id"]},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"], "disk full")
        h.queue.run_due()

        tickets = receiver.requests_to(r"^/tickets$")
        assert len(tickets) == 1
        body = tickets[0].body
        assert json.loads(body)["title"] == "disk full"
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert tickets[0].header("x-tocsin-signature") == expected
        # The escalation step fired the manual webhook too.
        assert len(receiver.requests_to(r"^/restart$")) == 1

        receiver.fail_next(r"^/restart$", Reply.json({"error": "busy"}, status=503), times=2)
        accepted = h.ok("POST", f"webhooks/{manual['id']}/trigger/", {"incident_id": incident})
        assert accepted["status"] == "queued"
        h.queue.advance(600)
        restarts = receiver.requests_to(r"^/restart$")
        assert [r.status for r in restarts] == [200, 503, 503, 200]
        texts = _timeline(h, incident)
        assert any("retrying" in t for t in texts)
        assert sum("HTTP 200" in t for t in texts) == 3


def test_private_address_refused_without_allow_list(sqlite_url: str) -> None:
    with Receiver() as receiver, harness(sqlite_url) as h:
        person(h, 1)
        hook = h.ok("POST", "webhooks/", {"name": "Local", "webhook_url": f"{receiver.origin}/x"})
        incident = fire(h, integration(h, None)["link"], "cpu")
        h.ok("POST", f"webhooks/{hook['id']}/trigger/", {"incident_id": incident})
        h.queue.run_due()
        assert receiver.requests_to(r"^/x$") == []
        texts = _timeline(h, incident)
        assert any("refused" in t and "TOCSIN_WEBHOOK_ALLOWED_HOSTS" in t for t in texts), texts
