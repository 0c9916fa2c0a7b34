"""Reading an incident into an :class:`IncidentSnapshot` for cards, SMS and voice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Alert, Incident, Integration, OutgoingWebhook, Team, TimelineEntry
from engine.model.snapshot import IncidentSnapshot, Link, TimelineLine

SEVERITY_LABELS = ("severity", "priority", "level")
_LINK_FIELDS = (
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("silenceURL", "Silence"),
    ("generatorURL", "Source"),
)
MAX_ALERT_TITLES = 60


def snapshot(
    session: Session, incident: Incident, web_link: str, timeline_after: int = 0
) -> IncidentSnapshot:
    alerts = list(
        session.scalars(select(Alert).where(Alert.incident_id == incident.id).order_by(Alert.received_at))
    )
    labels: dict[str, str] = {k: str(v) for k, v in (incident.labels or {}).items()}
    if not labels and alerts:
        labels = {k: str(v) for k, v in (alerts[0].labels or {}).items()}
    severity = next((labels[k] for k in SEVERITY_LABELS if labels.get(k)), None)
    runbook = None
    links: list[Link] = []
    seen: set[str] = set()
    for alert in alerts:
        annotations = alert.annotations or {}
        runbook = runbook or annotations.get("runbook_url") or annotations.get("runbook")
        for key, label in _LINK_FIELDS:
            url = (alert.raw or {}).get(key)
            if isinstance(url, str) and url.startswith(("http://", "https://")) and url not in seen:
                seen.add(url)
                links.append(Link(label, url))
    integration = session.get(Integration, incident.integration_id) if incident.integration_id else None
    team = session.get(Team, incident.team_id) if incident.team_id else None
    hooks = session.execute(
        select(OutgoingWebhook.id, OutgoingWebhook.name).where(
            OutgoingWebhook.trigger_type == "manual",
            (OutgoingWebhook.team_id == incident.team_id) | OutgoingWebhook.team_id.is_(None),
        )
    ).all()
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.id > timeline_after)
        .order_by(TimelineEntry.id)
    )
    return IncidentSnapshot(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        message=incident.message,
        state=incident.state,
        severity=severity,
        labels=labels,
        alerts_count=incident.alerts_count,
        alerts_resolved=incident.alerts_resolved,
        created_at=incident.created_at,
        web_link=web_link,
        source_link=incident.source_link,
        runbook_url=runbook
        if isinstance(runbook, str) and runbook.startswith(("http://", "https://"))
        else None,
        links=tuple(links[:10]),
        acknowledged_by=incident.acknowledged_by,
        acknowledged_at=incident.acknowledged_at,
        resolved_by=incident.resolved_by,
        resolved_at=incident.resolved_at,
        silenced_until=incident.silenced_until,
        integration_name=integration.name if integration else None,
        team_id=incident.team_id,
        slack_channel_id=incident.slack_channel_id or (team.slack_channel_id if team else None),
        telegram_chat_id=incident.telegram_chat_id or (team.telegram_chat_id if team else None),
        in_maintenance=incident.in_maintenance,
        is_test=incident.is_test,
        template_error=incident.template_error,
        alert_titles=tuple(a.title for a in alerts[:MAX_ALERT_TITLES]),
        manual_webhooks=tuple((row[0], row[1]) for row in hooks),
        timeline=tuple(TimelineLine(e.id, e.at, e.kind, e.text, e.actor) for e in entries),
    )
