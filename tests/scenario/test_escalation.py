"""Escalation behaviour in virtual time (the issue's "must hold" list), through the real API."""

from __future__ import annotations

from engine.jobs import sweep
from tests.support.escalation import chain, fire, integration, person, sent
from tests.support.harness import harness

SMS = {"type": "sms", "important": False}
CALL = {"type": "phone_call", "important": False}


def test_a_then_wait_then_b(database_url: str) -> None:
    with harness(database_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 1800},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        link = integration(h, "E001")["link"]
        incident = fire(h, link)
        h.queue.advance(1799)
        assert sent(h) == [(0.0, a, "console", "page")]
        h.queue.advance(1)
        assert sent(h) == [(0.0, a, "console", "page"), (1800.0, b, "console", "page")]
        h.queue.advance(24 * 3600)
        assert len(sent(h)) == 2
        timeline = h.ok("GET", f"incidents/{incident}/timeline/")["results"]
        assert any(e["kind"] == "escalation_exhausted" for e in timeline)


def test_ack_stops_the_chain(database_url: str) -> None:
    with harness(database_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 1800},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(600)
        acked = h.ok("POST", f"incidents/{incident}/acknowledge/")
        assert acked["state"] == "acknowledged"
        h.queue.advance(3600)
        pages = [s for s in sent(h) if s[3] == "page"]
        assert pages == [(0.0, a, "console", "page")]
        # The person already paged is told, on the channel that reached them; nobody else is.
        assert [s for s in sent(h) if s[3] == "update"] == [(600.0, a, "console", "update")]
        # The console says it is an update, not another page.
        assert "[tocsin] update to User 1 via console: #1 " in h.console.getvalue()
        assert "acknowledged by" in h.console.getvalue().split("[tocsin] update to User 1", 1)[1]
        assert h.console.getvalue().count("[tocsin] page to User 1") == 1
        again = h.api("POST", f"incidents/{incident}/acknowledge/")
        assert again.status_code == 409
        assert again.json()["state"] == "acknowledged"
        assert "it is acknowledged by" in again.json()["detail"]


