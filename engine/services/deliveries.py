"""The delivery outbox: each planned notification is a row before any provider is called.

Rows are written in the same transaction as the escalation step that planned them, keyed by
(incident, step run, user, rule, channel, address), so a re-run adds nothing; a job sends each
row once and records what the provider said.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Delivery, Incident, User
from engine.db.base import new_id
from engine.db.session import UnitOfWork
from engine.errors import DeliveryFailed, ValidationFailed
from engine.model.incident import IncidentState, TimelineKind
from engine.model.notification import (
    ADDRESS_FIELDS,
    ChannelType,
    NotificationSettings,
    parse_notification_settings,
)
from engine.ports import BundledIncident, Job, Notifier, Page, Recaller
from engine.rules.planning import PlannedNotification, plan_notifications
from engine.services import bundling, phones, timeline
from engine.services.deps import Deps

log = logging.getLogger(__name__)

SEND = "delivery.send.v1"
RECALL = "delivery.recall.v1"
MAX_ATTEMPTS = 6
CONSOLE = "console"
OPEN_STATUSES = ("pending", "retrying")
ANSWERED = "answered_with"  # in a call's data once the callee pressed a key: it reached them


def send_job(delivery_id: str, run_at: datetime | None = None, attempt: int = 0) -> Job:
    return Job(
        kind=SEND, args={"delivery_id": delivery_id}, id=f"send-{delivery_id}-{attempt}", run_at=run_at
    )


def user_settings(user: User) -> NotificationSettings:
    """The user's stored SPEC §4.5 settings; stored bodies were validated, so a failure means none."""
    try:
        return parse_notification_settings(user.notification_settings or {})
    except ValidationFailed:
        return NotificationSettings()


def addresses(user: User, settings: NotificationSettings, channel: ChannelType) -> list[str | None]:
    """Every address of ``channel`` (a channel without one uses the user's profile field)."""
    found: list[str | None] = []
    for item in settings.channels:
        if item.type is channel:
            found.append(item.address or getattr(user, ADDRESS_FIELDS[channel], None))
    return list(dict.fromkeys(found)) or [getattr(user, ADDRESS_FIELDS[channel], None)]


def plan_for_user(
    uow: UnitOfWork, deps: Deps, incident: Incident, user: User, step_run: int | str, important: bool
) -> None:
    """Plan one page of ``user`` through their notification rules, replacing their pending ones."""
    session = uow.session
    now = deps.clock.now()
    cancel_pending(
        session, incident.id, now, "replaced by a later escalation step", user_id=user.id, keep_overdue=True
    )
    settings = user_settings(user)
    plan: tuple[PlannedNotification, ...] = plan_notifications(settings, important)
    if not plan:
        _add(
            uow, deps, incident, user, f"{step_run}:0", CONSOLE, None, important, now, {"step_run": step_run}
        )
        return
    for entry in plan:
        for address in addresses(user, settings, entry.channel):
            _add(
                uow,
                deps,
                incident,
                user,
                f"{step_run}:{entry.rule_index}",
                entry.channel.value,
                address,
                important,
                now + entry.offset,
                {"step_run": step_run, "rule_index": entry.rule_index},
            )


def _add(
    uow: UnitOfWork,
    deps: Deps,
    incident: Incident,
    user: User,
    slot: str,
    channel: str,
    address: str | None,
    important: bool,
    due_at: datetime,
    data: dict[str, Any],
    kind: str = "page",
) -> None:
    session = uow.session
    key = f"{incident.id}:{kind}:{slot}:{user.id}:{channel}:{address or '-'}"[:255]
    if session.scalar(select(Delivery.id).where(Delivery.key == key)) is not None:
        return
    now = deps.clock.now()
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
        due_at=due_at,
        data={**data, "kind": kind},
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    session.flush()
    job = send_job(delivery.id, due_at if due_at > now else None)
    uow.after_commit(partial(deps.queue.enqueue, job))


def cancel_pending(
    session: Session,
    incident_id: str,
    now: datetime,
    reason: str,
    user_id: str | None = None,
    *,
    keep_overdue: bool = False,
) -> int:
    """Cancel pages not yet sent (status updates still go out); returns how many.

    The rows are locked and read afresh: a page being sent right now is waited for and, once sent, left
    alone (overwriting its "sent" with "cancelled" hid it from the updates its person is owed).
    ``keep_overdue`` leaves pages whose time has come: they are late only because the queue was (Redis
    lost its jobs, no worker ran), and a later step replacing them would mean they are never sent.
    """
    query = select(Delivery).where(Delivery.incident_id == incident_id, Delivery.status.in_(OPEN_STATUSES))
    if user_id is not None:
        query = query.where(Delivery.user_id == user_id)
    query = query.with_for_update().execution_options(populate_existing=True)
    cancelled = 0
    for delivery in session.scalars(query):
        if keep_overdue and delivery.due_at is not None and delivery.due_at <= now:
            continue
        if _is_page(delivery):
            _close(delivery, "cancelled", reason, now)
            cancelled += 1
    return cancelled


