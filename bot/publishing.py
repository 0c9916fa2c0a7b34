"""Publishing incidents to chats: one card per chat, edited in place, with a thread of what happened."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bot.cards import Card, build_card
from bot.ports import MESSAGE_GONE, ChatPublisher, MessageRef
from engine.errors import DeliveryFailed
from engine.model.snapshot import IncidentSnapshot, TimelineLine
from engine.services import chat_messages, incidents, snapshots
from engine.services.deps import Deps

# Timeline entries worth a thread line; the card itself already shows the opening and the route.
THREAD_KINDS = {
    "alert_received",
    "escalation_step",
    "escalation_exhausted",
    "page_sent",
    "page_failed",
    "acknowledged",
    "unacknowledged",
    "resolved",
    "unresolved",
    "silenced",
    "unsilenced",
    "note",
    "webhook",
}


def read_snapshot(deps: Deps, incident_ref: str) -> IncidentSnapshot:
    with deps.db.unit() as uow:
        incident = incidents.find(uow.session, incident_ref)
        return snapshots.snapshot(uow.session, incident, deps.incident_link(incident.id))


def card_digest(card: Card) -> str:
    """Cards are frozen dataclasses of plain values: their repr is a stable fingerprint."""
    return hashlib.sha256(repr(card).encode()).hexdigest()


def thread_text(line: TimelineLine) -> str:
    return f"{line.at.strftime('%H:%M:%S')} UTC · {line.text}"


class CardPublisher:
    """Implements the engine's IncidentPublisher over whichever chat publishers are configured."""

    def __init__(self, deps: Deps, publishers: Mapping[str, ChatPublisher]) -> None:
        self.deps = deps
        self.publishers = dict(publishers)

    def destinations(self, snap: IncidentSnapshot) -> list[tuple[ChatPublisher, str]]:
        wanted = {"slack": snap.slack_channel_id, "telegram": snap.telegram_chat_id}
        return [(p, chat) for name, p in self.publishers.items() if (chat := wanted.get(name))]

    def announce(self, chats: Mapping[str, str], text: str) -> None:
        failure: DeliveryFailed | None = None
        for name, publisher in self.publishers.items():
            chat_id = chats.get(name)
            if not chat_id:
                continue
            try:
                publisher.post_text(chat_id, text)
            except DeliveryFailed as exc:
                failure = failure if failure is not None and failure.retryable else exc
        if failure is not None:
            raise failure

    def publish(self, incident_id: str) -> None:
        snap = read_snapshot(self.deps, incident_id)
        if snap.in_maintenance:
            return
        card = build_card(snap)
        failure: DeliveryFailed | None = None
        for publisher, chat_id in self.destinations(snap):
            try:
                self._publish_one(snap, card, publisher, chat_id)
            except DeliveryFailed as exc:
                failure = failure if failure is not None and failure.retryable else exc
        if failure is not None:
            raise failure

    def _publish_one(
        self, snap: IncidentSnapshot, card: Card, publisher: ChatPublisher, chat_id: str
    ) -> None:
        slot = chat_messages.claim(self.deps, snap.id, publisher.provider, chat_id)
        if slot is None:
            raise DeliveryFailed("another worker is posting this card", retryable=True, retry_after=2)
        newest = max((line.id for line in snap.timeline), default=0)
        digest = card_digest(card)
        ref: MessageRef | None = None
        shown = slot.card_digest  # what the chat shows: a failed edit must be retried, not skipped
        done = slot.last_entry_id
        try:
            if slot.message_id is None:
                ref = publisher.post_card(chat_id, card)
                shown = digest
            else:
                ref = MessageRef(chat_id, slot.message_id, slot.thread_id)
                if slot.card_digest != digest:
                    try:
                        publisher.edit_card(ref, card)
                    except DeliveryFailed as exc:
                        if exc.provider_code != MESSAGE_GONE:
                            raise
                        # The card was deleted: post it again, or the chat loses the incident for good.
                        ref = publisher.post_card(chat_id, card)
                    shown = digest
            for line in snap.timeline:
                if line.id > done and line.kind in THREAD_KINDS:
                    publisher.reply(ref, thread_text(line))
                done = max(done, line.id)
            done = max(done, newest)
        finally:
            chat_messages.release(
                self.deps,
                snap.id,
                slot,
                message_id=ref.message_id if ref else None,
                thread_id=ref.thread_id if ref else None,
                last_entry_id=done,
                chat_id=ref.chat_id if ref else None,
                card_digest=shown if ref else None,
            )
