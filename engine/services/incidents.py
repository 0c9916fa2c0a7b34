"""Incident actions: acknowledge, resolve, silence, escalate, notes — one transaction each.

Every action says who did it and through which channel. Acting on an incident in a state that does
not allow it raises :class:`InvalidTransition` naming the current state and who put it there, so a
second presser learns "already acknowledged by Ana", and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.db import Incident, Note
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import InvalidTransition, ValidationFailed
from engine.model.incident import IncidentState, TimelineKind
from engine.rules.escalation import Action, Silence
from engine.rules.grouping import open_key_for
from engine.services import deliveries, escalation, lookup, timeline, webhooks
from engine.services.deps import Deps

MAX_SILENCE = timedelta(days=30)
FIRING, ACKED, RESOLVED, SILENCED = (s.value for s in IncidentState)


@dataclass(frozen=True)
class Actor:
    """Who acts and through what: ``Actor("Ana", "slack")``, ``Actor("api-token ci", "api")``."""

    name: str
    channel: str
    user_id: str | None = None


find = lookup.find_incident


def _locked(uow: UnitOfWork, ref: str | int) -> Incident:
    incident = find(uow.session, ref)
    locked = escalation.lock_incident(uow.session, incident.id)
    assert locked is not None
    return locked


def _who(incident: Incident) -> str | None:
    if incident.state == ACKED:
        return incident.acknowledged_by
    if incident.state == RESOLVED:
        return incident.resolved_by
    return None


def _refuse(incident: Incident, verb: str) -> InvalidTransition:
    who = _who(incident)
    when = incident.acknowledged_at if incident.state == ACKED else incident.resolved_at
    by = f" by {who}" if who else ""
    at = f" at {when.strftime('%Y-%m-%d %H:%M UTC')}" if when and who else ""
    return InvalidTransition(
        f"cannot {verb} incident #{incident.number}: it is {incident.state}{by}{at}", incident.state, who
    )


def acknowledge(deps: Deps, ref: str | int, actor: Actor) -> Incident:
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state not in (FIRING, SILENCED):
            raise _refuse(incident, "acknowledge")
        mark_acknowledged(uow, deps, incident, actor)
        return incident


def mark_acknowledged(uow: UnitOfWork, deps: Deps, incident: Incident, actor: Actor) -> None:
    now = deps.clock.now()
    incident.state = ACKED
    incident.acknowledged_at = incident.acknowledged_at or now
    incident.acknowledged_by = actor.name
    incident.silenced_until = None
    escalation.apply_event(uow, deps, incident, Action.ACKNOWLEDGE)
    deliveries.cancel_pending(uow.session, incident.id, now, "acknowledged")
    deliveries.recall_under_way(uow, deps, incident.id, "acknowledged")
    timeline.record(
        uow.session,
        incident.id,
        now,
        TimelineKind.ACKNOWLEDGED,
        f"acknowledged by {actor.name} via {actor.channel}",
        actor=actor.name,
        channel=actor.channel,
    )
    deliveries.notify_paged(uow, deps, incident, f"acknowledged by {actor.name}", actor.user_id)
    webhooks.fire(uow, deps, incident, "acknowledged")


def unacknowledge(deps: Deps, ref: str | int, actor: Actor) -> Incident:
    """Back to firing; the escalation restarts from step 1."""
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state != ACKED:
            raise _refuse(incident, "unacknowledge")
        now = deps.clock.now()
        incident.state = FIRING
        incident.acknowledged_at = None
        incident.acknowledged_by = None
        _record(uow, incident, now, TimelineKind.UNACKNOWLEDGED, f"unacknowledged by {actor.name}", actor)
        escalation.apply_event(uow, deps, incident, Action.UNACKNOWLEDGE)
        return incident


def resolve(deps: Deps, ref: str | int, actor: Actor, note: str | None = None) -> Incident:
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state == RESOLVED:
            raise _refuse(incident, "resolve")
        if note:
            _add_note(uow, deps, incident, note, actor, resolution=True)
        escalation.mark_resolved(uow, deps, incident, actor.name, actor.channel, actor.user_id)
        return incident


def unresolve(deps: Deps, ref: str | int, actor: Actor) -> Incident:
    """Reopen; it groups new alerts again unless another incident took its key meanwhile."""
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state != RESOLVED:
            raise _refuse(incident, "unresolve")
        now = deps.clock.now()
        incident.state = FIRING
        incident.resolved_at = None
        incident.resolved_by = None
        incident.acknowledged_at = None
        incident.acknowledged_by = None
        if incident.integration_id and incident.grouping_key:
            key = open_key_for(incident.integration_id, incident.grouping_key)
            if uow.session.scalar(select(Incident.id).where(Incident.open_key == key)) is None:
                incident.open_key = key
        _record(uow, incident, now, TimelineKind.UNRESOLVED, f"reopened by {actor.name}", actor)
        escalation.apply_event(uow, deps, incident, Action.UNRESOLVE)
        return incident


def silence(deps: Deps, ref: str | int, actor: Actor, seconds: int) -> Incident:
    if seconds < 1 or timedelta(seconds=seconds) > MAX_SILENCE:
        raise ValidationFailed("duration must be between 1 second and 30 days", field="duration")
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state == RESOLVED:
            raise _refuse(incident, "silence")
        now = deps.clock.now()
        until = now + timedelta(seconds=seconds)
        incident.state = SILENCED
        incident.silenced_until = until
        incident.acknowledged_at = None
        incident.acknowledged_by = None
        escalation.apply_event(uow, deps, incident, Silence(until))
        deliveries.cancel_pending(uow.session, incident.id, now, "silenced")
        deliveries.recall_under_way(uow, deps, incident.id, "silenced")
        webhooks.fire(uow, deps, incident, "silenced")
        _record(
            uow,
            incident,
            now,
            TimelineKind.SILENCED,
            f"silenced by {actor.name} until {until.strftime('%Y-%m-%d %H:%M UTC')}",
            actor,
        )
        return incident


def unsilence(deps: Deps, ref: str | int, actor: Actor) -> Incident:
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state != SILENCED:
            raise _refuse(incident, "unsilence")
        now = deps.clock.now()
        incident.state = FIRING
        incident.silenced_until = None
        _record(uow, incident, now, TimelineKind.UNSILENCED, f"unsilenced by {actor.name}", actor)
        escalation.apply_event(uow, deps, incident, Action.UNSILENCE)
        return incident


def escalate(deps: Deps, ref: str | int, actor: Actor) -> Incident:
    """Page the next step now; an acknowledged or silenced incident fires again."""
    with deps.db.unit() as uow:
        incident = _locked(uow, ref)
        if incident.state == RESOLVED:
            raise _refuse(incident, "escalate")
        now = deps.clock.now()
        incident.state = FIRING
        incident.acknowledged_at = None
        incident.acknowledged_by = None
        incident.silenced_until = None
        _record(uow, incident, now, TimelineKind.ESCALATION_STEP, f"escalated now by {actor.name}", actor)
        escalation.apply_event(uow, deps, incident, Action.ESCALATE_NOW)
        return incident


def add_note(deps: Deps, ref: str | int, actor: Actor, text: str) -> Note:
    if not text.strip():
        raise ValidationFailed("a note needs text", field="text")
    with deps.db.unit() as uow:
        incident = find(uow.session, ref)
        return _add_note(uow, deps, incident, text, actor, resolution=False)


def _add_note(
    uow: UnitOfWork, deps: Deps, incident: Incident, text: str, actor: Actor, resolution: bool
) -> Note:
    now = deps.clock.now()
    note = Note(
        id=new_id("N"),
        incident_id=incident.id,
        author=actor.name,
        channel=actor.channel,
        text=text.strip()[:10_000],
        is_resolution=resolution,
        created_at=now,
    )
    uow.session.add(note)
    label = "resolution note" if resolution else "note"
    _record(uow, incident, now, TimelineKind.NOTE, f"{label} by {actor.name}: {note.text}", actor)
    return note


def _record(
    uow: UnitOfWork, incident: Incident, now: datetime, kind: TimelineKind, text: str, actor: Actor
) -> None:
    timeline.record(uow.session, incident.id, now, kind, text, actor=actor.name, channel=actor.channel)