def recall_under_way(uow: UnitOfWork, deps: Deps, incident_id: str, reason: str) -> None:
    """Withdraw this incident's pages still on their way (calls still ringing), after commit.

    Acknowledging, resolving or silencing must stop every phone at once, not leave the rest of a team
    ringing for half a minute after the first person answered.
    """
    for delivery in uow.session.scalars(
        select(Delivery).where(Delivery.incident_id == incident_id, Delivery.status == "sent")
    ):
        notifier = deps.notifiers.get(delivery.channel)
        if notifier is None or not notifier.capabilities.recall or not delivery.provider_id:
            continue
        if not _is_page(delivery) or (delivery.data or {}).get(ANSWERED):
            continue
        job = Job(
            kind=RECALL,
            args={"delivery_id": delivery.id, "reason": reason},
            id=f"recall-{delivery.id}",
        )
        uow.after_commit(partial(deps.queue.enqueue, job))


def handle_recall(deps: Deps, delivery_id: str, reason: str) -> None:
    """Stop one page still under way; one already answered or over is left as it is."""
    with deps.db.unit() as uow:
        delivery = uow.session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status != "sent" or not delivery.provider_id:
            return
        if (delivery.data or {}).get(ANSWERED):
            return
        notifier = deps.notifiers.get(delivery.channel)
        if notifier is None or not notifier.capabilities.recall or not isinstance(notifier, Recaller):
            return
        try:
            notifier.recall(delivery.provider_id)
        except DeliveryFailed as exc:
            log.info("delivery %s not recalled: %s", delivery.id, exc.detail)
            return
        # Its "canceled" report comes later and is ignored: nobody needs the next rule any more.
        _close(delivery, "cancelled", f"hung up: incident {reason}", deps.clock.now())


def _is_page(delivery: Delivery) -> bool:
    return bool((delivery.data or {}).get("kind", "page") == "page")


def notify_paged(
    uow: UnitOfWork, deps: Deps, incident: Incident, text: str, actor_user_id: str | None = None
) -> None:
    """Tell everyone already paged for this incident, on the channel that reached them.

    The person who made the change (``actor_user_id``) is not told what they just did.
    """
    session = uow.session
    now = deps.clock.now()
    reached: dict[tuple[str, str, str | None], Delivery] = {}
    for delivery in session.scalars(
        select(Delivery).where(
            Delivery.incident_id == incident.id, Delivery.status.in_(("sent", "delivered"))
        )
    ):
        if _is_page(delivery) and delivery.user_id not in (None, actor_user_id):
            reached.setdefault((delivery.user_id, delivery.channel, delivery.address), delivery)
    for (user_id, channel, address), _first in reached.items():
        notifier = deps.notifiers.get(channel)
        if notifier is not None and not notifier.capabilities.updates:
            continue
        user = session.get(User, user_id)
        if user is None:
            continue
        _add(
            uow,
            deps,
            incident,
            user,
            f"{incident.state}:{now.isoformat()}",
            channel,
            address,
            False,
            now,
            {"text": text},
            kind="update",
        )


def _notifier_for(deps: Deps, channel: str) -> tuple[Notifier | None, bool]:
    notifier = deps.notifiers.get(channel)
    if notifier is not None:
        return notifier, True
    return deps.fallback_notifier, channel == CONSOLE


def handle_send(deps: Deps, delivery_id: str) -> None:
    """Send one due delivery once; record the outcome on the row and the incident's timeline."""
    with deps.db.unit() as uow:
        session = uow.session
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status not in OPEN_STATUSES:
            return
        now = deps.clock.now()
        if delivery.due_at > now:
            # Early wake-up (queues schedule in whole seconds): come back when due.
            job = send_job(delivery.id, delivery.due_at, delivery.attempts)
            uow.after_commit(partial(deps.queue.enqueue, job))
            return
        incident = session.get(Incident, delivery.incident_id) if delivery.incident_id else None
        user = session.get(User, delivery.user_id) if delivery.user_id else None
        if incident is None or user is None:
            _close(delivery, "cancelled", "incident or user no longer exists", now)
            return
        is_page = _is_page(delivery)
        if is_page and incident.state != IncidentState.FIRING.value:
            _close(delivery, "cancelled", f"incident {incident.state} before the page went out", now)
            return
        _send(uow, deps, delivery, incident, user, is_page, now)


def _close(delivery: Delivery, status: str, error: str | None, now: datetime) -> None:
    delivery.status = status
    delivery.error = error
    delivery.updated_at = now


