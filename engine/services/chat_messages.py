"""Where an incident's card lives in each chat, so every change edits the same message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.db import ChatMessage
from engine.services.deps import Deps

CLAIM_TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class CardSlot:
    """What a publisher needs to post or edit one card: the message (None: post anew) and thread."""

    provider: str
    chat_id: str
    message_id: str | None
    thread_id: str | None
    last_entry_id: int
    card_digest: str | None = None


def claim(deps: Deps, incident_id: str, provider: str, chat_id: str) -> CardSlot | None:
    """Reserve the card slot for this publish; None when another worker is posting it right now."""
    now = deps.clock.now()
    try:
        with deps.db.unit() as uow:
            row = uow.session.scalar(
                select(ChatMessage)
                .where(
                    ChatMessage.incident_id == incident_id,
                    ChatMessage.provider == provider,
                    ChatMessage.chat_id == chat_id,
                )
                .with_for_update()
            )
            if row is None:
                row = ChatMessage(
                    incident_id=incident_id,
                    provider=provider,
                    chat_id=chat_id,
                    last_entry_id=0,
                    created_at=now,
                    updated_at=now,
                )
                uow.session.add(row)
            elif row.claimed_at is not None and row.claimed_at > now - CLAIM_TTL:
                return None
            row.claimed_at = now
            uow.session.flush()
            return CardSlot(
                provider, chat_id, row.message_id, row.thread_id, row.last_entry_id, row.card_digest
            )
    except IntegrityError:
        return None


def release(
    deps: Deps,
    incident_id: str,
    slot: CardSlot,
    *,
    message_id: str | None,
    thread_id: str | None,
    last_entry_id: int,
    chat_id: str | None = None,
    card_digest: str | None = None,
) -> None:
    """Record what was posted and free the slot; ``chat_id`` follows a chat that moved (Telegram)."""
    with deps.db.unit() as uow:
        row = uow.session.scalar(
            select(ChatMessage).where(
                ChatMessage.incident_id == incident_id,
                ChatMessage.provider == slot.provider,
                ChatMessage.chat_id == slot.chat_id,
            )
        )
        if row is None:
            return
        row.message_id = message_id or row.message_id
        row.thread_id = thread_id or row.thread_id
        row.last_entry_id = max(row.last_entry_id, last_entry_id)
        row.chat_id = chat_id or row.chat_id
        row.card_digest = card_digest or row.card_digest
        row.claimed_at = None
        row.updated_at = deps.clock.now()


def find_by_message(deps: Deps, provider: str, chat_id: str, message_id: str) -> str | None:
    """The incident whose card is this message, for presses that carry only the message."""
    with deps.db.unit() as uow:
        return uow.session.scalar(
            select(ChatMessage.incident_id).where(
                ChatMessage.provider == provider,
                ChatMessage.chat_id == chat_id,
                ChatMessage.message_id == message_id,
            )
        )


def slots(deps: Deps, incident_id: str) -> list[tuple[str, str, str | None, datetime]]:
    """(provider, chat id, message id, posted at) of every card of an incident."""
    with deps.db.unit() as uow:
        rows = uow.session.scalars(select(ChatMessage).where(ChatMessage.incident_id == incident_id))
        return [(r.provider, r.chat_id, r.message_id, r.created_at) for r in rows]
