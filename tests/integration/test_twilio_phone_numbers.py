"""Phone verification by SMS code, unverified numbers, the daily cap, the test call."""

from __future__ import annotations

import logging
import re

import pytest

from tests.support.escalation import chain, fire, integration, person
from tests.support.twilio import CALL, SMS, deliveries, public, timeline_texts, twilio_harness


def _unverified(h, n: int = 1) -> str:  # type: ignore[no-untyped-def]
    user_id = person(h, n, [SMS, CALL], default_rules=[{"type": "notify_by_sms"}])
    h.ok("PATCH", f"users/{user_id}/", {"phone_verified": False})
    assert h.ok("GET", f"users/{user_id}/")["phone_verified"] is False
    return user_id


def test_verify_phone_by_code(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = _unverified(h)
        started = h.ok("POST", f"users/{a}/verify_phone/")
        assert started["phone_number"] == "+15555550101"
        [message] = fake.messages()
        assert message.to == "+15555550101"
        code = re.search(r"\b(\d{6})\b", message.params["Body"]).group(1)  # type: ignore[union-attr]
        wrong = "000000" if code != "000000" else "111111"
        response = h.api("POST", f"users/{a}/verify_phone/confirm/", {"code": wrong})
        assert response.status_code == 422
        assert h.ok("GET", f"users/{a}/")["phone_verified"] is False
        assert h.ok("POST", f"users/{a}/verify_phone/confirm/", {"code": code})["phone_verified"] is True
        assert h.ok("GET", f"users/{a}/")["phone_verified"] is True
        # The code is used up.
        assert h.api("POST", f"users/{a}/verify_phone/confirm/", {"code": code}).status_code == 404


def test_verification_code_expires_and_tries_are_limited(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = _unverified(h)
        h.ok("POST", f"users/{a}/verify_phone/")
        code = re.search(r"\b(\d{6})\b", fake.messages()[-1].params["Body"]).group(1)  # type: ignore[union-attr]
        h.clock.advance(11 * 60)
        assert h.api("POST", f"users/{a}/verify_phone/confirm/", {"code": code}).status_code == 404
        h.ok("POST", f"users/{a}/verify_phone/")
        code = re.search(r"\b(\d{6})\b", fake.messages()[-1].params["Body"]).group(1)  # type: ignore[union-attr]
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            assert h.api("POST", f"users/{a}/verify_phone/confirm/", {"code": wrong}).status_code == 422
        assert h.api("POST", f"users/{a}/verify_phone/confirm/", {"code": code}).status_code == 422


def test_unverified_numbers_are_not_paged(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = _unverified(h)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        incident = fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert fake.messages() == []
        assert any("+15555550101 is not verified" in t for t in timeline_texts(h, incident))


def test_unverified_numbers_are_paged_when_the_installation_allows_it(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url, twilio_allow_unverified=True) as (h, fake):
        a = _unverified(h)
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        h.queue.run_due()
        assert [m.to for m in fake.messages()] == ["+15555550101"]


def test_daily_cap_is_logged_and_on_the_timeline(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with twilio_harness(sqlite_url, twilio_daily_cap=2) as (h, fake):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        incidents = []
        for name in ("one", "two", "three"):
            incidents.append(fire(h, link, name))
            h.queue.advance(120)
        assert len(fake.messages()) == 2
        with caplog.at_level(logging.WARNING):
            assert any("daily cap of 2" in t for t in timeline_texts(h, incidents[2]))
        assert [d.status for d in deliveries(h, "sms")] == ["sent", "sent", "failed"]
        # A day later the cap has room again.
        h.queue.advance(24 * 3600)
        fire(h, link, "four")
        h.queue.run_due()
        assert len(fake.messages()) == 3


def test_daily_cap_warning_is_logged(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with twilio_harness(sqlite_url, twilio_daily_cap=1) as (h, fake), caplog.at_level(logging.WARNING):
        a = person(h, 1, [SMS])
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        link = integration(h, "E001")["link"]
        fire(h, link, "one")
        h.queue.advance(60)
        fire(h, link, "two")
        h.queue.advance(60)
        assert len(fake.messages()) == 1
        assert any("daily cap of 1" in r.getMessage() for r in caplog.records)


def test_test_call(sqlite_url: str) -> None:
    with twilio_harness(sqlite_url) as (h, fake):
        a = person(h, 1, [CALL])
        answer = h.ok("POST", f"users/{a}/test_call/")
        [call] = fake.calls()
        assert answer["call_sid"] == call.sid
        assert call.params["Url"] == public(h, "/twilio/voice/test")
        assert "test call from Tocsin" in fake.answer_call(call.sid)
