"""Numbers for /metrics, read from the database so every process reports the same truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from engine.clock import ensure_utc
from engine.db import Delivery, Incident
from engine.services.deps import Deps

RESPONSE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class MetricsSnapshot:
    incidents: list[tuple[str, str, str, int]]  # state, team, integration, count
    deliveries: list[tuple[str, str, int]]  # channel, status, count
    ack_seconds: list[float]  # opened → acknowledged, incidents of the last 30 days
    overdue_seconds: float  # how late the most overdue escalation wake-up is (0 when none)


def read(deps: Deps) -> MetricsSnapshot:
    now = deps.clock.now()
    with deps.db.unit() as uow:
        session = uow.session
        incidents = [
            (state, team or "", integration or "", int(count))
            for state, team, integration, count in session.execute(
                select(Incident.state, Incident.team_id, Incident.integration_id, func.count()).group_by(
                    Incident.state, Incident.team_id, Incident.integration_id
                )
            )
        ]
        deliveries = [
            (channel, status, int(count))
            for channel, status, count in session.execute(
                select(Delivery.channel, Delivery.status, func.count()).group_by(
                    Delivery.channel, Delivery.status
                )
            )
        ]
        acks = [
            (acked - created).total_seconds()
            for created, acked in session.execute(
                select(Incident.created_at, Incident.acknowledged_at).where(
                    Incident.acknowledged_at.is_not(None), Incident.created_at >= now - RESPONSE_WINDOW
                )
            )
            if acked is not None
        ]
        oldest = session.scalar(select(func.min(Incident.next_at)).where(Incident.next_at.is_not(None)))
    overdue = 0.0
    if oldest is not None:
        overdue = max(0.0, (now - ensure_utc(oldest)).total_seconds())
    return MetricsSnapshot(incidents, deliveries, acks, overdue)
