"""SMS pages through the loopback fake Twilio: replies, status callbacks, failures, STOP/START."""

from __future__ import annotations

from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import (
    CALL,
    SMS,
    deliveries,
    public,
    state,
    timeline_texts,
    twilio_harness,
)


def _sms_then_call(h, wait: int) -> str:  # type: ignore[no-untyped-def]
    """User 1 texted first, called ``wait`` seconds later; the chain pages them alone."""
    a = person(
        h,
        1,
        [SMS, CALL],
        default_rules=[
            {"type": "notify_by_sms"},
            {"type": "wait", "duration": wait},
            {"type": "notify_by_phone_call"},
        ],
    )
    chain(h, [{"type": "notify_persons", "persons": [a]}])
    return a


def _two_step_chain(h, a: str, b: str) -> None:  # type: ignore[no-untyped-def]
    chain(
        h,
        [
            {"type": "notify_persons", "persons": [a]},
            {"type": "wait", "duration": 600},
            {"type": "notify_persons", "persons": [b]},
        ],
    )


def test_sms_page_and_ack_reply_stop_the_escalation(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        a, b = person(h, 1, [SMS]), person(h, 2, [SMS])
        _two_step_chain(h, a, b)
        incident = fire(h, integration(h, "E001")["link"], "HighCPU api-1")
        number = h.ok("GET", f"incidents/{incident}/")["number"]
        h.queue.run_due()
        [message] = fake.messages()
        assert message.to == "+15555550101"
        assert message.from_ == "+15555550199"
        body = message.params["Body"]
        assert body.startswith(f"[Tocsin] #{number} HighCPU api-1")
        assert body.endswith(f"Reply 'ack {number}' or 'resolve {number}'")
        assert message.params["StatusCallback"] == public(h, "/twilio/sms/status")

        assert fake.send_sms_status(message.sid, "queued").status_code == 204
        assert [(d.status, d.data["provider_status"]) for d in deliveries(h, "sms")] == [("sent", "queued")]
        assert fake.send_sms_status(message.sid, "sent").status_code == 204
        assert fake.send_sms_status(message.sid, "delivered").status_code == 204
        assert [d.status for d in deliveries(h, "sms")] == ["delivered"]

        h.queue.advance(120)
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body=f"ack {number}")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/xml")
        assert f"#{number} acknowledged by User 1" in reply.text
        assert state(h, incident) == "acknowledged"

        h.queue.advance(3600)
        assert [m.to for m in fake.messages() if "Reply 'ack" in m.params["Body"]] == ["+15555550101"]

        again = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body=f"{number}a")
        assert "already" in again.text or "it is acknowledged by User 1 at" in again.text