def test_the_person_who_acts_is_not_told_what_they_did(database_url: str) -> None:
    from engine.services import incidents
    from engine.services.incidents import Actor

    with harness(database_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(h, [{"type": "notify_persons", "persons": [a, b]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(60)
        incidents.acknowledge(h.runtime.deps, incident, Actor("User 1", "slack", a))
        h.queue.advance(60)
        # b hears that a acknowledged; a, who pressed the button, gets no message about it.
        assert [s for s in sent(h) if s[3] == "update"] == [(60.0, b, "console", "update")]
        incidents.resolve(h.runtime.deps, incident, Actor("User 2", "telegram", b), None)
        h.queue.advance(60)
        assert [s for s in sent(h) if s[3] == "update"] == [
            (60.0, b, "console", "update"),
            (120.0, a, "console", "update"),
        ]


def test_personal_rules_sms_call_sms(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a = person(
            h,
            1,
            [SMS, CALL],
            default_rules=[
                {"type": "notify_by_sms"},
                {"type": "notify_by_phone_call"},
                {"type": "wait", "duration": 1800},
                {"type": "notify_by_sms"},
            ],
        )
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        h.queue.advance(3 * 3600)
        assert sent(h) == [
            (0.0, a, "phone_call", "page"),
            (0.0, a, "sms", "page"),
            (1800.0, a, "sms", "page"),
        ]


def test_ack_between_call_and_sms(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a = person(
            h,
            1,
            [SMS, CALL],
            default_rules=[
                {"type": "notify_by_phone_call"},
                {"type": "wait", "duration": 60},
                {"type": "notify_by_sms"},
            ],
        )
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 300},
                {"type": "notify_persons", "persons": [a], "important": True},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(30)
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        h.queue.advance(3600)
        assert [s for s in sent(h) if s[3] == "page"] == [(0.0, a, "phone_call", "page")]


def test_clock_jump_sends_each_rule_once(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a = person(
            h,
            1,
            [SMS],
            default_rules=[
                {"type": "wait", "duration": 60},
                {"type": "notify_by_sms"},
                {"type": "wait", "duration": 60},
                {"type": "notify_by_sms"},
            ],
        )
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        h.clock.advance(180)  # an outage: nothing ran for three minutes
        h.queue.run_due()
        sweep(h.runtime.deps)  # the sweeper also finds them overdue; still once each
        h.queue.run_due()
        # Two rules, two messages: neither the late run nor the sweeper's re-enqueue sends one twice.
        assert sent(h) == [(180.0, a, "sms", "page"), (180.0, a, "sms", "page")]


def test_escalate_now_on_acknowledged_pages_next_step(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 1800},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(60)
        h.ok("POST", f"incidents/{incident}/acknowledge/")
        escalated = h.ok("POST", f"incidents/{incident}/escalate/")
        assert escalated["state"] == "firing"
        h.queue.run_due()
        assert [s[1] for s in sent(h) if s[3] == "page"] == [a, b]


def test_maintenance_before_and_during(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 600},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        source = integration(h, "E001")
        before = fire(h, source["link"], "before")
        h.queue.run_due()
        h.ok("POST", f"integrations/{source['id']}/maintenance_start/", {"duration": 3600})
        during = fire(h, source["link"], "during")
        h.queue.advance(1200)
        assert [(s[1]) for s in sent(h, before) if s[3] == "page"] == [a, b]
        assert sent(h, during) == []


def test_missing_targets_never_stop_valid_steps(database_url: str) -> None:
    with harness(database_url) as h:
        a, gone = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": ["current_oncall"]},  # no schedule: skipped
                {"type": "notify_persons", "persons": [gone]},  # deleted below
                {"type": "wait", "duration": 60},
                {"type": "notify_persons", "persons": [a]},
            ],
        )
        h.ok("DELETE", f"users/{gone}/")
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.advance(120)
        assert [s[1] for s in sent(h)] == [a]
        texts = [e["text"] for e in h.ok("GET", f"incidents/{incident}/timeline/")["results"]]
        assert any("the team has no schedule" in t for t in texts)
        assert any(f"user {gone} no longer exists" in t for t in texts)

        h.ok("POST", "escalation_chains/", {"id": "E002", "name": "empty", "team_id": "T001", "steps": []})
        empty = h.ok(
            "POST",
            "integrations/",
            {"type": "webhook", "team_id": "T001", "default_route": {"escalation_chain_id": "E002"}},
        )
        lonely = fire(h, empty["link"], "empty chain")
        h.queue.advance(60)
        assert sent(h, lonely) == []
        assert any(
            e["kind"] == "escalation_exhausted"
            for e in h.ok("GET", f"incidents/{lonely}/timeline/")["results"]
        )


def test_direct_page_and_added_responder(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a, b = person(h, 1), person(h, 2)
        incident = h.ok(
            "POST", "escalation/", {"title": "DB on fire", "users": [{"id": a, "important": True}]}
        )
        h.queue.run_due()
        assert sent(h) == [(0.0, a, "console", "page")]
        h.ok("POST", f"incidents/{incident['id']}/acknowledge/")
        added = h.ok("POST", "escalation/", {"incident_id": incident["id"], "users": [{"id": b}]})
        assert added["state"] == "firing"
        h.queue.advance(600)
        assert sorted(s[1] for s in sent(h) if s[3] == "page") == [a, b]
        assert h.ok("POST", f"incidents/{incident['number']}/acknowledge/")["state"] == "acknowledged"


def test_lost_wakeups_are_rederived_by_the_sweeper(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a, b = person(h, 1), person(h, 2)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 300},
                {"type": "notify_persons", "persons": [b]},
            ],
        )
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        h.queue.waiting.clear()  # Redis lost every job (FLUSHALL)
        h.clock.advance(310)
        h.queue.run_due()
        assert [s[1] for s in sent(h)] == [a]
        assert sweep(h.runtime.deps) == 1
        h.queue.run_due()
        assert [s[1] for s in sent(h)] == [a, b]


def test_silence_then_resume(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        a = person(h, 1)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        silenced = h.ok("POST", f"incidents/{incident}/silence/", {"duration": 3600})
        assert silenced["state"] == "silenced"
        h.queue.advance(3599)
        assert len(sent(h)) == 1
        h.queue.advance(2)
        assert h.ok("GET", f"incidents/{incident}/")["state"] == "firing"
        assert [s[1] for s in sent(h)] == [a, a]
        resolved = h.ok("POST", f"incidents/{incident}/resolve/", {"note": "disk cleaned"})
        assert resolved["state"] == "resolved"
        timeline = h.ok("GET", f"incidents/{incident}/timeline/")
        assert timeline["notes"][0]["is_resolution"] is True
        assert h.api("POST", f"incidents/{incident}/resolve/").status_code == 409


def test_pages_overdue_after_the_queue_lost_its_jobs_are_not_replaced_by_a_later_step(
    database_url: str,
) -> None:
    from engine import jobs

    with harness(database_url) as h:
        a = person(h, 1)
        chain(
            h,
            [
                {"type": "notify_persons", "persons": [a]},
                {"type": "wait", "duration": 60},
                {"type": "notify_persons", "persons": [a], "important": True},
            ],
        )
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.waiting.clear()  # Redis lost every job before a worker ran one
        h.clock.advance(180)  # ...and came back three minutes later
        jobs.sweep(h.runtime.deps)
        # RQ runs jobs first in, first out, and the sweeper enqueues the wake-ups before the sends.
        while due := [j for j in h.queue.waiting.values() if j.run_at is None or j.run_at <= h.clock.now()]:
            job = due[0]
            del h.queue.waiting[job.id]
            h.runtime.run(job)
        # Both steps' pages went out, late but once each: the first step's was not "replaced".
        assert [s[1:] for s in sent(h, incident) if s[3] == "page"] == [
            (a, "console", "page"),
            (a, "console", "page"),
        ]
        with h.runtime.db.unit() as uow:
            from sqlalchemy import select

            from engine.db import Delivery

            statuses = [d.status for d in uow.session.scalars(select(Delivery).where(Delivery.user_id == a))]
        assert "cancelled" not in statuses
