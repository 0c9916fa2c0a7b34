"""Outgoing webhooks (SPEC §4.8): stored definitions, the events that fire them, and the calls.

Each call is a job run after the triggering transaction commits; its result (status code or error)
lands on the incident's timeline. Retryable failures are retried a few times with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import Alert, Incident, OutgoingWebhook
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import Conflict, DeliveryFailed, NotFound, ValidationFailed
from engine.model.incident import TimelineKind
from engine.model.webhook import TRIGGER_TYPES
from engine.ports import Job
from engine.services import lookup, timeline
from engine.services.deps import Deps
from engine.services.directory import require_team

CALL = "webhook.call.v1"
MAX_ATTEMPTS = 4
_FIELDS = ("name", "team_id", "webhook_url", "trigger_type", "http_method", "headers", "data", "secret")


def get_webhook(session: Session, webhook_id: str) -> OutgoingWebhook:
    webhook = session.get(OutgoingWebhook, webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id!r} does not exist")
    return webhook


def create_webhook(session: Session, clock: Clock, fields: Mapping[str, Any]) -> OutgoingWebhook:
    webhook_id = fields.get("id") or new_id("W")
    if session.get(OutgoingWebhook, webhook_id) is not None:
        raise Conflict(f"webhook {webhook_id!r} already exists")
    webhook = OutgoingWebhook(id=webhook_id, created_at=clock.now(), headers={})
    _apply(session, webhook, {"trigger_type": "manual", "http_method": "POST", **fields})
    session.add(webhook)
    session.flush()
    return webhook


def update_webhook(session: Session, webhook_id: str, fields: Mapping[str, Any]) -> OutgoingWebhook:
    webhook = get_webhook(session, webhook_id)
    _apply(session, webhook, fields)
    session.flush()
    return webhook


def delete_webhook(session: Session, webhook_id: str) -> None:
    session.delete(get_webhook(session, webhook_id))
    session.flush()


def _apply(session: Session, webhook: OutgoingWebhook, fields: Mapping[str, Any]) -> None:
    fields = dict(fields)
    if "url" in fields and "webhook_url" not in fields:
        fields["webhook_url"] = fields.pop("url")
    if fields.get("trigger_type") is not None and fields["trigger_type"] not in TRIGGER_TYPES:
        raise ValidationFailed(
            f"trigger_type must be one of {', '.join(TRIGGER_TYPES)}", field="trigger_type"
        )
    require_team(session, fields.get("team_id"))
    for name in _FIELDS:
        if name in fields and fields[name] is not None:
            setattr(webhook, name, fields[name])
    if not webhook.webhook_url:
        raise ValidationFailed("webhook_url is required", field="webhook_url")


def call_job(webhook_id: str, incident_id: str, trigger: str, attempt: int = 0, run_at: Any = None) -> Job:
    return Job(
        kind=CALL,
        args={"webhook_id": webhook_id, "incident_id": incident_id, "trigger": trigger, "attempt": attempt},
        id=f"wh-{webhook_id}-{incident_id}-{trigger}-{attempt}-{new_id('')}",
        run_at=run_at,
    )


def fire(uow: UnitOfWork, deps: Deps, incident: Incident, trigger: str) -> int:
    """Queue every webhook of this trigger type for the incident's team (or for all teams)."""
    query = select(OutgoingWebhook.id).where(OutgoingWebhook.trigger_type == trigger)
    query = query.where(or_(OutgoingWebhook.team_id.is_(None), OutgoingWebhook.team_id == incident.team_id))
    ids = list(uow.session.scalars(query))
    for webhook_id in ids:
        uow.after_commit(partial(deps.queue.enqueue, call_job(webhook_id, incident.id, trigger)))
    return len(ids)


def fire_one(uow: UnitOfWork, deps: Deps, incident: Incident, webhook_id: str, trigger: str) -> None:
    get_webhook(uow.session, webhook_id)
    uow.after_commit(partial(deps.queue.enqueue, call_job(webhook_id, incident.id, trigger)))


def trigger_manual(deps: Deps, webhook_id: str, incident_ref: str, actor: str) -> None:
    """``POST webhooks/<id>/trigger/`` and the card's webhook buttons."""
    with deps.db.unit() as uow:
        webhook = get_webhook(uow.session, webhook_id)
        incident = lookup.find_incident(uow.session, incident_ref)
        timeline.record(
            uow.session,
            incident.id,
            deps.clock.now(),
            TimelineKind.WEBHOOK,
            f"{actor} triggered webhook {webhook.name}",
            actor=actor,
        )
        fire_one(uow, deps, incident, webhook.id, "manual")


def context_for(session: Session, incident: Incident, trigger: str, link: str) -> dict[str, Any]:
    last = session.scalar(
        select(Alert).where(Alert.incident_id == incident.id).order_by(Alert.updated_at.desc()).limit(1)
    )
    return {
        "event": {"type": trigger},
        "payload": (last.raw if last else {}) or {},
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "title": incident.title,
            "state": incident.state,
            "team_id": incident.team_id,
            "integration_id": incident.integration_id,
            "labels": incident.labels or {},
            "alerts_count": incident.alerts_count,
            "created_at": incident.created_at.isoformat(),
            "acknowledged_by": incident.acknowledged_by,
            "resolved_by": incident.resolved_by,
            "link": link,
        },
    }


def handle_call(deps: Deps, webhook_id: str, incident_id: str, trigger: str, attempt: int) -> None:
    if deps.webhooks is None:
        return
    with deps.db.unit() as uow:
        webhook = uow.session.get(OutgoingWebhook, webhook_id)
        incident = uow.session.get(Incident, incident_id)
        if webhook is None or incident is None:
            return
        fields = {name: getattr(webhook, name) for name in _FIELDS}
        context = context_for(uow.session, incident, trigger, deps.incident_link(incident.id))
        name = webhook.name
    try:
        response = deps.webhooks.call(fields, context)
        text = f"webhook {name} ({trigger}): HTTP {response.status_code} in {response.elapsed_ms} ms"
        data: dict[str, Any] = {"status_code": response.status_code, "body": response.body[:500]}
    except ValidationFailed as exc:
        text, data = f"webhook {name} ({trigger}) not sent: {exc.detail}", {"field": exc.field}
    except DeliveryFailed as exc:
        if exc.retryable and attempt + 1 < MAX_ATTEMPTS:
            delay = exc.retry_after if exc.retry_after is not None else 5 * 3**attempt
            at = deps.clock.now() + timedelta(seconds=delay)
            deps.queue.enqueue(call_job(webhook_id, incident_id, trigger, attempt + 1, at))
            text = f"webhook {name} ({trigger}) failed, retrying in {delay:.0f} s: {exc.detail}"
        else:
            text = f"webhook {name} ({trigger}) failed: {exc.detail}"
        data = {"status_code": exc.provider_code}
    with deps.db.unit() as uow:
        timeline.record(uow.session, incident_id, deps.clock.now(), TimelineKind.WEBHOOK, text, data=data)
