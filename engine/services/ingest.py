"""Alert ingest: store the delivery, group it into an incident, route it, start its escalation.

One transaction per delivery; the caller answers the sender only after it has committed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import Alert, AlertPayload, Incident, Integration
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import NotFound, ValidationFailed
from engine.model.alert import AlertEvent, AlertStatus, ParsedPayload, SenderAction
from engine.model.incident import IncidentState, IngestOutcome, TimelineKind
from engine.rules.escalation import Action
from engine.rules.grouping import (
    GroupingConfig,
    group_timeout,
    grouping_key,
    joins_open_incident,
    open_key_for,
)
from engine.rules.routing import Headers, Route, RoutingType, choose_route, is_truthy_output
from engine.services import escalation, incidents, integrations, maintenance, timeline
from engine.services.deps import Deps
from engine.services.numbering import next_value


class WrongIntegrationType(ValidationFailed):
    """The token belongs to an integration of another type."""


class Source(StrEnum):
    """Who made a delivery, which decides what of the integration's configuration applies."""

    # A sender's delivery: templates and grouping configuration apply.
    SENDER = "sender"
    # ``POST integrations/<id>/test/``: an example sender payload through the same path, marked ``is_test``.
    TEST = "test"
    # Tocsin's own alert (a missed heartbeat): its parsed title and key are final, because the
    # integration's templates and grouping fields were written for its sender's payloads, not for this one.
    TOCSIN = "tocsin"


# Text that neither PostgreSQL (NUL) nor UTF-8 (lone surrogates) can store; templates can produce both.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class IngestResult:
    status: IngestOutcome
    incident_id: str | None
    alert_id: str | None
    incident_ids: tuple[str, ...] = field(default_factory=tuple)
    # The key the (first) alert was grouped under: what PagerDuty senders get back as ``dedup_key``,
    # which matters when they sent none and Tocsin generated one.
    group_key: str | None = None


# An identical body within this time of the first is a sender's retry (or an HA pair's twin) and is
# answered as a duplicate. Later it is a repeat notification: still a duplicate while what it opened is
# open, processed again once that was resolved. Tocsin's own alerts (missed heartbeats) stay duplicates
# for good: each names its outage.
DUPLICATE_WINDOW = timedelta(minutes=10)


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
    source: Source = Source.SENDER,
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
                return _ingest_once(uow, deps, token, type_name, payload, headers, parsed, digest, source)
        except IntegrityError:
            # Another request stored the same delivery or opened the same incident first;
            # the next attempt sees its row and joins it.
            continue
    with deps.db.unit() as uow:
        return _ingest_once(uow, deps, token, type_name, payload, headers, parsed, digest, source)


