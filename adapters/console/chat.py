"""A terminal stand-in for a chat provider with no credentials: prints cards and thread lines."""

from __future__ import annotations

import itertools
import sys
import threading
from typing import TextIO

from bot.cards import Card
from bot.ports import MessageRef


class ConsoleChatPublisher:
    """Shows what Slack or Telegram would have received; keeps the same message ids a chat would."""

    def __init__(self, provider: str, stream: TextIO | None = None) -> None:
        self.provider = provider
        self._stream = stream
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self._stream or sys.stdout, flush=True)

    def post_card(self, chat_id: str, card: Card) -> MessageRef:
        ref = MessageRef(chat_id, f"console-{next(self._ids)}")
        self._print(f"[{self.provider} {chat_id}] card posted: {_summary(card)}")
        return MessageRef(ref.chat_id, ref.message_id, ref.message_id)

    def edit_card(self, ref: MessageRef, card: Card) -> None:
        self._print(f"[{self.provider} {ref.chat_id}] card updated: {_summary(card)}")

    def reply(self, ref: MessageRef, text: str) -> None:
        self._print(f"[{self.provider} {ref.chat_id}]   ↳ {text}")

    def post_text(self, chat_id: str, text: str) -> MessageRef:
        message_id = f"console-{next(self._ids)}"
        self._print(f"[{self.provider} {chat_id}] {text}")
        return MessageRef(chat_id, message_id, message_id)


def _summary(card: Card) -> str:
    buttons = " ".join(f"[{b.label}]" for b in card.buttons)
    return f"{card.icon} #{card.number} {card.title} — {card.status_line} {buttons}".rstrip()
