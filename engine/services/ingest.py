"""Alert ingest: store the delivery, group it into an incident, route it, start its escalation.

One transaction per delivery; the caller answers the sender only after it has committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import Alert, AlertPayload, Incident, Integration
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import NotFound, ValidationFailed
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload
from engine.model.incident import IncidentState, IngestOutcome, TimelineKind
from engine.services import escalation, integrations, maintenance, timeline
from engine.services.deps import Deps
from engine.services.numbering import next_value


class WrongIntegrationType(ValidationFailed):
    """The token belongs to an integration of another type."""


@dataclass(frozen=True)
class IngestResult:
    status: IngestOutcome
    incident_id: str | None
    alert_id: str | None
    incident_ids: tuple[str, ...] = field(default_factory=tuple)


def body_hash(payload: Any) -> str:
    """Hash of the canonical JSON, so a retried or HA-duplicated delivery is recognised."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


Parser = Callable[[Any, Mapping[str, str]], ParsedPayload]


class _ParseOnce:
    """Parse lazily (after the token is known to be good) and only once across retries."""

    def __init__(self, parse: Parser, payload: Any, headers: Mapping[str, str]) -> None:
        self._parse = parse
        self._args = (payload, headers)
        self._parsed: ParsedPayload | None = None

    def __call__(self) -> ParsedPayload:
        if self._parsed is None:
            self._parsed = self._parse(*self._args)
        return self._parsed


def ingest(
    deps: Deps,
    token: str,
    type_name: str,
    payload: Any,
    headers: Mapping[str, str],
    parse: Parser,
) -> IngestResult:
    """Store and process one delivery.

    Raises NotFound for an unknown token, WrongIntegrationType when the token belongs to another
    type, and ValidationFailed when ``parse`` rejects the payload; nothing is stored in those cases.
    """
    digest = body_hash(payload)
    parsed = _ParseOnce(parse, payload, headers)
    for _attempt in range(3):
        try:
            with deps.db.unit() as uow:
                return _ingest_once(uow, deps, token, type_name, payload, headers, parsed, digest)
        except IntegrityError:
            # Another request stored the same delivery or opened the same incident first;
            # the next attempt sees its row and joins it.
            continue
    with deps.db.unit() as uow:
        return _ingest_once(uow, deps, token, type_name, payload, headers, parsed, digest)


def _ingest_once(
    uow: UnitOfWork,
    deps: Deps,
    token: str,
    type_name: str,
    payload: Any,
    headers: Mapping[str, str],
    parse: _ParseOnce,
    digest: str,
) -> IngestResult:
    session = uow.session
    now = deps.clock.now()
    integration = integrations.find_by_token(session, token)
    if integration is None:
        raise NotFound("no integration has this URL")
    if integration.type != type_name:
        raise WrongIntegrationType(
            f"this URL belongs to a {integration.type!r} integration, not {type_name!r}", field="type"
        )
    existing = session.scalar(
        select(AlertPayload).where(
            AlertPayload.integration_id == integration.id, AlertPayload.body_hash == digest
        )
    )
    if existing is not None:
        return _duplicate(session, existing)
    parsed = parse()

    stored = AlertPayload(
        id=new_id("P"),
        integration_id=integration.id,
        body_hash=digest,
        payload=payload,
        headers=dict(headers),
        received_at=now,
    )
    session.add(stored)
    integration.last_payload = payload if isinstance(payload, dict) else {"payload": payload}
    session.flush()

    rendered = _render(deps, integration, payload, headers, parsed)
    group_key = rendered.get("grouping_key") or parsed.group_key
    open_key = _open_key(integration.id, group_key)
    incident = session.scalar(select(Incident).where(Incident.open_key == open_key))
    in_maintenance = maintenance.in_maintenance(session, integration, now)
    resolving = parsed.status == AlertStatus.RESOLVED or _truthy(rendered.get("resolve_condition"))

    if incident is None and resolving:
        return IngestResult(IngestOutcome.RESOLVED, None, None)

    created = incident is None
    if incident is None:
        incident = _open_incident(session, deps, integration, parsed, rendered, group_key, open_key, now)
        incident.in_maintenance = in_maintenance
    first_alert = _store_alerts(session, incident, stored.id, parsed.alerts, in_maintenance, now)
    incident.last_alert_at = now
    timeline.record(
        session,
        incident.id,
        now,
        TimelineKind.ALERT_RECEIVED,
        f"{len(parsed.alerts)} alert(s) received, {incident.alerts_resolved}/{incident.alerts_count} resolved",
        actor=integration.name,
        data={"payload_id": stored.id},
    )

    if created:
        if in_maintenance:
            timeline.record(
                session,
                incident.id,
                now,
                TimelineKind.MAINTENANCE,
                "arrived during maintenance: nobody paged",
            )
            status = IngestOutcome.MAINTENANCE
        else:
            escalation.start(uow, deps, incident)
            status = IngestOutcome.CREATED
    elif resolving and incident.state != IncidentState.RESOLVED:
        escalation.resolve_by_sender(uow, deps, incident, integration.name)
        status = IngestOutcome.RESOLVED
    else:
        status = IngestOutcome.GROUPED
    session.flush()
    return IngestResult(status, incident.id, first_alert.id if first_alert else None, (incident.id,))


