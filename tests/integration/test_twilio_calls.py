"""Phone calls through the loopback fake Twilio: TwiML, the keypad, and calls that reach nobody."""

from __future__ import annotations

import pytest

from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import (
    CALL,
    SMS,
    deliveries,
    gather_action,
    public,
    state,
    timeline_texts,
    twilio_harness,
)

CALL_THEN_SMS = [
    {"type": "notify_by_phone_call"},
    {"type": "wait", "duration": 300},
    {"type": "notify_by_sms"},
]


def _call_then_sms(h) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    a = person(h, 1, [SMS, CALL], default_rules=CALL_THEN_SMS)
    b = person(h, 2, [SMS])
    chain(
        h,
        [
            {"type": "notify_persons", "persons": [a]},
            {"type": "wait", "duration": 900},
            {"type": "notify_persons", "persons": [b]},
        ],
    )
    return a, b


def test_call_answered_with_1_acknowledges(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"], "HighCPU api-1 & <db>")
        h.queue.run_due()
        [call] = fake.calls()
        assert call.to == "+15555550101"
        assert call.params["StatusCallback"] == public(h, "/twilio/voice/status")
        fake.send_call_status(call.sid, "ringing")
        twiml = fake.answer_call(call.sid)
        assert "HighCPU api-1 &amp; &lt;db&gt;" in twiml  # XML-escaped title
        assert twiml.count("<Gather") == 2  # the menu is repeated once
        assert twiml.rstrip().endswith("</Response>") and "Goodbye." in twiml
        spoken = fake.send_gather_digits(call.sid, "1", url=gather_action(twiml))
        assert spoken.status_code == 200
        assert "acknowledged by User 1" in spoken.text
        assert state(h, incident) == "acknowledged"
        fake.send_call_status(call.sid, "completed", duration=25)
        assert [d.status for d in deliveries(h, "phone_call")] == ["delivered"]
        h.queue.advance(3600)
        assert fake.messages() == [] or all("Reply 'ack" not in m.params["Body"] for m in fake.messages())


def test_keys_2_and_3_resolve_and_silence(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        link = integration(h, "E001")["link"]
        first = fire(h, link, "one")
        h.queue.run_due()
        call = fake.calls()[0]
        fake.send_gather_digits(call.sid, "2", url=gather_action(fake.answer_call(call.sid)))
        assert state(h, first) == "resolved"
        second = fire(h, link, "two")
        h.queue.advance(2)  # calls are paced: one a second per account
        call = fake.calls()[-1]
        assert call.sid != fake.calls()[0].sid
        answer = fake.send_gather_digits(call.sid, "3", url=gather_action(fake.answer_call(call.sid)))
        assert "silenced" in answer.text
        assert state(h, second) == "silenced"


def test_a_key_with_no_meaning_offers_the_menu_again_and_does_not_acknowledge(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        call = fake.calls()[0]
        answer = fake.send_gather_digits(call.sid, "9", url=gather_action(fake.answer_call(call.sid)))
        assert "<Gather" in answer.text
        again = fake.send_gather_digits(call.sid, "9", url=gather_action(answer.text))
        assert "<Gather" not in again.text
        fake.send_call_status(call.sid, "completed")
        h.queue.run_due()
        assert state(h, incident) == "firing"
        assert len(fake.messages()) == 1  # not reached: the SMS rule took over


@pytest.mark.parametrize("status", ["busy", "failed", "no-answer", "canceled"])
def test_unanswered_calls_fall_through_at_once(sqlite_url: str, status: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(20)
        [call] = fake.calls()
        assert fake.messages() == []
        fake.send_call_status(call.sid, "ringing")
        fake.send_call_status(call.sid, status, sip_response_code=480 if status == "failed" else None)
        h.queue.run_due()
        [message] = fake.messages()  # the SMS rule, now instead of at 300 s
        assert message.to == "+15555550101"
        assert [d.status for d in deliveries(h, "phone_call")] == ["failed"]
        assert any("phone_call to User 1 not reached" in t for t in timeline_texts(h, incident))
        assert state(h, incident) == "firing"
        # The chain's next step still comes on time.
        h.queue.advance(900 - 20)
        assert [m.to for m in fake.messages()] == ["+15555550101", "+15555550102"]


def test_voicemail_does_not_acknowledge(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        [call] = fake.calls()
        fake.answer_call(call.sid)  # a voicemail box picks up and listens to the whole menu
        fake.send_call_status(call.sid, "completed", duration=40)
        h.queue.run_due()
        assert state(h, incident) == "firing"
        assert len(fake.messages()) == 1
        assert any("without a key press" in t for t in timeline_texts(h, incident))


def test_permanent_call_error_falls_through(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        fake.fail_next_call("Calls", 21214, "'To' phone number cannot be reached")
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert fake.calls() == []
        assert len(fake.messages()) == 1
        assert any("21214" in t for t in timeline_texts(h, incident))


def test_updates_are_not_phoned(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        h.queue.run_due()
        assert len(fake.calls()) == 1
        assert deliveries(h, "phone_call", kind="update") == []


def test_a_call_answered_after_someone_else_acknowledged_says_so(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _call_then_sms(h)
        incident = fire(h, integration(h, "E001")["link"], "HighCPU api-1")
        h.queue.run_due()
        [call] = fake.calls()
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        twiml = fake.answer_call(call.sid)
        assert "<Gather" not in twiml
        assert "Incident 1: HighCPU api-1, is acknowledged already." in twiml


def test_an_acknowledgement_stops_the_other_phones_ringing(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [CALL])
        b = person(h, 2, [CALL])
        chain(h, [{"type": "notify_persons", "persons": [a, b]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(2)  # calls are paced: one a second per account
        calls = {c.to: c for c in fake.calls()}
        first, second = calls["+15555550101"], calls["+15555550102"]
        fake.send_call_status(second.sid, "ringing")
        fake.send_gather_digits(first.sid, "1", url=gather_action(fake.answer_call(first.sid)))
        assert state(h, incident) == "acknowledged"
        h.queue.run_due()
        assert fake.resource(second.sid).status == "canceled"  # User 2's phone stops ringing
        assert fake.resource(first.sid).status == "in-progress"  # the caller who answered is not cut off
        fake.send_call_status(second.sid, "canceled")
        fake.send_call_status(first.sid, "completed")
        rows = {d.user_id: d.status for d in deliveries(h, "phone_call")}
        assert rows == {a: "delivered", b: "cancelled"}
        assert not any("not reached" in t for t in timeline_texts(h, incident))
