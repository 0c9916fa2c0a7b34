"""Driving an incident's escalation from the database with the pure state machine.

The incident row is the truth: the chain frozen when it opened (``escalation_snapshot``), the
machine's state, and ``escalation_token``/``next_at``, which the sweeper reads. Queue jobs are
only wake-ups; a tick whose token no longer matches does nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import EscalationChain, Incident, OutgoingWebhook, User
from engine.db.session import UnitOfWork
from engine.model.escalation import (
    CURRENT_ONCALL,
    Chain,
    EscalationState,
    NotifyTeamMembers,
    chain_to_raw,
    parse_chain_steps,
)
from engine.model.incident import IncidentState, TimelineKind
from engine.ports import Job
from engine.rules.escalation import (
    Action,
    EscalationExhausted,
    Event,
    NotifyTargets,
    ResolveIncident,
    StepSkipped,
    TargetKind,
    Tick,
    TriggerWebhook,
    WakeAt,
    advance,
)
from engine.services import deliveries, directory, oncall, timeline, webhooks
from engine.services.chains import chain_steps
from engine.services.deps import Deps

TICK = "escalation.tick.v1"


def tick_job(incident_id: str, token: str, run_at: datetime | None) -> Job:
    return Job(
        kind=TICK, args={"incident_id": incident_id, "token": token}, id=f"tick-{token}", run_at=run_at
    )


def lock_incident(session: Session, incident_id: str) -> Incident | None:
    """Load an incident under a row lock (PostgreSQL); SQLite's BEGIN IMMEDIATE serialises instead.

    FOR NO KEY UPDATE, not FOR UPDATE: it still serialises every status change, but lets a concurrent
    send add its timeline entry (a foreign-key check takes KEY SHARE on the incident). With FOR UPDATE, an
    acknowledgement waiting for a delivery row that a send holds while it waits for the incident deadlocked,
    and PostgreSQL failed one of them (the acknowledgement, answered 500).
    """
    query = select(Incident).where(Incident.id == incident_id).with_for_update(key_share=True)
    return session.scalar(query)


def freeze_chain(session: Session, incident: Incident) -> Chain:
    """Snapshot the route's chain into the incident; a chain edited later does not change it.

    An incident whose route names no chain pages its team's members, so nothing opens silently.
    """
    steps: Chain = ()
    chain_row = (
        session.get(EscalationChain, incident.escalation_chain_id) if incident.escalation_chain_id else None
    )
    if chain_row is not None:
        steps = parse_chain_steps(chain_steps(chain_row))
    elif incident.team_id is not None:
        steps = (NotifyTeamMembers(team_id=incident.team_id),)
    incident.escalation_snapshot = chain_to_raw(steps)
    return steps


def _load(incident: Incident) -> tuple[EscalationState, Chain]:
    chain = parse_chain_steps(incident.escalation_snapshot or [])
    if incident.escalation_state:
        return EscalationState.from_raw(incident.escalation_state), chain
    return EscalationState(token=incident.escalation_token or secrets.token_hex(8)), chain


def start(uow: UnitOfWork, deps: Deps, incident: Incident, *, idle: bool = False) -> None:
    """Freeze the chain and run its first steps; ``idle`` (maintenance) only freezes it."""
    freeze_chain(uow.session, incident)
    initialise(incident)
    if idle:
        return
    webhooks.fire(uow, deps, incident, "incident_created")
    if not incident.escalation_snapshot:
        timeline.record(
            uow.session,
            incident.id,
            deps.clock.now(),
            TimelineKind.ESCALATION_EXHAUSTED,
            "no escalation chain and no team: nobody is paged",
        )
    apply_event(uow, deps, incident, Action.OPEN)


def initialise(incident: Incident) -> None:
    """A fresh, idle escalation state with a token unique to this incident."""
    _store(incident, EscalationState(token=secrets.token_hex(8)))


def _store(incident: Incident, state: EscalationState) -> None:
    incident.escalation_state = state.to_raw()
    incident.escalation_token = state.token
    incident.next_at = state.next_at


def apply_event(uow: UnitOfWork, deps: Deps, incident: Incident, event: Event) -> EscalationState:
    """Advance the machine under the caller's row lock and carry out its effects."""
    state, chain = _load(incident)
    now = deps.clock.now()
    new_state, effects = advance(state, chain, event, now)
    _store(incident, new_state)
    for effect in effects:
        _carry_out(uow, deps, incident, chain, effect, now)
    return new_state


def _carry_out(
    uow: UnitOfWork,
    deps: Deps,
    incident: Incident,
    chain: Chain,
    effect: NotifyTargets | TriggerWebhook | ResolveIncident | WakeAt | EscalationExhausted | StepSkipped,
    now: datetime,
) -> None:
    session = uow.session
    match effect:
        case WakeAt(when=when, token=token):
            job = tick_job(incident.id, token, when)
            uow.after_commit(partial(deps.queue.enqueue, job))
        case NotifyTargets():
            _notify(uow, deps, incident, effect, now)
        case TriggerWebhook(webhook_id=webhook_id, step_index=index):
            if session.get(OutgoingWebhook, webhook_id) is None:
                note = f"step {index + 1} skipped: webhook {webhook_id} no longer exists"
            else:
                note = f"step {index + 1}: trigger webhook {webhook_id}"
                webhooks.fire_one(uow, deps, incident, webhook_id, "escalation_step")
            timeline.record(
                session, incident.id, now, TimelineKind.ESCALATION_STEP, note, data={"webhook_id": webhook_id}
            )
        case ResolveIncident(step_index=index):
            mark_resolved(uow, deps, incident, f"escalation chain (step {index + 1})", channel=None)
        case EscalationExhausted():
            timeline.record(
                session,
                incident.id,
                now,
                TimelineKind.ESCALATION_EXHAUSTED,
                "escalation exhausted: nobody acknowledged; nothing pages until someone acts",
            )
        case StepSkipped(step_index=index, reason=reason):
            timeline.record(
                session, incident.id, now, TimelineKind.ESCALATION_STEP, f"step {index + 1} skipped: {reason}"
            )


