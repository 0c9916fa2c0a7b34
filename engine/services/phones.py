"""Phone numbers as paging addresses: verification codes, SMS opt-outs, and the daily cap on pages.

A channel's capabilities say which checks apply: paging only the user's own verified ``phone_number``,
honouring SMS opt-outs (STOP), and a per-user daily cap; :func:`refusal` applies them before a send.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import Delivery, Incident, PhoneVerification, SmsOptOut, User
from engine.errors import NotFound, ValidationFailed
from engine.model.incident import IncidentState
from engine.ports import Capabilities
from engine.services.deps import Deps
from engine.services.directory import get_user

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
CAP_WINDOW = timedelta(hours=24)


def _hash(user_id: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code.strip()}".encode()).hexdigest()


def start_verification(deps: Deps, user_id: str) -> tuple[str, str]:
    """A fresh six-digit code for the user's number (replacing any earlier one): ``(number, code)``."""
    with deps.db.unit() as uow:
        user = get_user(uow.session, user_id)
        if not user.phone_number:
            raise ValidationFailed("the user has no phone_number to verify", field="phone_number")
        now = deps.clock.now()
        code = f"{secrets.randbelow(1_000_000):06d}"
        uow.session.execute(delete(PhoneVerification).where(PhoneVerification.user_id == user.id))
        uow.session.add(
            PhoneVerification(
                user_id=user.id,
                phone_number=user.phone_number,
                code_hash=_hash(user.id, code),
                attempts=0,
                expires_at=now + CODE_TTL,
                created_at=now,
            )
        )
        return user.phone_number, code


def confirm_verification(deps: Deps, user_id: str, code: str) -> User:
    """Mark the number verified when ``code`` matches the outstanding one; five tries per code."""
    with deps.db.unit() as uow:
        user = get_user(uow.session, user_id)
        pending = uow.session.get(PhoneVerification, user.id, with_for_update=True)
        now = deps.clock.now()
        if pending is None or pending.expires_at < now or pending.phone_number != user.phone_number:
            raise NotFound("no verification code is outstanding for this number; request a new one")
        if pending.attempts >= MAX_CODE_ATTEMPTS:
            raise ValidationFailed("too many wrong codes; request a new one", field="code")
        matches = hmac.compare_digest(pending.code_hash, _hash(user.id, code))
        if matches:
            uow.session.delete(pending)
            user.phone_verified = True
        else:
            pending.attempts += 1  # committed: a wrong guess must count even though the call fails
    if not matches:
        raise ValidationFailed("the code does not match", field="code")
    return user


def opt_out(deps: Deps, number: str) -> None:
    with deps.db.unit() as uow:
        if uow.session.get(SmsOptOut, number) is not None:
            return
        try:
            with uow.session.begin_nested():
                uow.session.add(SmsOptOut(phone_number=number, created_at=deps.clock.now()))
        except IntegrityError:
            pass  # a second STOP from the same number, at the same moment: already recorded


def record_refused_as_opt_out(session: Session, number: str, now: datetime) -> bool:
    """After the provider refused a number as opted out, remember it so later pages skip SMS at once."""
    if session.get(SmsOptOut, number) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(SmsOptOut(phone_number=number, created_at=now))
    except IntegrityError:
        return False
    return True


def opt_in(deps: Deps, number: str) -> None:
    with deps.db.unit() as uow:
        uow.session.execute(delete(SmsOptOut).where(SmsOptOut.phone_number == number))


def refusal(
    session: Session, now: datetime, user: User, address: str | None, caps: Capabilities
) -> str | None:
    """Why ``address`` must not be paged through a channel with ``caps`` now (None: it may be).

    The current send's own row is not sent yet, so it does not count against the cap.
    """
    if (caps.verified_phone or caps.opt_out or caps.daily_cap is not None) and not address:
        return "no phone number"
    if caps.verified_phone and not (user.phone_verified and user.phone_number == address):
        return f"{address} is not verified"
    if caps.opt_out and address and session.get(SmsOptOut, address) is not None:
        return f"{address} replied STOP (send START to receive SMS again)"
    if caps.daily_cap is not None:
        sent = session.scalar(
            select(func.count(func.distinct(Delivery.provider_id))).where(
                Delivery.user_id == user.id,
                Delivery.channel.in_(caps.cap_channels or (caps.channel,)),
                Delivery.sent_at.is_not(None),
                Delivery.sent_at >= now - CAP_WINDOW,
                Delivery.provider_id.is_not(None),  # a send the provider accepted (and bills)
            )
        )
        if (sent or 0) >= caps.daily_cap:
            log.warning(
                "daily cap of %s sends reached for user %s: %s not paged",
                caps.daily_cap,
                user.id,
                caps.channel,
            )
            return f"daily cap of {caps.daily_cap} {' and '.join(caps.cap_channels or (caps.channel,))} sends reached"
    return None


def latest_texted_incidents(deps: Deps, number: str, channel: str = "sms") -> list[int]:
    """Numbers of the incidents in the last page texted to ``number`` (several when it was bundled).

    Only the open ones, unless all of them are resolved: then those, so a bare "ack" answers that the
    incident it replies to is resolved instead of acting on some other incident never texted here.
    """
    with deps.db.unit() as uow:
        session = uow.session
        recent = session.scalars(
            select(Delivery)
            .where(Delivery.channel == channel, Delivery.address == number, Delivery.sent_at.is_not(None))
            .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
            .limit(50)
        )
        last = next((d for d in recent if (d.data or {}).get("kind", "page") == "page"), None)
        if last is None:
            return []
        rows = (
            list(session.scalars(select(Delivery).where(Delivery.provider_id == last.provider_id)))
            if last.provider_id
            else [last]
        )
        open_numbers, resolved_numbers = set(), set()
        for row in rows:
            incident = session.get(Incident, row.incident_id) if row.incident_id else None
            if incident is None:
                continue
            if incident.state == IncidentState.RESOLVED.value:
                resolved_numbers.add(incident.number)
            else:
                open_numbers.add(incident.number)
        return sorted(open_numbers or resolved_numbers)
