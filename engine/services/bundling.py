"""Several incidents for one person on a channel that bundles (SMS) go out as one message.

The first page to an address goes at once. A page arriving within ``bundle_seconds`` of the last one
sent to that address is held until the window ends; whatever is held (or due) then goes out together
as one message. A storm of twenty incidents is two SMS, not twenty, and the first is never delayed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Delivery, Incident
from engine.model.incident import IncidentState

HELD = "held_for_bundle"
OPEN = ("pending", "retrying")


def hold_until(session: Session, delivery: Delivery, bundle_seconds: float, now: datetime) -> datetime | None:
    """When this page should go instead of now (None: now), holding it once per bundle window."""
    if (delivery.data or {}).get(HELD):
        return None
    last = session.scalar(
        select(func.max(Delivery.sent_at)).where(
            Delivery.user_id == delivery.user_id,
            Delivery.channel == delivery.channel,
            Delivery.address == delivery.address,
            Delivery.sent_at.is_not(None),
            Delivery.id != delivery.id,
        )
    )
    if last is None:
        return None
    until: datetime = last + timedelta(seconds=bundle_seconds)
    if until <= now:
        return None
    delivery.data = {**(delivery.data or {}), HELD: True}
    return until


def companions(session: Session, delivery: Delivery, now: datetime) -> list[tuple[Delivery, Incident]]:
    """Other due pages to the same person and address, for firing incidents, oldest incident first."""
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.user_id == delivery.user_id,
            Delivery.channel == delivery.channel,
            Delivery.address == delivery.address,
            Delivery.status.in_(OPEN),
            Delivery.due_at <= now,
            Delivery.id != delivery.id,
        )
        .order_by(Delivery.created_at, Delivery.id)
        .with_for_update()
    )
    found: list[tuple[Delivery, Incident]] = []
    for row in rows:
        if (row.data or {}).get("kind", "page") != "page" or row.incident_id is None:
            continue
        incident = session.get(Incident, row.incident_id)
        if incident is not None and incident.state == IncidentState.FIRING.value:
            found.append((row, incident))
    return sorted(found, key=lambda pair: pair[1].number)