def _duplicate(session: Session, existing: AlertPayload) -> IngestResult:
    alert = session.scalar(select(Alert).where(Alert.payload_id == existing.id).order_by(Alert.received_at))
    incident_id = alert.incident_id if alert else None
    return IngestResult(
        IngestOutcome.DUPLICATE,
        incident_id,
        alert.id if alert else None,
        (incident_id,) if incident_id else (),
    )


def _open_key(integration_id: str, group_key: str) -> str:
    return f"{integration_id}:{hashlib.sha256(group_key.encode('utf-8', 'replace')).hexdigest()[:40]}"


def _truthy(text: str | None) -> bool:
    return text is not None and text.strip().lower() in ("1", "true", "ok")


def _render(
    deps: Deps, integration: Integration, payload: Any, headers: Mapping[str, str], parsed: ParsedPayload
) -> dict[str, str]:
    """Render the integration's templates; any that fails falls back to the parsed value."""
    templates = dict(deps.default_templates(integration.type))
    templates.update({k: v for k, v in (integration.templates or {}).items() if isinstance(v, str)})
    context = {
        "payload": payload,
        "headers": dict(headers),
        "integration": {"id": integration.id, "name": integration.name, "type": integration.type},
    }
    out: dict[str, str] = {}
    errors: list[str] = []
    for name, template in templates.items():
        try:
            out[name] = deps.renderer.render(template, context)
        except ValidationFailed as exc:
            errors.append(f"{name}: {exc.detail}")
    if errors:
        out["_errors"] = "; ".join(errors)
    return out


def _open_incident(
    session: Session,
    deps: Deps,
    integration: Integration,
    parsed: ParsedPayload,
    rendered: Mapping[str, str],
    group_key: str,
    open_key: str,
    now: datetime,
) -> Incident:
    route = integrations.default_route(integration)
    title = (rendered.get("title") or "").strip() or parsed.title or integration.name
    incident = Incident(
        id=new_id("I"),
        number=next_value(session, "incident"),
        title=title[:1000],
        message=(rendered.get("message") or parsed.message or "")[:20000],
        source_link=(rendered.get("source_link") or "").strip() or parsed.source_link,
        state=IncidentState.FIRING.value,
        team_id=integration.team_id,
        integration_id=integration.id,
        route_id=route.id,
        escalation_chain_id=route.escalation_chain_id,
        grouping_key=group_key,
        open_key=open_key,
        labels=dict(parsed.labels),
        template_error=rendered.get("_errors"),
        slack_channel_id=route.slack_channel_id or integration.slack_channel_id,
        telegram_chat_id=route.telegram_chat_id or integration.telegram_chat_id,
        created_at=now,
        last_alert_at=now,
        alerts_count=0,
        alerts_resolved=0,
    )
    session.add(incident)
    session.flush()
    timeline.record(session, incident.id, now, TimelineKind.INCIDENT_OPENED, f"#{incident.number} {title}")
    if incident.template_error:
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.TEMPLATE_ERROR,
            f"template failed: {incident.template_error}",
        )
    return incident


def _store_alerts(
    session: Session,
    incident: Incident,
    payload_id: str,
    events: tuple[AlertEvent, ...],
    in_maintenance: bool,
    now: datetime,
) -> Alert | None:
    known = {a.fingerprint: a for a in session.scalars(select(Alert).where(Alert.incident_id == incident.id))}
    first: Alert | None = None
    for event in events:
        alert = known.get(event.fingerprint)
        if alert is None:
            alert = Alert(
                id=new_id("A"),
                incident_id=incident.id,
                fingerprint=event.fingerprint,
                received_at=now,
                in_maintenance=in_maintenance,
            )
            session.add(alert)
            known[event.fingerprint] = alert
        alert.payload_id = payload_id
        alert.status = event.status.value
        alert.title = event.title
        alert.labels = dict(event.labels)
        alert.annotations = dict(event.annotations)
        alert.source_link = event.source_link
        alert.raw = dict(event.raw)
        alert.starts_at = event.starts_at
        alert.ends_at = event.ends_at
        alert.updated_at = now
        first = first or alert
    incident.alerts_count = len(known)
    incident.alerts_resolved = sum(1 for a in known.values() if a.status == AlertStatus.RESOLVED)
    session.flush()
    return first
