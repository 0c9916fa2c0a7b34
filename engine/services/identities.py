"""Linking chat and phone identities to Tocsin users."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import LinkCode, User
from engine.errors import Conflict, NotFound
from engine.services.directory import get_user

CODE_TTL = timedelta(minutes=30)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# The user attribute each provider's id lives in.
FIELDS = {
    "slack": "slack_user_id",
    "telegram": "telegram_chat_id",
    "sms": "phone_number",
    "phone": "phone_number",
}


def find_user(session: Session, provider: str, external_id: str) -> User | None:
    field = FIELDS.get(provider)
    if field is None or not external_id:
        return None
    return session.scalar(select(User).where(getattr(User, field) == external_id))


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def link(session: Session, user: User, provider: str, external_id: str) -> User:
    """Store ``external_id`` on ``user``; refuse when another user holds it already."""
    field = FIELDS[provider]
    other = session.scalar(select(User).where(getattr(User, field) == external_id, User.id != user.id))
    if other is not None:
        raise Conflict(f"this {provider} account is already linked to {other.name}")
    setattr(user, field, external_id)
    session.flush()
    return user


def create_code(session: Session, clock: Clock, user_id: str) -> str:
    """A one-time code the user sends from chat (``/link CODE``); valid for 30 minutes."""
    get_user(session, user_id)
    now = clock.now()
    session.execute(delete(LinkCode).where(LinkCode.expires_at < now))
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    session.add(LinkCode(code=code, user_id=user_id, expires_at=now + CODE_TTL, created_at=now))
    session.flush()
    return code


def redeem_code(session: Session, clock: Clock, code: str, provider: str, external_id: str) -> User:
    """Link the account that sent ``code`` to the code's user; the code is used up."""
    row = session.get(LinkCode, code.strip().upper())
    if row is None or row.expires_at < clock.now():
        raise NotFound("this link code is unknown or expired; ask for a new one")
    user = get_user(session, row.user_id)
    session.delete(row)
    return link(session, user, provider, external_id)
