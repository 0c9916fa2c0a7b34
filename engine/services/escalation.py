"""Driving an incident's escalation from the database: start, tick, stop.

The database row is the truth (``escalation_token``, ``next_at``); queue jobs are only wake-ups,
and a tick whose token no longer matches does nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Incident, User
from engine.db.session import UnitOfWork
from engine.model.incident import IncidentState, TimelineKind
from engine.ports import Job
from engine.services import deliveries, directory, timeline
from engine.services.deps import Deps

TICK = "escalation.tick.v1"


def tick_job(incident_id: str, token: str, run_at: datetime | None) -> Job:
    return Job(
        kind=TICK, args={"incident_id": incident_id, "token": token}, id=f"tick-{token}", run_at=run_at
    )


def start(uow: UnitOfWork, deps: Deps, incident: Incident) -> None:
    """Arm the escalation of a newly opened incident; the first tick runs after commit."""
    now = deps.clock.now()
    incident.escalation_token = secrets.token_hex(8)
    incident.next_at = now
    incident.escalation_state = {"step": 0}
    job = tick_job(incident.id, incident.escalation_token, None)
    uow.after_commit(lambda: deps.queue.enqueue(job))


def stop(incident: Incident) -> None:
    """Rotate the token so every pending wake-up becomes a no-op."""
    incident.escalation_token = secrets.token_hex(8)
    incident.next_at = None


def resolve_by_sender(uow: UnitOfWork, deps: Deps, incident: Incident, actor: str) -> None:
    now = deps.clock.now()
    incident.state = IncidentState.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    incident.open_key = None
    stop(incident)
    timeline.record(
        uow.session, incident.id, now, TimelineKind.RESOLVED, "resolved by the sender", actor=actor
    )


def lock_incident(session: Session, incident_id: str) -> Incident | None:
    """Load an incident under a row lock (PostgreSQL); SQLite's BEGIN IMMEDIATE serialises instead."""
    return session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())


def handle_tick(deps: Deps, incident_id: str, token: str) -> None:
    with deps.db.unit() as uow:
        session = uow.session
        incident = lock_incident(session, incident_id)
        if incident is None or incident.escalation_token != token:
            return
        if incident.state != IncidentState.FIRING.value:
            return
        now = deps.clock.now()
        if incident.next_at is not None and incident.next_at > now:
            return
        incident.next_at = None
        _page_team(uow, deps, incident, now)


def _page_team(uow: UnitOfWork, deps: Deps, incident: Incident, now: datetime) -> None:
    """Until chains exist, page every member of the incident's team (the foundation's thin path)."""
    session = uow.session
    member_ids = directory.team_member_ids(session, incident.team_id) if incident.team_id else []
    if not member_ids:
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.ESCALATION_EXHAUSTED,
            "nobody to page: the team has no members",
        )
        return
    users = session.scalars(select(User).where(User.id.in_(member_ids)))
    by_id = {u.id: u for u in users}
    for user_id in member_ids:
        user = by_id[user_id]
        deliveries.plan(uow, deps, incident, user, step_run=f"{incident.escalation_token}:0", important=False)
    timeline.record(
        session,
        incident.id,
        now,
        TimelineKind.ESCALATION_STEP,
        "paging team members: " + ", ".join(by_id[u].name for u in member_ids),
    )
