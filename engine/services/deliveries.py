"""The delivery outbox: plan a page as a row, then send it once from a job."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from engine.db import Delivery, Incident, User
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import DeliveryFailed
from engine.model.incident import TimelineKind
from engine.ports import Job, Notifier, Page
from engine.services import timeline
from engine.services.deps import Deps

SEND = "delivery.send.v1"
MAX_ATTEMPTS = 6


def send_job(delivery_id: str, run_at: datetime | None = None, attempt: int = 0) -> Job:
    return Job(
        kind=SEND, args={"delivery_id": delivery_id}, id=f"send-{delivery_id}-{attempt}", run_at=run_at
    )


def user_channels(user: User, important: bool) -> list[tuple[str, str | None]]:
    """The (channel, address) pairs a default or important page reaches (SPEC §4.5)."""
    settings = user.notification_settings or {}
    channels = settings.get("notification_channels") or []
    chosen = [c for c in channels if bool(c.get("important", False)) == important]
    if important and not chosen:
        chosen = [c for c in channels if not c.get("important", False)]
    pairs: list[tuple[str, str | None]] = []
    for channel in chosen:
        kind = str(channel.get("type"))
        address = (
            channel.get("slack_user_id") or channel.get("telegram_chat_id") or channel.get("phone_number")
        )
        pairs.append((kind, str(address) if address is not None else None))
    return pairs or [("console", None)]


def plan(uow: UnitOfWork, deps: Deps, incident: Incident, user: User, step_run: str, important: bool) -> None:
    """Write one delivery row per channel, keyed so a re-run of the same step adds nothing."""
    session = uow.session
    now = deps.clock.now()
    for channel, address in user_channels(user, important):
        key = f"{incident.id}:{step_run}:{user.id}:{channel}"
        if session.query(Delivery.id).filter(Delivery.key == key).first() is not None:
            continue
        delivery = Delivery(
            id=new_id("D"),
            key=key,
            incident_id=incident.id,
            user_id=user.id,
            channel=channel,
            address=address,
            important=important,
            status="pending",
            attempts=0,
            due_at=now,
            data={},
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        session.flush()
        job = send_job(delivery.id)
        uow.after_commit(partial(deps.queue.enqueue, job))


def _notifier_for(deps: Deps, channel: str) -> tuple[Notifier | None, bool]:
    notifier = deps.notifiers.get(channel)
    if notifier is not None:
        return notifier, True
    return deps.fallback_notifier, False


def handle_send(deps: Deps, delivery_id: str) -> None:
    """Send a pending delivery once; record the outcome on the row and the incident's timeline."""
    with deps.db.unit() as uow:
        session = uow.session
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status not in ("pending", "retrying"):
            return
        incident = session.get(Incident, delivery.incident_id) if delivery.incident_id else None
        user = session.get(User, delivery.user_id) if delivery.user_id else None
        now = deps.clock.now()
        if incident is None or user is None:
            delivery.status = "cancelled"
            delivery.updated_at = now
            return
        if incident.state not in ("firing",):
            delivery.status = "cancelled"
            delivery.error = f"incident {incident.state} before the page went out"
            delivery.updated_at = now
            return
        notifier, configured = _notifier_for(deps, delivery.channel)
        delivery.attempts += 1
        delivery.updated_at = now
        page = Page(
            delivery_id=delivery.id,
            incident_id=incident.id,
            incident_number=incident.number,
            title=incident.title,
            text=incident.message,
            user_id=user.id,
            user_name=user.name,
            channel=delivery.channel,
            address=delivery.address,
            important=delivery.important,
            link=deps.incident_link(incident.id),
        )
        if notifier is None:
            delivery.status = "failed"
            delivery.error = "not configured"
            timeline.record(
                session,
                incident.id,
                now,
                TimelineKind.PAGE_FAILED,
                f"{delivery.channel} to {user.name}: not configured",
            )
            return
        try:
            result = notifier.send(page)
        except DeliveryFailed as exc:
            _record_failure(uow, deps, delivery, incident, user, exc, now)
            return
        delivery.status = result.status
        delivery.provider_id = result.provider_id
        delivery.sent_at = now
        suffix = "" if configured else " (not configured: shown on the console)"
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.PAGE_SENT,
            f"paged {user.name} by {delivery.channel}{suffix}",
            channel=delivery.channel,
            data={"delivery_id": delivery.id, "user_id": user.id},
        )


def _record_failure(
    uow: UnitOfWork,
    deps: Deps,
    delivery: Delivery,
    incident: Incident,
    user: User,
    exc: DeliveryFailed,
    now: datetime,
) -> None:
    if exc.retryable and delivery.attempts < MAX_ATTEMPTS:
        delay = exc.retry_after if exc.retry_after is not None else min(300.0, 2.0**delivery.attempts)
        delivery.status = "retrying"
        delivery.error = exc.detail
        delivery.due_at = now + timedelta(seconds=delay)
        job = send_job(delivery.id, delivery.due_at, delivery.attempts)
        uow.after_commit(lambda: deps.queue.enqueue(job))
        return
    delivery.status = "failed"
    delivery.error = exc.detail
    timeline.record(
        uow.session,
        incident.id,
        now,
        TimelineKind.PAGE_FAILED,
        f"{delivery.channel} to {user.name} failed: {exc.detail}",
        channel=delivery.channel,
        data={"delivery_id": delivery.id, "provider_code": exc.provider_code},
    )
