"""Incident cards in Telegram chats and personal pages in private chats, over one long-lived Bot."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from telegram import Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, TelegramError

from adapters.telegram.chats import follow_migration
from adapters.telegram.client import BotLoop
from adapters.telegram.errors import delivery_failed, is_not_modified
from adapters.telegram.pacing import Pacer
from adapters.telegram.render import MAX_TEXT, card_html, keyboard, page_html, page_keyboard
from bot.cards import Card
from bot.ports import MessageRef
from bot.text import cut_utf16
from engine.errors import DeliveryFailed
from engine.ports import Capabilities, Page, SendResult
from engine.services.deps import Deps

Send = Callable[..., Coroutine[Any, Any, Message]]  # (bot, chat=...) -> the sent Message


class TelegramSender:
    """Paced sends that follow a group's move to a supergroup and translate Bot API errors."""

    def __init__(self, loop: BotLoop, pacer: Pacer, deps: Deps) -> None:
        self.loop = loop
        self.pacer = pacer
        self.deps = deps
        self.moved: dict[str, str] = {}

    def send(self, chat_id: str, what: str, make: Send) -> tuple[str, Message]:
        """Send a new message (paced); returns the chat it landed in, which differs after a migration."""
        chat = self.moved.get(chat_id, chat_id)
        for _ in range(3):
            self.pacer.take(chat, what)
            try:
                return chat, self.loop.call(partial(make, chat=chat))
            except ChatMigrated as exc:
                chat = self.migrated(chat, str(exc.new_chat_id))
            except TelegramError as exc:
                raise delivery_failed(exc, what) from exc
        raise DeliveryFailed(f"{what}: the chat keeps moving", retryable=True, retry_after=5)

    def migrated(self, old: str, new: str) -> str:
        self.moved[old] = new
        follow_migration(self.deps, old, new)
        return new


class TelegramChatPublisher:
    """Posts the card (HTML + inline keyboard), edits it in place, and replies to it for thread lines."""

    provider = "telegram"
    capabilities = Capabilities("telegram", buttons=True, edits=True, max_text=MAX_TEXT, per_second=1.0)

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender

    def post_card(self, chat_id: str, card: Card) -> MessageRef:
        text, markup = card_html(card), keyboard(card)
        chat, message = self.sender.send(
            chat_id,
            f"card #{card.number} to Telegram chat {chat_id}",
            lambda bot, chat: bot.send_message(chat, text, parse_mode=ParseMode.HTML, reply_markup=markup),
        )
        message_id = str(message.message_id)
        return MessageRef(chat, message_id, message_id)

    def edit_card(self, ref: MessageRef, card: Card) -> None:
        text, markup = card_html(card), keyboard(card)
        # Edits add no message to the chat, so they are not paced; a 429 on one is honoured all the same.
        what = f"card #{card.number} in Telegram chat {ref.chat_id}"
        try:
            self.sender.loop.call(
                lambda bot: bot.edit_message_text(
                    text,
                    chat_id=ref.chat_id,
                    message_id=int(ref.message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )
        except ChatMigrated as exc:
            # The card stays in the old group; the stored chat moves, so the next publish posts anew.
            self.sender.migrated(ref.chat_id, str(exc.new_chat_id))
            raise delivery_failed(exc, what) from exc
        except TelegramError as exc:
            if not is_not_modified(exc):
                raise delivery_failed(exc, what) from exc

    def post_text(self, chat_id: str, text: str) -> MessageRef:
        """A plain message that belongs to no incident (on-call handoffs, coverage gaps)."""
        body = cut_utf16(text, MAX_TEXT)
        chat, message = self.sender.send(
            chat_id,
            f"announcement to Telegram chat {chat_id}",
            lambda bot, chat: bot.send_message(chat, body),
        )
        message_id = str(message.message_id)
        return MessageRef(chat, message_id, message_id)

    def reply(self, ref: MessageRef, text: str) -> None:
        body = cut_utf16(text, MAX_TEXT)
        reply_to = ReplyParameters(int(ref.thread_id or ref.message_id), allow_sending_without_reply=True)
        self.sender.send(
            ref.chat_id,
            f"thread line in Telegram chat {ref.chat_id}",
            lambda bot, chat: bot.send_message(chat, body, reply_parameters=reply_to),
        )


class TelegramNotifier:
    """A personal page: a private message with the incident card and its keyboard."""

    capabilities = Capabilities("telegram", buttons=True, edits=False, max_text=MAX_TEXT, per_second=1.0)

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender

    def send(self, page: Page) -> SendResult:
        if not page.address:
            raise DeliveryFailed("no Telegram account linked", retryable=False, provider_code="no_address")
        text = page_html(page)
        markup = page_keyboard(page, self.sender.deps.clock.now())
        chat, message = self.sender.send(
            page.address,
            f"Telegram message to {page.user_name}",
            lambda bot, chat: bot.send_message(chat, text, parse_mode=ParseMode.HTML, reply_markup=markup),
        )
        return SendResult(provider_id=f"{chat}:{message.message_id}")
