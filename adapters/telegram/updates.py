"""Telegram updates in, the shared conversation in the middle, answers out (callback answers, replies).

Updates are read with ``Update.de_json`` and handled here rather than by a PTB ``Application``: the
conversation is synchronous (database sessions), and an Application would run its handlers on the web
server's event loop only to hop back into threads for every call, with its own start/stop lifecycle to
manage inside FastAPI's. Webhook and long polling share this one entry point, and answers go out through
the same long-lived Bot loop as pages do.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from telegram import Bot, CallbackQuery, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from adapters.telegram.chats import adopt_group, link_code_exists
from adapters.telegram.client import BotLoop
from adapters.telegram.render import MAX_TEXT, card_html, keyboard
from bot import actions
from bot import commands as c
from bot.cards import build_card
from bot.conversation import Conversation
from bot.inbound import ButtonPressed, ChatIdentity, CommandInvoked, Provider, Reply
from bot.publishing import read_snapshot
from bot.text import cut_utf16
from engine import jobs
from engine.errors import TocsinError
from engine.services import chat_messages
from engine.services.deps import Deps

log = logging.getLogger(__name__)

HOW_TO_LINK = (
    "To link your Telegram account to Tocsin, get a one-time code (an admin can create one with "
    "POST /api/v1/users/<id>/telegram_link_code/) and send /link CODE here, or open the link that comes "
    "with it. /help lists the commands."
)
GREETING = (
    "Hello! I post Tocsin incidents here with buttons to acknowledge and resolve them. "
    "To set this chat up, send /link CODE here with a code from Tocsin "
    "(POST /api/v1/users/<id>/telegram_link_code/): that links you, and your team's incidents come here. "
    "/help lists the commands."
)
CALLBACK_TEXT_LIMIT = 200  # answerCallbackQuery text, in characters
SEEN_UPDATES = 10_000


class UpdateIds:
    """The update ids handled lately (Telegram repeats an update its webhook call did not get a 2xx for)."""

    def __init__(self, size: int = SEEN_UPDATES) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, update_id: int) -> bool:
        with self._lock:
            if update_id in self._seen:
                return False
            self._seen[update_id] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


class TelegramUpdates:
    """Handles updates from any thread. Bot API failures while answering are logged, not raised; anything
    else propagates to the caller's outermost frame (the webhook route or the polling loop)."""

    def __init__(
        self,
        loop: BotLoop,
        conversation: Conversation,
        deps: Deps,
        on_migrated: Callable[[str, str], object],
    ) -> None:
        self.loop = loop
        self.conversation = conversation
        self.deps = deps
        self.seen = UpdateIds()
        self._migrated = on_migrated

    def handle(self, data: dict[str, Any]) -> bool:
        """Handle an update's JSON; False when it was a repeat (or not an update at all)."""
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or not self.seen.first_time(update_id):
            return False
        update = Update.de_json(_with_user_defaults(data), self.loop.bot)
        if update.callback_query is not None:
            self._button(update.callback_query)
        elif update.message is not None:
            self._message(update.message)
        return True

    # -- buttons ----------------------------------------------------------------------------------------

    def _button(self, query: CallbackQuery) -> None:
        message = query.message
        chat_id = str(message.chat.id) if message is not None else str(query.from_user.id)
        identity = ChatIdentity(
            Provider.TELEGRAM, str(query.from_user.id), chat_id, query.from_user.full_name or None
        )
        ref = f"{chat_id}:{message.message_id}" if message is not None else None
        replies = self.conversation.handle(ButtonPressed(identity, actions.decode(query.data), ref))
        answer = " ".join(r.text for r in replies)[:CALLBACK_TEXT_LIMIT] or None
        self._call(
            "answer button press",
            lambda bot: bot.answer_callback_query(query.id, text=answer, show_alert=_alert(replies)),
        )
        if message is not None and any(r.remove_keyboard for r in replies):
            self._call(
                "remove keyboard",
                lambda bot: bot.edit_message_reply_markup(chat_id, message.message_id, reply_markup=None),
            )
        elif message is not None:
            for incident_id in {r.refresh_card for r in replies if r.refresh_card}:
                self._refresh_page(chat_id, message.message_id, incident_id)
        self._refresh(replies)

    def _refresh_page(self, chat_id: str, message_id: int, incident_id: str) -> None:
        """A personal page is no card the publisher tracks: redraw it where it was pressed, so its
        buttons follow the incident's state (a firing keyboard after an ack could only fail)."""
        if chat_messages.find_by_message(self.deps, "telegram", chat_id, str(message_id)) is not None:
            return  # an incident card: the publisher edits it
        try:
            card = build_card(read_snapshot(self.deps, incident_id))
        except TocsinError as exc:
            log.info("telegram: page %s in %s not refreshed: %s", message_id, chat_id, exc)
            return
        text, markup = card_html(card), keyboard(card)
        self._call(
            "refresh a pressed page",
            lambda bot: bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=markup
            ),
        )

    # -- commands ---------------------------------------------------------------------------------------

    def _message(self, message: Message) -> None:
        chat_id = str(message.chat.id)
        if message.migrate_to_chat_id is not None:
            self._migrated(chat_id, str(message.migrate_to_chat_id))
            return
        if message.new_chat_members and any(m.id == self.loop.bot.id for m in message.new_chat_members):
            self._call("greet a new chat", lambda bot: bot.send_message(chat_id, GREETING))
            return
        text = message.text or ""
        user = message.from_user
        if user is None or user.is_bot or not text.strip():
            return
        private = message.chat.type == ChatType.PRIVATE
        if not private and not text.startswith("/"):
            return  # chatter in a group is not for us
        command = c.parse(text, bot_username=self.loop.bot.username)
        addressed = "@" in text.split(None, 1)[0]
        if isinstance(command, c.Unknown) and not private and not addressed:
            return  # another bot's command in a shared group: stay silent
        identity = ChatIdentity(Provider.TELEGRAM, str(user.id), chat_id, user.full_name or None)
        if isinstance(command, c.Link) and not command.code:
            # A bare /start or /link: say where codes come from.
            replies = [Reply(HOW_TO_LINK, ephemeral=True)]
        elif isinstance(command, c.Link) and command.code and not private:
            replies = self._link_in_group(identity, text, command, command.code)
        else:
            replies = self.conversation.handle(CommandInvoked(identity, text, command))
        reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        for reply in replies:
            self._call(
                "reply to a command", partial(_send_text, chat_id, cut_utf16(reply.text, MAX_TEXT), reply_to)
            )
        self._refresh(replies)

    def _link_in_group(self, identity: ChatIdentity, text: str, command: c.Link, code: str) -> list[Reply]:
        """/link CODE in a group links the sender and gives their teams without a chat this group."""
        valid = link_code_exists(self.deps, code)
        replies = self.conversation.handle(CommandInvoked(identity, text, command))
        if valid and not link_code_exists(self.deps, code) and self.conversation.person(identity):
            teams = adopt_group(self.deps, identity.user_id, identity.chat_id)
            if teams:
                replies.append(Reply(f"This chat now receives the incidents of {', '.join(teams)}."))
        return replies

    # -- helpers ----------------------------------------------------------------------------------------

    def _refresh(self, replies: list[Reply]) -> None:
        """Re-render cards now; the publish is idempotent and edits only when the card changed."""
        now = self.deps.clock.now()
        for incident_id in {r.refresh_card for r in replies if r.refresh_card}:
            self.deps.queue.enqueue(jobs.publish_job(incident_id, now))

    def _call(self, what: str, make: Callable[[Bot], Coroutine[Any, Any, object]]) -> None:
        """An answer to a person: a failure is logged, never raised (the action itself has happened)."""
        try:
            self.loop.call(make)
        except TelegramError as exc:
            log.warning("telegram: could not %s: %s", what, exc)


async def _send_text(chat_id: str, text: str, reply_to: ReplyParameters, bot: Bot) -> Message:
    return await bot.send_message(chat_id, text, reply_parameters=reply_to)


def _with_user_defaults(value: Any) -> Any:
    """Users in older updates lack ``is_bot`` (required since Bot API 3.x), and PTB refuses them."""
    if isinstance(value, list):
        return [_with_user_defaults(item) for item in value]
    if not isinstance(value, dict):
        return value
    fixed = {key: _with_user_defaults(item) for key, item in value.items()}
    if "id" in fixed and "first_name" in fixed and "type" not in fixed:
        fixed.setdefault("is_bot", False)
    return fixed


def _alert(replies: list[Reply]) -> bool:
    """Long answers (not linked, how to link) show as a dialog; short confirmations as a toast."""
    return any(r.ephemeral for r in replies) and sum(len(r.text) for r in replies) > 60
