"""What the conversation needs from a chat: post, edit and thread cards (one per provider)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.cards import Card


@dataclass(frozen=True)
class MessageRef:
    """Where a card was posted. ``chat_id`` may differ from the one asked for (a Telegram group that
    became a supergroup); ``thread_id`` is where thread lines go (Slack's ``ts``, Telegram's message)."""

    chat_id: str
    message_id: str
    thread_id: str | None = None


# The ``provider_code`` of the DeliveryFailed an edit raises when the card message is gone (deleted by
# someone, or by a retention policy): the card is posted afresh instead.
MESSAGE_GONE = "message_not_found"


class ChatPublisher(Protocol):
    """One chat provider's card operations.

    Each raises :class:`engine.errors.DeliveryFailed` (``retryable``, ``retry_after``) when the provider
    refuses; "not modified" answers count as success; ``edit_card`` on a message that no longer exists
    raises it with ``provider_code`` :data:`MESSAGE_GONE`.
    """

    provider: str

    def post_card(self, chat_id: str, card: Card) -> MessageRef: ...

    def edit_card(self, ref: MessageRef, card: Card) -> None: ...

    def reply(self, ref: MessageRef, text: str) -> None: ...

    def post_text(self, chat_id: str, text: str) -> MessageRef:
        """A plain message that belongs to no incident (on-call handoffs, coverage gaps)."""
        ...
