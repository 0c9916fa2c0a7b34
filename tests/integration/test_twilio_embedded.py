"""Calls and SMS with the embedded engine (no Redis): the in-process queue, the fake clock, fake Twilio."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.runtime import build_runtime
from adapters.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.twilio_api import FakeTwilioApi
from tests.support.escalation import chain, fire, integration, person
from tests.support.harness import ADMIN_TOKEN, Harness
from tests.support.twilio import CALL, FROM, SMS, deliveries


class _LateClient:
    def __init__(self) -> None:
        self.target: Any = None

    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self.target.post(*args, **kwargs)

    def close(self) -> None:
        pass


@contextmanager
def embedded_twilio(database_url: str) -> Iterator[tuple[Harness, FakeTwilioApi]]:
    """The real in-process job thread, running whatever the fake clock says is due."""
    late = _LateClient()
    with FakeTwilioApi(webhook_client=late) as fake:  # type: ignore[arg-type]
        clock = FakeClock()
        settings = Settings(
            database_url=database_url,
            redis_url=None,
            api_token=ADMIN_TOKEN,
            twilio_account_sid=fake.account_sid,
            twilio_auth_token=fake.auth_token,
            twilio_from_number=FROM,
            twilio_api_url=fake.base_url,
        )
        runtime = build_runtime(settings, clock=clock, migrate=False)
        assert runtime.embedded is not None
        runtime.embedded.start()
        try:
            with TestClient(create_app(runtime)) as client:
                late.target = client
                yield Harness(runtime, client, clock, None, None), fake  # type: ignore[arg-type]
        finally:
            runtime.stop()


def _soon(predicate: Callable[[], Any], seconds: float = 3.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    return predicate()


def test_an_unanswered_call_falls_through_at_once_in_the_embedded_engine(sqlite_url: str) -> None:
    with embedded_twilio(sqlite_url) as (h, fake):
        a = person(
            h,
            1,
            [SMS, CALL],
            default_rules=[
                {"type": "notify_by_phone_call"},
                {"type": "wait", "duration": 300},
                {"type": "notify_by_sms"},
            ],
        )
        chain(h, [{"type": "notify_persons", "persons": [a]}])
        fire(h, integration(h, "E001")["link"])
        [call] = _soon(fake.calls)
        assert fake.messages() == []
        fake.send_call_status(call.sid, "no-answer")
        # The virtual clock stands still: the SMS rule must not wait for its original 300 s.
        [message] = _soon(fake.messages)
        assert message.to == "+15555550101"
        assert [d.status for d in deliveries(h, "sms")] == ["sent"]
