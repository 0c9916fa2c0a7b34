"""Maintenance: windows and per-integration maintenance mode (SPEC §4.10).

Alerts that arrive in maintenance are stored and grouped but page nobody and post nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import Integration, MaintenanceWindow
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed
from engine.services.integrations import get_integration

MAX_MAINTENANCE = timedelta(days=30)


def _check_integrations(session: Session, ids: Sequence[str]) -> list[str]:
    if not ids:
        raise ValidationFailed("name at least one integration", field="integration_ids")
    for index, integration_id in enumerate(ids):
        if session.get(Integration, integration_id) is None:
            raise ValidationFailed(
                f"integration {integration_id!r} does not exist", field=f"integration_ids[{index}]"
            )
    return list(dict.fromkeys(ids))


def create_window(session: Session, clock: Clock, fields: Mapping[str, Any]) -> MaintenanceWindow:
    window_id = fields.get("id") or new_id("M")
    if session.get(MaintenanceWindow, window_id) is not None:
        raise Conflict(f"maintenance window {window_id!r} already exists")
    start, end = fields["start_time"], fields["end_time"]
    if end <= start:
        raise ValidationFailed("end_time must be after start_time", field="end_time")
    window = MaintenanceWindow(
        id=window_id,
        integration_ids=_check_integrations(session, fields.get("integration_ids") or []),
        start_time=start,
        end_time=end,
        created_at=clock.now(),
    )
    session.add(window)
    session.flush()
    return window


def get_window(session: Session, window_id: str) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound(f"maintenance window {window_id!r} does not exist")
    return window


def update_window(session: Session, window_id: str, fields: Mapping[str, Any]) -> MaintenanceWindow:
    window = get_window(session, window_id)
    if "integration_ids" in fields:
        window.integration_ids = _check_integrations(session, fields["integration_ids"] or [])
    window.start_time = fields.get("start_time") or window.start_time
    window.end_time = fields.get("end_time") or window.end_time
    if window.end_time <= window.start_time:
        raise ValidationFailed("end_time must be after start_time", field="end_time")
    session.flush()
    return window


def delete_window(session: Session, window_id: str) -> None:
    session.delete(get_window(session, window_id))
    session.flush()


def start_maintenance(session: Session, integration_id: str, now: datetime, seconds: int) -> Integration:
    """Put one integration in maintenance for ``seconds`` from now."""
    if seconds < 1 or timedelta(seconds=seconds) > MAX_MAINTENANCE:
        raise ValidationFailed("duration must be between 1 second and 30 days", field="duration")
    integration = get_integration(session, integration_id)
    integration.maintenance_started_at = now
    integration.maintenance_until = now + timedelta(seconds=seconds)
    session.flush()
    return integration


def stop_maintenance(session: Session, integration_id: str) -> Integration:
    integration = get_integration(session, integration_id)
    integration.maintenance_started_at = None
    integration.maintenance_until = None
    session.flush()
    return integration


def in_maintenance(session: Session, integration: Integration, now: datetime) -> bool:
    if integration.maintenance_until is not None and integration.maintenance_until > now:
        return True
    windows = session.scalars(
        select(MaintenanceWindow).where(MaintenanceWindow.start_time <= now, MaintenanceWindow.end_time > now)
    )
    return any(integration.id in (w.integration_ids or []) for w in windows)