def _ingest_once(
    uow: UnitOfWork,
    deps: Deps,
    token: str,
    type_name: str,
    payload: Any,
    headers: Mapping[str, str],
    parse: _ParseOnce,
    digest: str,
    source: Source,
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
    own = source is Source.TOCSIN
    if existing is not None and _is_retry(session, existing, now, own):
        return _duplicate(session, existing)
    parsed = parse()

    if existing is not None:
        # The same body long after the first, and what it opened is resolved: a repeat notification
        # from a sender whose alert still fires (Alertmanager's repeat_interval) after someone resolved
        # the incident by hand. Processed again, it opens a new incident instead of being swallowed.
        stored = existing
        stored.headers = dict(headers)
        stored.received_at = now
    else:
        stored = AlertPayload(
            id=new_id("P"),
            integration_id=integration.id,
            body_hash=digest,
            payload=payload,
            headers=dict(headers),
            received_at=now,
        )
        session.add(stored)
    if not own:
        # What templates are checked against when they are saved; Tocsin's own alerts are not examples.
        integration.last_payload = payload if isinstance(payload, dict) else {"payload": payload}
    session.flush()

    rendered = {} if own else _render(deps, integration, payload, headers)
    config = None if own else _grouping_config(integration)
    groups: dict[str, list[AlertEvent]] = {}
    for alert in parsed.alerts:
        key = grouping_key(
            alert, payload, parsed.group_key, template_output=rendered.get("grouping_key"), config=config
        )
        groups.setdefault(key, []).append(alert)
    context = _Context(uow, deps, integration, payload, headers, parsed, rendered, stored.id, now)
    context.is_test = source is Source.TEST
    context.in_maintenance = maintenance.in_maintenance(session, integration, now)
    results = [
        _ingest_group(context, key, alerts, group_timeout(config), len(groups) > 1)
        for key, alerts in groups.items()
    ]
    session.flush()
    touched = tuple(dict.fromkeys(r[1] for r in results if r[1] is not None))
    status = min((r[0] for r in results), key=_OUTCOME_ORDER.index)
    first_alert = next((r[2] for r in results if r[2] is not None), None)
    return IngestResult(
        status, touched[0] if touched else None, first_alert, touched, next(iter(groups), None)
    )


_OUTCOME_ORDER = [
    IngestOutcome.CREATED,
    IngestOutcome.MAINTENANCE,
    IngestOutcome.RESOLVED,
    IngestOutcome.GROUPED,
    IngestOutcome.DUPLICATE,
]


class _Context:
    """What every group of one delivery shares."""

    def __init__(
        self,
        uow: UnitOfWork,
        deps: Deps,
        integration: Integration,
        payload: Any,
        headers: Mapping[str, str],
        parsed: ParsedPayload,
        rendered: dict[str, str],
        payload_id: str,
        now: datetime,
    ) -> None:
        self.uow, self.deps, self.integration = uow, deps, integration
        self.payload, self.headers, self.parsed, self.rendered = payload, headers, parsed, rendered
        self.payload_id, self.now = payload_id, now
        self.in_maintenance = False
        self.is_test = False


def _grouping_config(integration: Integration) -> GroupingConfig | None:
    try:
        return GroupingConfig.from_mapping(integration.grouping or {})
    except ValidationFailed:
        return None


def _ingest_group(
    ctx: _Context, key: str, alerts: list[AlertEvent], timeout: int | None, several: bool
) -> tuple[IngestOutcome, str | None, str | None]:
    session, deps, integration, now = ctx.uow.session, ctx.deps, ctx.integration, ctx.now
    parsed = ctx.parsed
    open_key = open_key_for(integration.id, key)
    incident = session.scalar(select(Incident).where(Incident.open_key == open_key))
    if incident is not None and not joins_open_incident(incident.last_alert_at, now, timeout):
        # Past the grouping timeout: the old incident stays open but takes no more alerts.
        incident.open_key = None
        session.flush()
        incident = None
    sender_resolves = parsed.status == AlertStatus.RESOLVED or parsed.action == SenderAction.RESOLVE
    sender_resolves = sender_resolves or is_truthy_output(ctx.rendered.get("resolve_condition", ""))
    sender_acks = parsed.action == SenderAction.ACKNOWLEDGE or is_truthy_output(
        ctx.rendered.get("acknowledge_condition", "")
    )
    all_resolved = all(a.status == AlertStatus.RESOLVED for a in alerts)
    if incident is None and (sender_resolves or sender_acks or all_resolved):
        # Nothing open to resolve or acknowledge: kept as a payload, like PagerDuty drops it.
        return IngestOutcome.RESOLVED if not sender_acks else IngestOutcome.GROUPED, None, None

    created = incident is None
    if incident is None:
        title = alerts[0].title if several else None
        incident = _open_incident(ctx, key, open_key, title)
        incident.in_maintenance = ctx.in_maintenance
    first_alert = _store_alerts(
        session,
        incident,
        ctx.payload_id,
        tuple(alerts),
        ctx.in_maintenance,
        now,
        # An acknowledge or resolve event names its alert but carries none of its content.
        update_content=parsed.action is SenderAction.TRIGGER,
    )
    incident.last_alert_at = now
    timeline.record(
        session,
        incident.id,
        now,
        TimelineKind.ALERT_RECEIVED,
        f"{len(alerts)} alert(s) received; {incident.alerts_resolved}/{incident.alerts_count} resolved",
        actor=integration.name,
        data={"payload_id": ctx.payload_id},
    )
    if not created and ctx.rendered.get("_errors"):
        # The incident keeps the error it opened with; later failures still belong on its timeline.
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.TEMPLATE_ERROR,
            f"template failed: {ctx.rendered['_errors']}",
        )
    alert_id = first_alert
    if created:
        _route(ctx, incident)
        escalation.start(ctx.uow, deps, incident, idle=ctx.in_maintenance)
        if ctx.in_maintenance:
            timeline.record(
                session,
                incident.id,
                now,
                TimelineKind.MAINTENANCE,
                "arrived during maintenance: nobody paged",
            )
            return IngestOutcome.MAINTENANCE, incident.id, alert_id
    if incident.state != IncidentState.RESOLVED and (
        sender_resolves or (incident.alerts_count > 0 and incident.alerts_resolved == incident.alerts_count)
    ):
        escalation.resolve_by_sender(ctx.uow, deps, incident, integration.name)
        return IngestOutcome.RESOLVED, incident.id, alert_id
    if sender_acks and incident.state in (IncidentState.FIRING, IncidentState.SILENCED):
        incidents.mark_acknowledged(ctx.uow, deps, incident, incidents.Actor(integration.name, "integration"))
    elif not created and not ctx.in_maintenance:
        # Starts an escalation that maintenance held back; does nothing to a running one.
        escalation.apply_event(ctx.uow, deps, incident, Action.NEW_ALERT)
    return (IngestOutcome.CREATED if created else IngestOutcome.GROUPED), incident.id, alert_id


