"""A Tocsin harness wired to the loopback fake Twilio, which calls Tocsin back through the TestClient."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from engine.db import Delivery
from tests.fakes.twilio_api import FakeTwilioApi
from tests.support.harness import Harness, harness

FROM = "+15555550199"
SMS = {"type": "sms", "important": False}
CALL = {"type": "phone_call", "important": False}


class _LateClient:
    """Twilio's way back into Tocsin: the harness's TestClient, known only once the app exists."""

    def __init__(self) -> None:
        self.target: Any = None

    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self.target.post(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.target.get(*args, **kwargs)

    def close(self) -> None:
        pass


@contextmanager
def twilio_harness(database_url: str, **settings: Any) -> Iterator[tuple[Harness, FakeTwilioApi]]:
    late = _LateClient()
    with FakeTwilioApi(webhook_client=late) as fake:  # type: ignore[arg-type]
        config = {
            "twilio_account_sid": fake.account_sid,
            "twilio_auth_token": fake.auth_token,
            "twilio_from_number": FROM,
            "twilio_api_url": fake.base_url,
            **settings,
        }
        with harness(database_url, **config) as h:
            late.target = h.client
            yield h, fake


def public(h: Harness, path: str) -> str:
    return h.runtime.settings.public_base + path


def gather_action(twiml: str) -> str:
    match = re.search(r'<Gather[^>]*action="([^"]+)"', twiml)
    assert match, twiml
    return match.group(1).replace("&amp;", "&")


def deliveries(h: Harness, channel: str | None = None, kind: str | None = "page") -> list[Delivery]:
    """Delivery rows in creation order; pages only unless ``kind`` says otherwise (None: all)."""
    with h.runtime.db.unit() as uow:
        query = select(Delivery).order_by(Delivery.created_at, Delivery.id)
        if channel:
            query = query.where(Delivery.channel == channel)
        rows = [d for d in uow.session.scalars(query) if kind is None or (d.data or {}).get("kind") == kind]
        uow.session.expunge_all()
        return rows


def timeline_texts(h: Harness, incident_id: str) -> list[str]:
    return [e["text"] for e in h.ok("GET", f"incidents/{incident_id}/timeline/")["results"]]


def state(h: Harness, incident_id: str) -> str:
    return str(h.ok("GET", f"incidents/{incident_id}/")["state"])
