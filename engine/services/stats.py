"""Incident statistics for a period (SPEC §4.9): read the facts, let the pure rules compute."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from engine.db import Incident
from engine.errors import ValidationFailed
from engine.rules.stats import IncidentFacts, IncidentStats, StatsPeriod, incident_stats
from engine.services.deps import Deps


def period(first_day: date, last_day: date, time_zone: str) -> StatsPeriod:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {time_zone!r}", field="time_zone") from exc
    return StatsPeriod(first_day, last_day, zone)


def stats(
    deps: Deps, first_day: date, last_day: date, time_zone: str, team_id: str | None = None
) -> IncidentStats:
    span = period(first_day, last_day, time_zone)
    start, end = span.bounds()
    query = select(Incident).where(Incident.created_at >= start, Incident.created_at < end)
    if team_id is not None:
        query = query.where(Incident.team_id == team_id)
    with deps.db.unit() as uow:
        facts = [
            IncidentFacts(
                id=i.id,
                team_id=i.team_id,
                integration_id=i.integration_id,
                created_at=i.created_at,
                acknowledged_at=i.acknowledged_at,
                resolved_at=i.resolved_at,
                escalated=bool((i.escalation_state or {}).get("escalated")),
            )
            for i in uow.session.scalars(query)
            if not i.is_test
        ]
    return incident_stats(facts, span)
