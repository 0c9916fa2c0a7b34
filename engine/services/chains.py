"""Escalation chains: validated, ordered steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import EscalationChain, EscalationStep
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.services.directory import require_team


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
    chain.steps = _steps(chain_id, fields.get("steps") or [])
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
        chain.steps = _steps(chain_id, fields["steps"])
    session.flush()
    return chain


def delete_chain(session: Session, chain_id: str) -> None:
    session.delete(get_chain(session, chain_id))
    session.flush()


def _steps(chain_id: str, raw: Sequence[Mapping[str, Any]]) -> list[EscalationStep]:
    steps = []
    for index, item in enumerate(raw):
        step_type = item.get("type")
        if not isinstance(step_type, str) or not step_type:
            raise ValidationFailed("each step needs a type", field=f"steps[{index}].type")
        params = {k: v for k, v in item.items() if k != "type"}
        steps.append(
            EscalationStep(id=new_id("S"), chain_id=chain_id, position=index, type=step_type, params=params)
        )
    return steps


def chain_steps(chain: EscalationChain) -> list[dict[str, Any]]:
    return [{"type": s.type, **s.params} for s in chain.steps]
