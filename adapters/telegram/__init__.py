"""Telegram: incident cards with inline keyboards, personal pages, commands and linking (python-telegram-bot).

``install`` wires one Bot on its own event loop (``client.BotLoop``) into a card publisher, a notifier
for ``notify_by_telegram``, and the ``/telegram/webhook`` route; ``tocsin telegram poll`` feeds the same
update handler from ``getUpdates``.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.providers import ProviderContext, ProviderParts
from adapters.telegram.client import BotLoop
from adapters.telegram.pacing import Pacer
from adapters.telegram.publisher import TelegramChatPublisher, TelegramNotifier, TelegramSender
from adapters.telegram.routes import build_router
from adapters.telegram.updates import TelegramUpdates


@dataclass
class TelegramParts(ProviderParts):
    """The provider parts plus the update handler, for the long-polling command."""

    updates: TelegramUpdates | None = None
    loop: BotLoop | None = None


def install(context: ProviderContext) -> TelegramParts | None:
    settings = context.settings
    if not settings.telegram_enabled or not settings.telegram_bot_token:
        return None
    loop = BotLoop(settings.telegram_bot_token, settings.telegram_api_url)
    sender = TelegramSender(loop, Pacer(context.deps.clock), context.deps)
    updates = TelegramUpdates(loop, context.conversation, context.deps, sender.migrated)
    return TelegramParts(
        name="telegram",
        notifiers={"telegram": TelegramNotifier(sender)},
        publisher=TelegramChatPublisher(sender),
        router=build_router(updates, context.deps, settings.telegram_webhook_secret),
        close=loop.close,
        updates=updates,
        loop=loop,
    )
