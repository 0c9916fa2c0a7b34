"""Twilio adapter pieces without I/O: SMS bodies, pacing, error translation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from requests import ConnectTimeout
from twilio.base.exceptions import TwilioRestException

from adapters.twilio.errors import delivery_failed
from adapters.twilio.notifier import sms_body
from adapters.twilio.pacing import Pacer
from bot.text import sms_segments
from engine.errors import DeliveryFailed
from engine.ports import BundledIncident, Page

T0 = datetime(2026, 2, 9, 14, 0, tzinfo=UTC)


def _page(title: str = "HighCPU api-1", text: str = "CPU at 97%", **kwargs: object) -> Page:
    fields: dict[str, object] = {
        "delivery_id": "D1",
        "incident_id": "I1",
        "incident_number": 12,
        "title": title,
        "text": text,
        "user_id": "U1",
        "user_name": "Ana",
        "channel": "sms",
        "address": "+15555550101",
        "important": False,
        "link": "https://oncall.example.com/i/1",
        **kwargs,
    }
    return Page(**fields)  # type: ignore[arg-type]


def test_sms_body_short() -> None:
    assert sms_body(_page()) == "[Tocsin] #12 HighCPU api-1 - CPU at 97%\nReply 'ack 12' or 'resolve 12'"


@pytest.mark.parametrize("title", ["x" * 500, "Überhitzung ✓ " * 40, "{[]} " * 100])
def test_sms_body_long_stays_within_two_segments_with_the_hint(title: str) -> None:
    body = sms_body(_page(title=title, text="more " * 100))
    assert sms_segments(body) <= 2
    assert body.endswith("Reply 'ack 12' or 'resolve 12'")


def test_sms_update_and_bundle() -> None:
    assert sms_body(_page(kind="update", text="acknowledged by Ana")) == (
        "[Tocsin] #12 HighCPU api-1: acknowledged by Ana"
    )
    bundle = sms_body(_page(also=(BundledIncident("I2", 13, "Disk full"), BundledIncident("I1", 12, "dup"))))
    assert bundle.startswith("[Tocsin] 2 incidents: #12 HighCPU api-1; #13 Disk full\n")


def test_pacer_gives_each_send_its_own_slot() -> None:
    pacer = Pacer(timedelta(seconds=1), "one SMS per second")
    pacer.claim("a", T0)
    with pytest.raises(DeliveryFailed) as b:
        pacer.claim("b", T0)
    with pytest.raises(DeliveryFailed) as c:
        pacer.claim("c", T0)
    assert (b.value.retryable, b.value.retry_after, c.value.retry_after) == (True, 1.0, 2.0)
    pacer.claim("b", T0 + timedelta(seconds=1))  # its slot: goes
    with pytest.raises(DeliveryFailed):
        pacer.claim("d", T0 + timedelta(seconds=1))  # behind c
    pacer.claim("c", T0 + timedelta(seconds=2))
    pacer.claim("e", T0 + timedelta(seconds=10))


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, 21211, False),
        (400, 21610, False),
        (400, 30007, False),
        (429, 20429, True),
        (500, None, True),
        (503, 20503, True),
    ],
)
def test_errors(status: int, code: int | None, retryable: bool) -> None:
    failed = delivery_failed(TwilioRestException(status, "https://api.twilio.com/x", "nope", code=code))
    assert failed.retryable is retryable
    if code and not retryable:
        assert str(code) in failed.detail and failed.provider_code == str(code)


def test_network_errors_are_retryable() -> None:
    assert delivery_failed(ConnectTimeout("slow")).retryable is True


def test_pacer_counts_sms_segments() -> None:
    pacer = Pacer(timedelta(seconds=1), "one SMS segment per second")
    pacer.claim("two-segments", T0, weight=2)
    with pytest.raises(DeliveryFailed) as waited:
        pacer.claim("next", T0)
    assert waited.value.retry_after == 2.0
