"""Building blocks for escalation scenarios: people with channels, chains, an integration, an alert."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.db import Delivery
from tests.support.harness import Harness

PHONE = "+1555555010{}"


def person(h: Harness, n: int, channels: list[dict[str, Any]] | None = None, **settings: Any) -> str:
    """User U00n in team T001 (created on first use) with the given notification channels."""
    if h.api("GET", "teams/T001/").status_code == 404:
        h.ok("POST", "teams/", {"id": "T001", "name": "Platform"})
    user_id = f"U00{n}"
    h.ok(
        "POST",
        "users/",
        {
            "id": user_id,
            "name": f"User {n}",
            "username": f"user{n}",
            "team_ids": ["T001"],
            "phone_number": PHONE.format(n),
            "phone_verified": True,
        },
    )
    if channels is not None:
        h.ok(
            "PUT",
            f"users/{user_id}/notification_channels/",
            {"notification_channels": channels, **settings},
        )
    return user_id


def chain(h: Harness, steps: list[dict[str, Any]], chain_id: str = "E001") -> str:
    h.ok("POST", "escalation_chains/", {"id": chain_id, "name": chain_id, "team_id": "T001", "steps": steps})
    return chain_id


def integration(h: Harness, chain_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "webhook", "name": "Checks", "team_id": "T001"}
    if chain_id:
        body["default_route"] = {"escalation_chain_id": chain_id}
    return h.ok("POST", "integrations/", body)  # type: ignore[no-any-return]


def fire(h: Harness, link: str, name: str = "disk full") -> str:
    response = h.post_alert(link, json.dumps({"title": name, "status": "firing", "key": name}))
    assert response.status_code == 200, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


def sent(h: Harness, incident_id: str | None = None) -> list[tuple[float, str, str, str]]:
    """(seconds since the harness start, user, channel, kind) of every delivery sent, by time."""
    with h.runtime.db.unit() as uow:
        query = select(Delivery).where(Delivery.status == "sent").order_by(Delivery.sent_at, Delivery.id)
        if incident_id:
            query = query.where(Delivery.incident_id == incident_id)
        rows = list(uow.session.scalars(query))
        # Sends at the same virtual instant have no order of their own: sort them for stable asserts.
        return sorted(
            (_since(h, d.sent_at), d.user_id or "", d.channel, (d.data or {}).get("kind", "page"))
            for d in rows
        )


def _since(h: Harness, at: datetime | None) -> float:
    assert at is not None
    return round((at - h.start).total_seconds(), 3)
