"""Escalation chains: validated, ordered steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import EscalationChain, EscalationStep, Schedule
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.model.escalation import (
    CURRENT_ONCALL,
    NotifyPersons,
    NotifySchedule,
    NotifyTeamMembers,
    chain_to_raw,
    parse_chain_steps,
)
from engine.services.directory import require_team, require_users


def get_chain(session: Session, chain_id: str) -> EscalationChain:
    chain = session.get(EscalationChain, chain_id)
    if chain is None:
        raise NotFound(f"escalation chain {chain_id!r} does not exist")
    return chain


def create_chain(session: Session, clock: Clock, fields: Mapping[str, Any]) -> EscalationChain:
    chain_id = fields.get("id") or new_id("E")
    if session.get(EscalationChain, chain_id) is not None:
        raise Conflict(f"escalation chain {chain_id!r} already exists")
    require_team(session, fields.get("team_id"))
    chain = EscalationChain(
        id=chain_id, name=fields["name"], team_id=fields.get("team_id"), created_at=clock.now()
    )
    chain.steps = _steps(session, chain_id, fields.get("steps") or [])
    session.add(chain)
    session.flush()
    return chain


def update_chain(session: Session, chain_id: str, fields: Mapping[str, Any]) -> EscalationChain:
    chain = get_chain(session, chain_id)
    if "team_id" in fields:
        require_team(session, fields["team_id"])
        chain.team_id = fields["team_id"]
    if fields.get("name") is not None:
        chain.name = fields["name"]
    if fields.get("steps") is not None:
        chain.steps = []
        session.flush()
        chain.steps = _steps(session, chain_id, fields["steps"])
    session.flush()
    return chain


def delete_chain(session: Session, chain_id: str) -> None:
    session.delete(get_chain(session, chain_id))
    session.flush()


def _steps(session: Session, chain_id: str, raw: Sequence[Mapping[str, Any]]) -> list[EscalationStep]:
    """Validate with the escalation model (naming the field at fault) and check what steps name."""
    parsed = parse_chain_steps(list(raw))
    for index, step in enumerate(parsed):
        if isinstance(step, NotifyPersons):
            people = [p for p in step.persons if p != CURRENT_ONCALL]
            require_users(session, people, field=f"steps[{index}].persons")
        elif isinstance(step, NotifyTeamMembers):
            require_team(session, step.team_id, field=f"steps[{index}].team_id")
        elif isinstance(step, NotifySchedule) and session.get(Schedule, step.schedule_id) is None:
            raise ValidationFailed(
                f"schedule {step.schedule_id!r} does not exist", field=f"steps[{index}].schedule_id"
            )
    return [
        EscalationStep(
            id=new_id("S"), chain_id=chain_id, position=index, type=item["type"], params=_params(item)
        )
        for index, item in enumerate(chain_to_raw(parsed))
    ]


def _params(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != "type"}


def chain_steps(chain: EscalationChain) -> list[dict[str, Any]]:
    return [{"type": s.type, **s.params} for s in chain.steps]
