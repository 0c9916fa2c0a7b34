"""Writing an incident's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db import TimelineEntry
from engine.model.incident import TimelineKind


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
    return entry
