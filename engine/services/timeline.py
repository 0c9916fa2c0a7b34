"""Writing an incident's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db import TimelineEntry
from engine.model.incident import TimelineKind

TOUCHED = "tocsin.timeline_incidents"


def record(
    session: Session,
    incident_id: str,
    at: datetime,
    kind: TimelineKind,
    text: str,
    *,
    actor: str | None = None,
    channel: str | None = None,
    data: dict[str, Any] | None = None,
    publish: bool = True,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident_id,
        at=at,
        kind=kind.value,
        text=text,
        actor=actor,
        channel=channel,
        data=data or {},
    )
    session.add(entry)
    # Committed entries are published (card edit, thread line) by a listener on the unit of work.
    if publish:
        session.info.setdefault(TOUCHED, set()).add(incident_id)
    return entry


def touched_incidents(session: Session) -> set[str]:
    """Incidents whose timeline this session wrote to."""
    touched: set[str] = session.info.get(TOUCHED, set())
    return touched
