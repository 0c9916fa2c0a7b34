"""The issue's "done when": chat, then SMS, then a call; the person stops it from the SMS or the keypad."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from tests.fakes.http_fake import Reply
from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import CALL, SMS, deliveries, gather_action, public, state, twilio_harness

CHAT_SMS_CALL = [
    {"type": "notify_by_slack"},
    {"type": "wait", "duration": 60},
    {"type": "notify_by_sms"},
    {"type": "wait", "duration": 120},
    {"type": "notify_by_phone_call"},
]
SLACK = {"type": "slack", "slack_user_id": "U0SLACK01", "important": False}


def _setup(h) -> str:  # type: ignore[no-untyped-def]
    a = person(h, 1, [SLACK, SMS, CALL], default_rules=CHAT_SMS_CALL)
    b = person(h, 2, [SMS])
    chain(
        h,
        [
            {"type": "notify_persons", "persons": [a]},
            {"type": "wait", "duration": 900},
            {"type": "notify_persons", "persons": [b]},
        ],
    )
    return fire(h, integration(h, "E001")["link"], "HighCPU api-1")


def test_chat_then_sms_then_call_and_the_keypad_acknowledges(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        incident = _setup(h)
        h.queue.advance(59)
        assert fake.messages() == [] and fake.calls() == []
        h.queue.advance(1)
        assert [m.to for m in fake.messages()] == ["+15555550101"]
        h.queue.advance(119)
        assert fake.calls() == []
        h.queue.advance(1)
        [call] = fake.calls()
        twiml = fake.answer_call(call.sid)
        fake.send_gather_digits(call.sid, "1", url=gather_action(twiml))
        fake.send_call_status(call.sid, "completed", duration=20)
        assert state(h, incident) == "acknowledged"
        h.queue.advance(3600)
        assert "+15555550102" not in [m.to for m in fake.messages()]


def test_chat_then_sms_and_the_reply_acknowledges_before_the_call(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        incident = _setup(h)
        h.queue.advance(90)
        [message] = fake.messages()
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_=message.to, body="ack")
        assert "acknowledged by User 1" in reply.text
        h.queue.advance(3600)
        assert fake.calls() == []
        assert state(h, incident) == "acknowledged"
        assert "+15555550102" not in [m.to for m in fake.messages()]


@pytest.mark.postgres
def test_an_acknowledgement_during_a_send_keeps_the_sent_page_and_tells_its_person(postgres_url: str) -> None:
    with twilio_harness(postgres_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        [job] = [j for j in h.queue.due() if j.kind == "delivery.send.v1"]
        del h.queue.waiting[job.id]
        # Twilio accepts the SMS but answers slowly: the acknowledgement comes in meanwhile.
        accepted = {"sid": "SM" + "e" * 32, "status": "queued", "to": "+15555550101", "from": "+15555550199"}
        slow = replace(Reply.json(accepted, status=201), delay=1.0)
        fake.fail_next(r".*/Messages\.json", slow, method="POST")
        sending = threading.Thread(target=h.runtime.run, args=(job,))
        sending.start()
        fake.wait_for_request(lambda r: r.path.endswith("/Messages.json"))
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        sending.join(10)
        [page] = deliveries(h, "sms")
        assert (page.status, page.provider_id) == ("sent", "SM" + "e" * 32)
        h.queue.advance(5)  # SMS are paced: one segment a second
        [update] = deliveries(h, "sms", kind="update")
        assert update.status == "sent" and "acknowledged" in update.data["text"]