def _route(ctx: _Context, incident: Incident) -> None:
    """Pick the route (ordered regex / Jinja2 conditions, default last) and take its chain and chats."""
    session, integration = ctx.uow.session, ctx.integration
    rows = {r.id: r for r in integration.routes}
    values = [
        Route(r.id, r.position, RoutingType(r.routing_type), r.routing_regex, r.is_default)
        for r in rows.values()
    ]
    problems: list[str] = []
    chosen = choose_route(
        values,
        ctx.payload,
        ctx.headers,
        ctx.deps.renderer,
        on_error=lambda route, exc: problems.append(f"route {route.id} failed: {exc.detail}"),
    )
    row = rows[chosen.id]
    incident.route_id = row.id
    incident.escalation_chain_id = row.escalation_chain_id
    incident.slack_channel_id = row.slack_channel_id or integration.slack_channel_id
    incident.telegram_chat_id = row.telegram_chat_id or integration.telegram_chat_id
    label = "default route" if row.is_default else f"route {row.id} ({row.routing_regex})"
    timeline.record(session, incident.id, ctx.now, TimelineKind.ROUTED, f"routed by {label}")
    for problem in problems:
        timeline.record(session, incident.id, ctx.now, TimelineKind.TEMPLATE_ERROR, problem)


def _latest_alert(session: Session, existing: AlertPayload) -> Alert | None:
    """The first alert of the payload's latest processing (a repeat may have opened a newer incident)."""
    latest = session.scalar(select(func.max(Alert.updated_at)).where(Alert.payload_id == existing.id))
    return session.scalar(
        select(Alert)
        .where(Alert.payload_id == existing.id, Alert.updated_at == latest)
        .order_by(Alert.received_at)
        .limit(1)
    )


def _is_retry(session: Session, existing: AlertPayload, now: datetime, own: bool) -> bool:
    """An identical body is a retry unless it comes after :data:`DUPLICATE_WINDOW` and what it opened
    last time has been resolved since: then it is the sender saying "still firing"."""
    if own or now - existing.received_at < DUPLICATE_WINDOW:
        return True
    alert = _latest_alert(session, existing)
    return alert is None or alert.incident.state != IncidentState.RESOLVED


def _duplicate(session: Session, existing: AlertPayload) -> IngestResult:
    alert = _latest_alert(session, existing)
    incident_id = alert.incident_id if alert else None
    return IngestResult(
        IngestOutcome.DUPLICATE,
        incident_id,
        alert.id if alert else None,
        (incident_id,) if incident_id else (),
        alert.incident.grouping_key if alert else None,
    )


