"""Job kinds and their handlers, independent of the queue that carries them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlalchemy import select

from engine.db import Delivery, Incident
from engine.ports import Job
from engine.services import deliveries, escalation
from engine.services.deps import Deps

SWEEP = "sweep.v1"
# A wake-up is re-sent only once it is this late, so the sweeper never races a healthy queue.
SWEEP_GRACE = timedelta(seconds=5)

JobArgs = Mapping[str, str | int | float | bool | None]


def _tick(deps: Deps, args: JobArgs) -> None:
    escalation.handle_tick(deps, str(args["incident_id"]), str(args["token"]))


def _send(deps: Deps, args: JobArgs) -> None:
    deliveries.handle_send(deps, str(args["delivery_id"]))


def _sweep(deps: Deps, _args: JobArgs) -> None:
    sweep(deps)


HANDLERS: dict[str, Callable[[Deps, JobArgs], None]] = {
    escalation.TICK: _tick,
    deliveries.SEND: _send,
    SWEEP: _sweep,
}


def run_job(deps: Deps, kind: str, args: JobArgs) -> None:
    """Run one job by kind; unknown kinds (from a newer version) raise so the queue keeps them."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise LookupError(f"unknown job kind {kind!r}")
    handler(deps, args)


def sweep(deps: Deps) -> int:
    """Re-enqueue every overdue wake-up and stuck delivery from the database; returns how many."""
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
    for job in jobs:
        deps.queue.enqueue(job)
    return len(jobs)
