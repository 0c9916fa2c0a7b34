"""``tocsin telegram set-webhook`` and ``tocsin telegram poll``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import partial

from telegram import Bot, Update
from telegram.error import TelegramError

from adapters.settings import Settings
from adapters.telegram import TelegramParts
from adapters.telegram.client import BotLoop
from adapters.telegram.updates import TelegramUpdates

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLL_TIMEOUT = 30


def set_webhook(loop: BotLoop, public_url: str, secret: str) -> str:
    """Register ``<public_url>/telegram/webhook`` with the secret token; returns the URL."""
    url = public_url.rstrip("/") + WEBHOOK_PATH
    loop.call(lambda bot: bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))
    return url


def poll(loop: BotLoop, updates: TelegramUpdates, stop: threading.Event, timeout: int = POLL_TIMEOUT) -> int:
    """Long polling until ``stop`` is set: removes any webhook first (Telegram allows one or the other)."""
    loop.call(lambda bot: bot.delete_webhook())
    offset: int | None = None
    handled = 0
    while not stop.is_set():
        try:
            batch = loop.call(partial(_get_updates, offset=offset, timeout=timeout), timeout=timeout + 30)
        except (TelegramError, TimeoutError) as exc:  # TimeoutError: the bot loop did not answer in time
            log.warning("telegram: getUpdates failed: %s; retrying", exc or type(exc).__name__)
            stop.wait(5)
            continue
        for update in batch:
            offset = update.update_id + 1
            try:
                handled += updates.handle(update.to_dict())
            except Exception:  # the outermost frame for one update: log it and go on polling
                log.exception("telegram: update %s failed", update.update_id)
    return handled


async def _get_updates(bot: Bot, *, offset: int | None, timeout: int) -> tuple[Update, ...]:
    return await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)


class NotConfigured(ValueError):
    """A setting the command needs is missing."""


class SetupFailed(RuntimeError):
    """Telegram refused a setup call (the message is safe to print)."""


def run_set_webhook(settings: Settings) -> str:
    if not settings.telegram_bot_token:
        raise NotConfigured("set TOCSIN_TELEGRAM_BOT_TOKEN first")
    if not settings.telegram_webhook_secret:
        raise NotConfigured("set TOCSIN_TELEGRAM_WEBHOOK_SECRET first (1-256 of A-Z a-z 0-9 _ -)")
    token = settings.telegram_bot_token
    loop = BotLoop(token, settings.telegram_api_url)
    try:
        return set_webhook(loop, settings.public_base, settings.telegram_webhook_secret)
    except TelegramError as exc:
        # PTB names a rejected token in its message; the token is a secret all the same.
        raise SetupFailed(f"Telegram refused setWebhook: {str(exc).replace(token, '<bot-token>')}") from exc
    finally:
        loop.close()


def serve_polling(providers: Sequence[object], stop: threading.Event | None = None) -> int:
    """Long polling with the Telegram part of a built runtime (its engine started by the caller)."""
    part = next((p for p in providers if isinstance(p, TelegramParts)), None)
    if part is None or part.loop is None or part.updates is None:
        raise NotConfigured("set TOCSIN_TELEGRAM_BOT_TOKEN first")
    log.info("telegram: long polling as @%s", part.loop.bot.username)
    return poll(part.loop, part.updates, stop or threading.Event())
