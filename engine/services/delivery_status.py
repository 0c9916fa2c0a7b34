"""What providers report after a send: delivered, failed, or a call that reached nobody.

Adapters translate their provider's words into an :class:`Outcome` and name the send by the
provider id returned from :meth:`engine.ports.Notifier.send`. Reports are idempotent: a row that
already ended (delivered, failed, cancelled) ignores later ones, so repeated or out-of-order
callbacks change nothing. A page that failed or reached nobody moves the user's next rule to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from engine.db import Delivery, Incident, User
from engine.db.session import UnitOfWork
from engine.model.incident import TimelineKind
from engine.services import timeline
from engine.services.deliveries import ANSWERED, fall_through
from engine.services.deps import Deps

ENDED = ("delivered", "failed", "cancelled")


class Outcome(StrEnum):
    SENT = "sent"  # the provider handed it on (carrier accepted the SMS, the phone rings)
    DELIVERED = "delivered"  # the person's device has it
    FAILED = "failed"  # it will not arrive; ``detail`` says why
    NOT_REACHED = "not_reached"  # a call nobody picked up (busy, no answer, failed, cancelled)
    CALL_ENDED = "call_ended"  # a call finished: it reached the person only if they pressed a key


@dataclass(frozen=True)
class Subject:
    """What a send was about, for a provider that calls back mid-send (a call's TwiML and keypad)."""

    delivery_id: str
    incident_id: str
    incident_number: int
    title: str
    state: str
    user_name: str | None


def subject(deps: Deps, delivery_id: str) -> Subject | None:
    with deps.db.unit() as uow:
        delivery = uow.session.get(Delivery, delivery_id)
        if delivery is None or delivery.incident_id is None:
            return None
        incident = uow.session.get(Incident, delivery.incident_id)
        if incident is None:
            return None
        user = uow.session.get(User, delivery.user_id) if delivery.user_id else None
        return Subject(
            delivery.id,
            incident.id,
            incident.number,
            incident.title,
            incident.state,
            user.name if user else None,
        )


def record_answer(deps: Deps, delivery_id: str, digits: str) -> bool:
    """Note that the callee pressed ``digits`` during this call: it reached them. False: unknown send."""
    with deps.db.unit() as uow:
        delivery = uow.session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:
            return False
        delivery.data = {**(delivery.data or {}), ANSWERED: digits}
        delivery.updated_at = deps.clock.now()
        return True


def apply(
    deps: Deps,
    provider_id: str,
    outcome: Outcome | None,
    detail: str | None = None,
    code: str | None = None,
    provider_status: str | None = None,
) -> int:
    """Apply one provider report to every delivery it covers (one SMS may carry several pages).

    ``outcome`` None only notes ``provider_status`` (queued, ringing …) on rows still under way.
    """
    with deps.db.unit() as uow:
        changed = 0
        for delivery in _rows(uow, provider_id):
            if delivery.status in ENDED:
                continue
            if provider_status:
                delivery.data = {**(delivery.data or {}), "provider_status": provider_status}
            if outcome is None:
                delivery.updated_at = deps.clock.now()
            else:
                _apply_one(uow, deps, delivery, outcome, detail, code)
            changed += 1
        return changed


def _rows(uow: UnitOfWork, provider_id: str) -> list[Delivery]:
    if not provider_id:
        return []
    query = select(Delivery).where(Delivery.provider_id == provider_id).order_by(Delivery.id)
    return list(uow.session.scalars(query.with_for_update()))


def _apply_one(
    uow: UnitOfWork, deps: Deps, delivery: Delivery, outcome: Outcome, detail: str | None, code: str | None
) -> None:
    now = deps.clock.now()
    delivery.updated_at = now
    if outcome is Outcome.SENT:
        delivery.status = "sent"
        return
    if outcome is Outcome.DELIVERED:
        delivery.status = "delivered"
        return
    if outcome is Outcome.CALL_ENDED:
        if (delivery.data or {}).get(ANSWERED):
            delivery.status = "delivered"
            return
        detail = detail or "answered without a key press (voicemail?)"
        verb = "not reached"
    elif outcome is Outcome.NOT_REACHED:
        detail = detail or "no answer"
        verb = "not reached"
    else:
        detail = detail or "failed"
        verb = "failed"
    delivery.status = "failed"
    delivery.error = detail
    session = uow.session
    user = session.get(User, delivery.user_id) if delivery.user_id else None
    incident = session.get(Incident, delivery.incident_id) if delivery.incident_id else None
    if incident is not None:
        timeline.record(
            session,
            incident.id,
            now,
            TimelineKind.PAGE_FAILED,
            f"{delivery.channel} to {user.name if user else 'a removed user'} {verb}: {detail}",
            channel=delivery.channel,
            data={"delivery_id": delivery.id, "provider_code": code},
        )
    if (delivery.data or {}).get("kind", "page") == "page":
        fall_through(uow, deps, delivery, now)