def test_bare_ack_means_the_latest_incident_sent_to_this_number(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ACK")
        assert "acknowledged by User 1" in reply.text
        assert state(h, incident) == "acknowledged"


def test_resolve_reply_from_an_unknown_number_changes_nothing(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550999", body="resolve 1")
        assert reply.status_code == 200
        assert "<Message>" in reply.text
        assert state(h, incident) == "firing"


def test_failed_status_callback_goes_on_the_timeline_and_falls_through(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _sms_then_call(h, wait=300)
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(10)
        [message] = fake.messages()
        assert fake.calls() == []
        fake.send_sms_status(message.sid, "failed", error_code=30007)
        h.queue.run_due()
        assert len(fake.calls()) == 1  # at once, not at 300 s
        assert [d.status for d in deliveries(h, "sms")] == ["failed"]
        assert any("30007" in t and "filtered by the carrier" in t for t in timeline_texts(h, incident))
        # A repeated report changes nothing and pages nobody twice.
        fake.send_sms_status(message.sid, "failed", error_code=30007)
        h.queue.advance(600)
        assert len(fake.calls()) == 1


def test_permanent_error_is_not_retried_and_the_next_step_fires_on_time(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        b = person(h, 2, [SMS])
        _two_step_chain(h, a, b)
        fake.fail_next_call(
            "Messages", 21211, "The 'To' number is not a valid phone number.", to="+15555550101"
        )
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(599)
        assert len(fake.requests_to(r".*/Messages\.json")) == 1  # tried once, never again
        assert fake.messages() == []
        [failed] = deliveries(h, "sms")
        assert failed.status == "failed"
        assert failed.attempts == 1
        assert any("21211" in t for t in timeline_texts(h, incident))
        h.queue.advance(1)
        assert [m.to for m in fake.messages()] == ["+15555550102"]


def test_server_errors_and_rate_limits_are_retried(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fake.server_error_next("Messages", status=503)
        fake.rate_limit_next("Messages")
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert fake.messages() == []
        assert [d.status for d in deliveries(h, "sms")] == ["retrying"]
        h.queue.advance(60)
        assert len(fake.messages()) == 1
        [sent] = deliveries(h, "sms")
        assert (sent.status, sent.attempts) == ("sent", 3)


def test_long_titles_stay_within_two_segments_with_the_reply_hint(sqlite_url: str) -> None:
    from bot.text import sms_segments

    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"], "disk full on " + "very-long-host-name " * 30)
        h.queue.run_due()
        body = fake.messages()[0].params["Body"]
        assert sms_segments(body) <= 2
        assert body.endswith("Reply 'ack 1' or 'resolve 1'")


def test_stop_moves_to_the_next_rule_and_start_undoes_it(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        _sms_then_call(h, wait=300)
        link = integration(h, "E001")["link"]
        stop = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="STOP")
        assert stop.status_code == 200
        assert "<Message>" not in stop.text  # Twilio answers STOP itself

        first = fire(h, link, "first")
        h.queue.run_due()
        assert fake.messages() == []
        assert [c.to for c in fake.calls()] == ["+15555550101"]  # the next rule, at once
        assert any("replied STOP" in t for t in timeline_texts(h, first))

        fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="start")
        fire(h, link, "second")
        h.queue.run_due()
        assert [m.to for m in fake.messages()] == ["+15555550101"]


def test_bare_ack_after_the_texted_incident_was_resolved_touches_no_other_incident(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        chat = {"type": "slack", "slack_user_id": "U0SLACK1", "important": True}
        a = person(h, 1, [SMS, chat])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        chain(h, [{"type": "notify_persons", "persons": [a], "important": True}], chain_id="E002")
        texted = fire(h, integration(h, "E001")["link"], "texted")
        h.queue.run_due()
        assert len(fake.messages()) == 1
        h.ok("POST", f"incidents/{texted}/resolve/")
        h.queue.advance(60)
        # A later page for another incident went to Slack, never to this phone.
        elsewhere = fire(h, integration(h, "E002")["link"], "elsewhere")
        h.queue.run_due()
        assert [d.incident_id for d in deliveries(h, "slack")] == [elsewhere]
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ACK")
        assert reply.status_code == 200
        assert state(h, elsewhere) == "firing"
        assert "#1" in reply.text and "resolved" in reply.text


def test_an_unreadable_answer_from_twilio_is_retried_a_few_times_then_falls_through(sqlite_url: str) -> None:
    from tests.fakes.http_fake import Reply

    with twilio_harness(sqlite_url) as (h, fake):
        _sms_then_call(h, wait=900)
        # A proxy in the way answers 200 with a login page instead of Twilio's JSON.
        html = Reply(status=200, body=b"<html>Sign in</html>", headers={"Content-Type": "text/html"})
        fake.fail_next(r".*/Messages\.json", html, times=None, method="POST")
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(600)
        tries = len(fake.requests_to(r".*/Messages\.json"))
        assert 1 < tries <= 6
        [row] = deliveries(h, "sms")
        assert row.status == "failed"
        assert any("sms to User 1 failed" in t for t in timeline_texts(h, incident))
        assert [c.to for c in fake.calls()] == ["+15555550101"]  # the next rule, long before 900 s


def test_a_reply_naming_an_impossibly_large_incident_number_gets_an_answer(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ack 99999999999")
        assert reply.status_code == 200  # PostgreSQL's integer column overflowed: Twilio got a 500
        assert "does not exist" in reply.text
        assert state(h, incident) == "firing"
        assert h.api("GET", "incidents/99999999999/").status_code == 404


def test_twilios_other_opt_out_words_count_as_stop(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        _sms_then_call(h, wait=300)
        # Twilio's default opt-out words for long codes include REVOKE and OPTOUT; it stops our texts.
        optout = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="optout")
        assert "<Message>" not in optout.text
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert fake.messages() == []
        assert [c.to for c in fake.calls()] == ["+15555550101"]


def test_stops_at_the_same_moment_record_one_opt_out(postgres_url: str) -> None:
    import threading

    from sqlalchemy import func, select

    from engine.db import SmsOptOut
    from engine.services import phones
    from tests.support.harness import harness

    with harness(postgres_url) as h:
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def stop() -> None:
            start.wait()
            try:
                phones.opt_out(h.runtime.deps, "+15555550199")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=stop) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with h.runtime.db.unit() as uow:
            assert uow.session.scalar(select(func.count()).select_from(SmsOptOut)) == 1


def test_a_21610_refusal_is_remembered_as_an_opt_out(sqlite_url: str) -> None:
    """Twilio refuses a number that opted out at the carrier: later pages skip SMS at once."""
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fake.fail_next_call("Messages", 21610, "Attempt to send to unsubscribed recipient", to="+15555550101")
        link = integration(h, "E001")["link"]
        fire(h, link, "first")
        h.queue.advance(60)
        assert len(fake.requests_to(r".*/Messages\.json")) == 1
        second = fire(h, link, "second")
        h.queue.advance(60)
        assert len(fake.requests_to(r".*/Messages\.json")) == 1  # not tried again: the number opted out
        assert any("opted out" in t.lower() or "stop" in t.lower() for t in timeline_texts(h, second))
