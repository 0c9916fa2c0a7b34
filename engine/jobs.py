"""Job kinds and their handlers, independent of the queue that carries them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.db import Delivery, Incident
from engine.db.session import UnitOfWork
from engine.errors import DeliveryFailed
from engine.model.incident import TimelineKind
from engine.ports import Job
from engine.services import (
    announcements,
    calendar_sync,
    deliveries,
    escalation,
    heartbeat,
    timeline,
    webhooks,
)
from engine.services.deps import Deps

SWEEP = "sweep.v1"
PUBLISH = "event.publish.v1"
# A wake-up is re-sent only once it is this late, so the sweeper never races a healthy queue.
SWEEP_GRACE = timedelta(seconds=5)

JobArgs = Mapping[str, str | int | float | bool | None]


def _tick(deps: Deps, args: JobArgs) -> None:
    escalation.handle_tick(deps, str(args["incident_id"]), str(args["token"]))


def _send(deps: Deps, args: JobArgs) -> None:
    deliveries.handle_send(deps, str(args["delivery_id"]))


def _recall(deps: Deps, args: JobArgs) -> None:
    deliveries.handle_recall(deps, str(args["delivery_id"]), str(args.get("reason") or "closed"))


def _publish(deps: Deps, args: JobArgs) -> None:
    """Update the incident's chat cards; a provider failure retries later or lands on the timeline."""
    if deps.publisher is None:
        return
    incident_id = str(args["incident_id"])
    try:
        deps.publisher.publish(incident_id)
    except DeliveryFailed as exc:
        now = deps.clock.now()
        if exc.retryable:
            at = now + timedelta(seconds=exc.retry_after if exc.retry_after is not None else 5)
            deps.queue.enqueue(replace(publish_job(incident_id, at), run_at=at))
            return
        with deps.db.unit() as uow:
            # Not published itself (publish=False): a chat that refuses must not loop.
            timeline.record(
                uow.session,
                incident_id,
                now,
                TimelineKind.PAGE_FAILED,
                f"chat card not updated: {exc.detail}",
                data={"provider_code": exc.provider_code},
                publish=False,
            )


def publish_job(incident_id: str, at: datetime) -> Job:
    """One publish per incident and instant; a queued one already covers later entries too."""
    return Job(
        kind=PUBLISH,
        args={"incident_id": incident_id},
        id=f"pub-{incident_id}-{at.timestamp():.3f}".replace(".", "_"),
    )


def enqueue_publishes(deps: Deps, uow: UnitOfWork) -> None:
    """Commit listener: every incident whose timeline changed gets its card updated."""
    if deps.publisher is None:
        return
    now = deps.clock.now()
    for incident_id in sorted(timeline.touched_incidents(uow.session)):
        deps.queue.enqueue(publish_job(incident_id, now))


def _webhook(deps: Deps, args: JobArgs) -> None:
    webhooks.handle_call(
        deps,
        str(args["webhook_id"]),
        str(args["incident_id"]),
        str(args["trigger"]),
        int(args.get("attempt") or 0),
    )


def _announce(deps: Deps, args: JobArgs) -> None:
    announcements.handle_send(deps, str(args["announcement_id"]))


def _sweep(deps: Deps, _args: JobArgs) -> None:
    sweep(deps)


HANDLERS: dict[str, Callable[[Deps, JobArgs], None]] = {
    escalation.TICK: _tick,
    deliveries.SEND: _send,
    deliveries.RECALL: _recall,
    SWEEP: _sweep,
    PUBLISH: _publish,
    webhooks.CALL: _webhook,
    announcements.SEND: _announce,
}


def run_job(deps: Deps, kind: str, args: JobArgs) -> None:
    """Run one job by kind; unknown kinds (from a newer version) raise so the queue keeps them."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise LookupError(f"unknown job kind {kind!r}")
    handler(deps, args)


def sweep(deps: Deps) -> int:
    """Re-enqueue every overdue wake-up and stuck delivery from the database; returns how many.

    Also opens an incident for every integration whose heartbeat is overdue, refreshes due calendar
    feeds and announces on-call handoffs and coverage gaps in team chats (none of these counted).
    """
    now = deps.clock.now()
    cutoff = now - SWEEP_GRACE
    jobs: list[Job] = []
    with deps.db.unit() as uow:
        session = uow.session
        for incident_id, token in session.execute(
            select(Incident.id, Incident.escalation_token).where(
                Incident.next_at.is_not(None), Incident.next_at <= cutoff
            )
        ):
            if token:
                jobs.append(escalation.tick_job(incident_id, token, None))
        for delivery_id, attempts in session.execute(
            select(Delivery.id, Delivery.attempts).where(
                Delivery.status.in_(("pending", "retrying")), Delivery.due_at <= cutoff
            )
        ):
            jobs.append(deliveries.send_job(delivery_id, None, attempts))
        jobs += announcements.unsent(session, cutoff)
    for job in jobs:
        deps.queue.enqueue(job)
    heartbeat.check_overdue(deps)
    calendar_sync.refresh_due_calendars(deps)
    announcements.check_schedules(deps)
    return len(jobs)
