"""Direct paging (``POST escalation/``, ``/oncall page``): an incident with no integration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.db import Incident, User
from engine.db.base import new_id
from engine.errors import InvalidTransition, ValidationFailed
from engine.model.escalation import NotifyPersons, NotifyTeamMembers, Step, chain_to_raw
from engine.model.incident import IncidentState, TimelineKind
from engine.rules.escalation import Action
from engine.services import deliveries, escalation, incidents, timeline, webhooks
from engine.services.deps import Deps
from engine.services.directory import require_team, require_users
from engine.services.incidents import Actor
from engine.services.numbering import next_value


@dataclass(frozen=True)
class Responder:
    user_id: str
    important: bool = False


def page(
    deps: Deps,
    title: str,
    message: str,
    actor: Actor,
    team_id: str | None = None,
    responders: Sequence[Responder] = (),
) -> Incident:
    """Open an incident that pages the named people (or the team's members) at once."""
    if not title.strip():
        raise ValidationFailed("a page needs a title", field="title")
    if not responders and team_id is None:
        raise ValidationFailed("name users to page or a team", field="users")
    with deps.db.unit() as uow:
        session = uow.session
        require_team(session, team_id)
        require_users(session, [r.user_id for r in responders], field="users")
        steps: list[Step] = []
        important = [r.user_id for r in responders if r.important]
        ordinary = [r.user_id for r in responders if not r.important]
        if important:
            steps.append(NotifyPersons(persons=tuple(important), important=True))
        if ordinary:
            steps.append(NotifyPersons(persons=tuple(ordinary), important=False))
        if not steps and team_id is not None:
            steps.append(NotifyTeamMembers(team_id=team_id))
        now = deps.clock.now()
        incident = Incident(
            id=new_id("I"),
            number=next_value(session, "incident"),
            title=title.strip()[:1000],
            message=message[:20000],
            state=IncidentState.FIRING.value,
            team_id=team_id,
            grouping_key=f"direct:{now.isoformat()}",
            created_at=now,
            last_alert_at=now,
            alerts_count=0,
            alerts_resolved=0,
            labels={},
            escalation_snapshot=chain_to_raw(steps),
        )
        session.add(incident)
        session.flush()
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.INCIDENT_OPENED,
            f"#{incident.number} {incident.title} (paged directly by {actor.name})",
            actor=actor.name,
            channel=actor.channel,
        )
        escalation.initialise(incident)
        escalation.apply_event(uow, deps, incident, Action.OPEN)
        webhooks.fire(uow, deps, incident, "incident_created")
        return incident


def add_responders(deps: Deps, ref: str | int, actor: Actor, responders: Sequence[Responder]) -> Incident:
    """Page more people for an open incident, once each; an acknowledged incident fires again."""
    if not responders:
        raise ValidationFailed("name at least one user to page", field="users")
    with deps.db.unit() as uow:
        session = uow.session
        require_users(session, [r.user_id for r in responders], field="users")
        incident = incidents.find(session, ref)
        locked = escalation.lock_incident(session, incident.id)
        assert locked is not None
        if locked.state == IncidentState.RESOLVED.value:
            raise InvalidTransition(
                f"incident #{locked.number} is resolved; reopen it first", locked.state, locked.resolved_by
            )
        now = deps.clock.now()
        locked.state = IncidentState.FIRING.value
        locked.acknowledged_at = None
        locked.acknowledged_by = None
        locked.silenced_until = None
        names = []
        for responder in responders:
            user = session.get(User, responder.user_id)
            assert user is not None
            names.append(user.name)
            deliveries.plan_for_user(
                uow, deps, locked, user, f"added-{now.timestamp():.0f}", responder.important
            )
        timeline.record(
            session,
            locked.id,
            now,
            TimelineKind.ESCALATION_STEP,
            f"{actor.name} added responders: " + ", ".join(names),
            actor=actor.name,
            channel=actor.channel,
        )
        return locked
