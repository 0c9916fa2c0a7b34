"""Heartbeats: a monitoring system checks in regularly; silence longer than its interval is an incident.

An integration with ``heartbeat_interval`` is watched from its first check-in on (before that there is
nothing to miss, as in Grafana OnCall). The sweeper opens one incident per outage through the normal
ingest path, so routing, maintenance and escalation apply as to any alert; its grouping key is
``heartbeat``, so there is only ever one open. The next check-in resolves it.

The alert's payload names the outage by the last check-in it followed, so every sweeper that sees the
same outage sends the identical payload and ingest's duplicate check keeps it to one incident, even
after someone resolved it by hand while the integration stays silent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.db import Incident, Integration
from engine.errors import NotFound, TocsinError
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload
from engine.model.incident import IngestOutcome
from engine.rules.grouping import open_key_for
from engine.services import integrations
from engine.services.deps import Deps
from engine.services.ingest import Parser, Source, WrongIntegrationType, ingest

log = logging.getLogger(__name__)

GROUP_KEY = "heartbeat"
_LABELS = {"alertname": "Heartbeat"}


@dataclass(frozen=True)
class CheckIn:
    """A recorded check-in; ``resolved_incident_id`` names the outage it ended, if one was open."""

    integration_id: str
    at: datetime
    resolved_incident_id: str | None = None


@dataclass(frozen=True)
class _Watched:
    id: str
    name: str
    type: str
    token: str
    interval: int
    last: datetime


def check_in(deps: Deps, token: str, type_name: str) -> CheckIn:
    """Record a check-in and resolve the open heartbeat incident, if any.

    Raises NotFound for an unknown token and WrongIntegrationType when it belongs to another type.
    """
    now = deps.clock.now()
    with deps.db.unit() as uow:
        integration = integrations.find_by_token(uow.session, token)
        if integration is None:
            raise NotFound("no integration has this URL")
        if integration.type != type_name:
            raise WrongIntegrationType(
                f"this URL belongs to a {integration.type!r} integration, not {type_name!r}", field="type"
            )
        integration.last_heartbeat_at = now
        integration_id, name = integration.id, integration.name
        outage = uow.session.scalar(
            select(Incident.id).where(Incident.open_key == open_key_for(integration_id, GROUP_KEY))
        )
    if outage is None:
        return CheckIn(integration_id, now)
    # Only when an outage is open, so routine check-ins store nothing but the time.
    payload = {
        **_LABELS,
        "status": "resolved",
        "integration_id": integration_id,
        "checked_in_at": now.isoformat(),
    }
    title = f"Heartbeat from {name} is back"
    result = ingest(
        deps, token, type_name, payload, {}, _parser(title, AlertStatus.RESOLVED, ""), Source.TOCSIN
    )
    return CheckIn(integration_id, now, result.incident_id)


def check_overdue(deps: Deps) -> list[str]:
    """Open an incident for every watched integration silent for longer than its interval.

    Returns the ids of the incidents opened. An integration that cannot be alerted on (deleted
    meanwhile) is logged and skipped, so one bad row never stops the others.
    """
    now = deps.clock.now()
    with deps.db.unit() as uow:
        rows = uow.session.execute(
            select(
                Integration.id,
                Integration.name,
                Integration.type,
                Integration.token,
                Integration.heartbeat_interval,
                Integration.last_heartbeat_at,
            ).where(Integration.heartbeat_interval.is_not(None), Integration.last_heartbeat_at.is_not(None))
        )
        watched = [
            _Watched(row_id, name, type_name, token, interval, last)
            for row_id, name, type_name, token, interval, last in rows
            if interval and last is not None
        ]
        overdue = [w for w in watched if now - w.last > timedelta(seconds=w.interval)]
        keys = {open_key_for(w.id, GROUP_KEY): w for w in overdue}
        already_open = set(
            uow.session.scalars(select(Incident.open_key).where(Incident.open_key.in_(list(keys))))
            if keys
            else ()
        )
    opened: list[str] = []
    for key, silent in keys.items():
        if key in already_open:
            continue
        try:
            result = _raise_missed(deps, silent, now)
        except TocsinError as exc:
            log.warning("heartbeat check for integration %s failed: %s", silent.id, exc)
            continue
        if result is not None:
            opened.append(result)
    return opened


def _raise_missed(deps: Deps, watched: _Watched, now: datetime) -> str | None:
    silent = int((now - watched.last).total_seconds())
    last = watched.last.strftime("%Y-%m-%d %H:%M:%S UTC")
    payload = {
        **_LABELS,
        "status": "firing",
        "integration_id": watched.id,
        "heartbeat_interval": watched.interval,
        "last_heartbeat_at": watched.last.isoformat(),
    }
    title = f"No heartbeat from {watched.name} for {silent} s"
    message = f"The last check-in was at {last}; one is expected every {watched.interval} s."
    parse = _parser(title, AlertStatus.FIRING, message)
    result = ingest(deps, watched.token, watched.type, payload, {}, parse, Source.TOCSIN)
    opened = result.status in (IngestOutcome.CREATED, IngestOutcome.MAINTENANCE)
    return result.incident_id if opened else None


def _parser(title: str, status: AlertStatus, message: str) -> Parser:
    def parse(payload: Any, _headers: Mapping[str, str]) -> ParsedPayload:
        alert = AlertEvent(
            fingerprint=GROUP_KEY, status=status, title=title, labels=_LABELS, raw=dict(payload)
        )
        return ParsedPayload(
            group_key=GROUP_KEY, status=status, alerts=(alert,), title=title, message=message, labels=_LABELS
        )

    return parse