def _send(
    uow: UnitOfWork,
    deps: Deps,
    delivery: Delivery,
    incident: Incident,
    user: User,
    is_page: bool,
    now: datetime,
) -> None:
    session = uow.session
    notifier, configured = _notifier_for(deps, delivery.channel)
    bundle_seconds = notifier.capabilities.bundle_seconds if notifier is not None and is_page else None
    if bundle_seconds:
        later = bundling.hold_until(session, delivery, bundle_seconds, now)
        if later is not None:
            delivery.due_at = later
            delivery.updated_at = now
            uow.after_commit(partial(deps.queue.enqueue, send_job(delivery.id, later, delivery.attempts)))
            return
    bundled = bundling.companions(session, delivery, now) if bundle_seconds else []
    delivery.attempts += 1
    delivery.updated_at = now
    text = incident.message if is_page else str((delivery.data or {}).get("text", ""))
    page = Page(
        delivery_id=delivery.id,
        incident_id=incident.id,
        incident_number=incident.number,
        title=incident.title,
        text=text,
        user_id=user.id,
        user_name=user.name,
        channel=delivery.channel,
        address=delivery.address,
        important=delivery.important,
        link=deps.incident_link(incident.id),
        kind="page" if is_page else "update",
        also=tuple(BundledIncident(i.id, i.number, i.title) for _d, i in bundled),
    )
    what = "paged" if is_page else "told"
    if notifier is None:
        _close(delivery, "failed", "not configured", now)
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.PAGE_FAILED,
            f"{delivery.channel} to {user.name}: not configured",
        )
        if is_page:
            fall_through(uow, deps, delivery, now)
        return
    try:
        refused = phones.refusal(session, now, user, delivery.address, notifier.capabilities)
        if refused is not None:
            raise DeliveryFailed(f"not sent: {refused}", retryable=False)
        result = notifier.send(page)
    except DeliveryFailed as exc:
        _record_failure(uow, deps, delivery, incident, user, exc, now)
        return
    except Exception as exc:
        # The provider edge. Unhandled, the transaction rolled back the attempt count, so the sweeper
        # re-sent the page every pass without bound, with nothing on the timeline and no next rule.
        log.exception("delivery %s by %s failed unexpectedly", delivery.id, delivery.channel)
        failed = DeliveryFailed(f"unexpected error ({exc.__class__.__name__})", retryable=True)
        _record_failure(uow, deps, delivery, incident, user, failed, now)
        return
    for other, other_incident in bundled:
        other.attempts += 1
        other.status, other.provider_id, other.sent_at, other.updated_at = (
            result.status,
            result.provider_id,
            now,
            now,
        )
        timeline.record(
            session,
            other_incident.id,
            now,
            TimelineKind.PAGE_SENT,
            f"paged {user.name} by {delivery.channel} (one message with #{incident.number})",
            channel=delivery.channel,
            data={"delivery_id": other.id, "user_id": user.id, "kind": "page"},
        )
    delivery.status = result.status
    delivery.provider_id = result.provider_id
    delivery.sent_at = now
    via = delivery.channel if configured else f"{delivery.channel} (not configured: shown on the console)"
    timeline.record(
        session,
        incident.id,
        now,
        TimelineKind.PAGE_SENT if is_page else TimelineKind.UPDATE_SENT,
        f"{what} {user.name} by {via}",
        channel=delivery.channel,
        data={"delivery_id": delivery.id, "user_id": user.id, "kind": page.kind},
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
        uow.after_commit(partial(deps.queue.enqueue, job))
        return
    _close(delivery, "failed", exc.detail, now)
    if delivery.channel == "sms" and exc.opted_out and delivery.address:
        phones.record_refused_as_opt_out(uow.session, delivery.address, now)
    timeline.record(
        uow.session,
        incident.id,
        now,
        TimelineKind.PAGE_FAILED,
        f"{delivery.channel} to {user.name} failed: {exc.detail}",
        channel=delivery.channel,
        data={"delivery_id": delivery.id, "provider_code": exc.provider_code},
    )
    if _is_page(delivery):
        fall_through(uow, deps, delivery, now)


def fall_through(uow: UnitOfWork, deps: Deps, failed: Delivery, now: datetime) -> None:
    """A failed or unanswered page moves the user's next rule up to now, keeping later spacing."""
    data = failed.data or {}
    step_run, rule_index = data.get("step_run"), data.get("rule_index")
    if step_run is None or rule_index is None:
        return
    later = [
        d
        for d in uow.session.scalars(
            select(Delivery).where(
                Delivery.incident_id == failed.incident_id,
                Delivery.user_id == failed.user_id,
                Delivery.status.in_(OPEN_STATUSES),
            )
        )
        if (d.data or {}).get("step_run") == step_run and (d.data or {}).get("rule_index", -1) > rule_index
    ]
    if not later:
        return
    successor = min(later, key=lambda d: (d.data or {})["rule_index"])
    shift = successor.due_at - now
    if shift <= timedelta(0):
        return
    for delivery in later:
        delivery.due_at = delivery.due_at - shift
        delivery.updated_at = now
        if delivery.due_at <= now:
            uow.after_commit(partial(deps.queue.enqueue, send_job(delivery.id, None, delivery.attempts)))
