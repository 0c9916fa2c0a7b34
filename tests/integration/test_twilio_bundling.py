"""Pages for several incidents to one number within 30 s share one SMS; the first is never delayed."""

from __future__ import annotations

from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import SMS, deliveries, public, state, twilio_harness


def test_incidents_within_the_window_share_one_sms(database_url: str) -> None:
    with twilio_harness(database_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        first = fire(h, link, "first")
        h.queue.run_due()
        assert len(fake.messages()) == 1  # at once
        later = []
        for name in ("second", "third", "fourth"):
            h.queue.advance(5)
            later.append(fire(h, link, name))
        h.queue.advance(14)  # 29 s after the first SMS
        assert len(fake.messages()) == 1
        h.ok("POST", f"incidents/{later[0]}/acknowledge/")  # acknowledged while held: left out
        h.queue.advance(1)
        [_, bundle] = fake.messages()
        body = bundle.params["Body"]
        assert body.startswith("[Tocsin] 2 incidents: #3 third; #4 fourth")
        assert "#2" not in body
        assert "Reply 'ack 4' or 'resolve 4'" in body
        rows = {d.incident_id: d for d in deliveries(h, "sms")}
        assert rows[first].provider_id != bundle.sid
        assert rows[later[1]].provider_id == rows[later[2]].provider_id == bundle.sid
        assert rows[later[0]].status == "cancelled"

        fake.send_sms_status(bundle.sid, "delivered")
        assert {rows_id: d.status for rows_id, d in ((d.incident_id, d) for d in deliveries(h, "sms"))} == {
            first: "sent",
            later[0]: "cancelled",
            later[1]: "delivered",
            later[2]: "delivered",
        }
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ack 3")
        assert "#3 acknowledged" in reply.text
        assert state(h, later[1]) == "acknowledged"
        assert state(h, later[2]) == "firing"


def test_pages_spaced_beyond_the_window_go_alone(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        fire(h, link, "first")
        h.queue.advance(31)
        fire(h, link, "second")
        h.queue.run_due()
        assert [m.params["Body"].split(" - ")[0] for m in fake.messages()] == [
            "[Tocsin] #1 first",
            "[Tocsin] #2 second",
        ]


def test_a_failed_bundle_falls_through_for_every_incident_in_it(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(
            h,
            1,
            [SMS, {"type": "phone_call", "important": False}],
            default_rules=[
                {"type": "notify_by_sms"},
                {"type": "wait", "duration": 600},
                {"type": "notify_by_phone_call"},
            ],
        )
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        fire(h, link, "first")
        h.queue.run_due()
        fire(h, link, "second")
        h.queue.advance(2)
        fire(h, link, "third")
        h.queue.advance(30)
        bundle = fake.messages()[-1]
        assert "2 incidents" in bundle.params["Body"]
        fake.send_sms_status(bundle.sid, "undelivered", error_code=30003)
        h.queue.advance(5)  # calls are paced one a second
        assert len(fake.calls()) == 2  # one per incident in the failed bundle, not at 600 s


def test_a_bare_ack_after_a_bundle_asks_which_incident(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        fire(h, link, "first")
        h.queue.run_due()
        second, third = fire(h, link, "second"), fire(h, link, "third")
        h.queue.advance(30)
        assert "2 incidents" in fake.messages()[-1].params["Body"]
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ack")
        assert "The last SMS named #2, #3." in reply.text
        assert state(h, second) == state(h, third) == "firing"
        h.ok("POST", f"incidents/{second}/resolve/")
        reply = fake.send_inbound_sms(public(h, "/twilio/sms"), from_="+15555550101", body="ACK")
        assert "#3 acknowledged by User 1" in reply.text