def _render(deps: Deps, integration: Integration, payload: Any, headers: Mapping[str, str]) -> dict[str, str]:
    """Render the integration's templates; one that fails (or a title that renders blank) falls back
    to the type's default, and the failure is kept under ``_errors`` for the incident and its timeline.
    """
    defaults = deps.default_templates(integration.type)
    custom = {k: v for k, v in (integration.templates or {}).items() if isinstance(v, str)}
    context = {
        "payload": payload,
        "headers": Headers(headers),
        "integration": {"id": integration.id, "name": integration.name, "type": integration.type},
    }
    out: dict[str, str] = {}
    errors: list[str] = []
    for name in dict.fromkeys([*defaults, *custom]):
        text: str | None = None
        if name in custom:
            try:
                text = deps.renderer.render(custom[name], context)
            except ValidationFailed as exc:
                errors.append(f"{name}: {exc.detail}; used the default")
            else:
                if name == "title" and not text.strip():
                    errors.append("title: rendered empty; used the default")
                    text = None
        if text is None and name in defaults:
            try:
                text = deps.renderer.render(defaults[name], context)
            except ValidationFailed as exc:
                errors.append(f"default {name}: {exc.detail}")
        if text is not None:
            out[name] = _UNSTORABLE.sub("\ufffd", text)
    if errors:
        out["_errors"] = "; ".join(errors)
    return out


def _open_incident(ctx: _Context, group_key: str, open_key: str, title: str | None) -> Incident:
    session, integration, parsed, rendered, now = (
        ctx.uow.session,
        ctx.integration,
        ctx.parsed,
        ctx.rendered,
        ctx.now,
    )
    title = title or (rendered.get("title") or "").strip() or parsed.title or integration.name
    incident = Incident(
        id=new_id("I"),
        number=next_value(session, "incident"),
        title=title[:1000],
        message=(rendered.get("message") or parsed.message or "")[:20000],
        source_link=(rendered.get("source_link") or "").strip() or parsed.source_link,
        state=IncidentState.FIRING.value,
        team_id=integration.team_id,
        integration_id=integration.id,
        grouping_key=group_key,
        open_key=open_key,
        labels=dict(parsed.labels),
        is_test=ctx.is_test,
        template_error=rendered.get("_errors"),
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
    *,
    update_content: bool = True,
) -> str | None:
    """Store the payload's alerts on ``incident``; answers the id of the first one.

    Alerts already on the incident (same fingerprint) are updated; new ones go in as one bulk INSERT,
    which keeps a group of thousands of alerts well inside the sender's timeout.
    """
    known = {a.fingerprint: a for a in session.scalars(select(Alert).where(Alert.incident_id == incident.id))}
    fresh: dict[str, dict[str, Any]] = {}
    first: str | None = None
    for event in events:
        alert = known.get(event.fingerprint)
        if alert is None:
            row = fresh.get(event.fingerprint)
            if row is None:
                row = fresh[event.fingerprint] = {
                    "id": new_id("A"),
                    "incident_id": incident.id,
                    "fingerprint": event.fingerprint,
                    "received_at": now,
                    "in_maintenance": in_maintenance,
                }
            row.update(_alert_content(event, payload_id, now))
            first = first or row["id"]
            continue
        if update_content:
            for name, value in _alert_content(event, payload_id, now).items():
                setattr(alert, name, value)
        else:
            alert.payload_id = payload_id
            alert.status = event.status.value
            alert.ends_at = event.ends_at or alert.ends_at
            alert.updated_at = now
        first = first or alert.id
    if fresh:
        session.execute(insert(Alert), list(fresh.values()))
        session.expire(incident, ["alerts"])
    statuses = [a.status for a in known.values()] + [row["status"] for row in fresh.values()]
    incident.alerts_count = len(statuses)
    incident.alerts_resolved = sum(1 for status in statuses if status == AlertStatus.RESOLVED)
    session.flush()
    return first


def _alert_content(event: AlertEvent, payload_id: str, now: datetime) -> dict[str, Any]:
    return {
        "payload_id": payload_id,
        "status": event.status.value,
        "title": event.title,
        "labels": dict(event.labels),
        "annotations": dict(event.annotations),
        "source_link": event.source_link,
        "raw": dict(event.raw),
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "updated_at": now,
    }