def _notify(uow: UnitOfWork, deps: Deps, incident: Incident, effect: NotifyTargets, now: datetime) -> None:
    session = uow.session
    user_ids, notes = resolve_targets(session, incident, effect, now)
    step = f"step {effect.step_index + 1}"
    for note in notes:
        timeline.record(session, incident.id, now, TimelineKind.ESCALATION_STEP, f"{step}: {note}")
    if effect.kind is TargetKind.WHOLE_CHANNEL:
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.ESCALATION_STEP,
            f"{step}: notify the whole channel",
            data={"whole_channel": True},
        )
        return
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    paged = [users[u] for u in user_ids if u in users]
    if not paged:
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.ESCALATION_STEP,
            f"{step}: nobody to page ({effect.kind.value}); going on with the chain",
        )
        return
    kind = "important page" if effect.important else "page"
    timeline.record(
        session,
        incident.id,
        now,
        TimelineKind.ESCALATION_STEP,
        f"{step}: {kind} to " + ", ".join(u.name for u in paged),
        data={"user_ids": [u.id for u in paged], "important": effect.important, "step_run": effect.step_run},
    )
    for user in paged:
        deliveries.plan_for_user(uow, deps, incident, user, effect.step_run, effect.important)


def resolve_targets(
    session: Session, incident: Incident, effect: NotifyTargets, now: datetime
) -> tuple[list[str], list[str]]:
    """Turn a step's targets into user ids at ``now``, with notes on what could not be resolved."""
    notes: list[str] = []
    ids: list[str] = []
    if effect.kind is TargetKind.PERSONS:
        for person in effect.ids:
            if person == CURRENT_ONCALL:
                found = _current_oncall(session, incident, now, notes)
                ids.extend(found)
            else:
                ids.append(person)
    elif effect.kind is TargetKind.SCHEDULE:
        for schedule_id in effect.ids:
            found_ids = oncall.oncall_user_ids(session, schedule_id, now)
            if found_ids is None:
                notes.append(f"schedule {schedule_id} does not exist")
            elif not found_ids:
                notes.append(f"nobody is on call in schedule {schedule_id}")
            else:
                ids.extend(found_ids)
    elif effect.kind is TargetKind.TEAM:
        for team_id in effect.ids:
            ids.extend(directory.team_member_ids(session, team_id))
    unique = list(dict.fromkeys(ids))
    known = set(session.scalars(select(User.id).where(User.id.in_(unique)))) if unique else set()
    for missing in [u for u in unique if u not in known]:
        notes.append(f"user {missing} no longer exists")
    return [u for u in unique if u in known], notes


def _current_oncall(session: Session, incident: Incident, now: datetime, notes: list[str]) -> list[str]:
    schedule_id = oncall.team_schedule_id(session, incident.team_id)
    if schedule_id is None:
        notes.append("current_oncall: the team has no schedule")
        return []
    found = oncall.oncall_user_ids(session, schedule_id, now) or []
    if not found:
        notes.append(f"current_oncall: nobody is on call in schedule {schedule_id}")
    return found


def handle_tick(deps: Deps, incident_id: str, token: str) -> None:
    with deps.db.unit() as uow:
        incident = lock_incident(uow.session, incident_id)
        if incident is None or incident.escalation_token != token:
            return
        now = deps.clock.now()
        if incident.state == IncidentState.SILENCED.value and (
            incident.silenced_until is None or incident.silenced_until <= now
        ):
            incident.state = IncidentState.FIRING.value
            incident.silenced_until = None
            timeline.record(uow.session, incident.id, now, TimelineKind.UNSILENCED, "silence ended")
        apply_event(uow, deps, incident, Tick(token))


def mark_resolved(
    uow: UnitOfWork,
    deps: Deps,
    incident: Incident,
    actor: str,
    channel: str | None,
    actor_user_id: str | None = None,
) -> None:
    """Close the incident: stop its escalation, cancel pending pages, keep its timeline."""
    now = deps.clock.now()
    incident.state = IncidentState.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    incident.silenced_until = None
    incident.open_key = None
    apply_event(uow, deps, incident, Action.RESOLVE)
    deliveries.cancel_pending(uow.session, incident.id, now, "resolved")
    deliveries.recall_under_way(uow, deps, incident.id, "resolved")
    timeline.record(
        uow.session,
        incident.id,
        now,
        TimelineKind.RESOLVED,
        f"resolved by {actor}",
        actor=actor,
        channel=channel,
    )
    deliveries.notify_paged(uow, deps, incident, f"resolved by {actor}", actor_user_id)
    webhooks.fire(uow, deps, incident, "resolved")


def resolve_by_sender(uow: UnitOfWork, deps: Deps, incident: Incident, actor: str) -> None:
    mark_resolved(uow, deps, incident, actor, channel="integration")
