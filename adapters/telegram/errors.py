"""Bot API errors as engine errors: what may be retried, after how long, and what is final."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.ports import MESSAGE_GONE
from engine.errors import DeliveryFailed

NOT_MODIFIED = "message is not modified"


def is_not_modified(exc: TelegramError) -> bool:
    """Telegram refuses an edit that changes nothing; for Tocsin that edit has succeeded."""
    return isinstance(exc, BadRequest) and NOT_MODIFIED in exc.message.lower()


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns about the int form of retry_after
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_failed(exc: TelegramError, what: str) -> DeliveryFailed:
    """The engine's view of a failed Bot API call (``what`` says which, for the timeline)."""
    if isinstance(exc, RetryAfter):
        seconds = retry_after_seconds(exc)
        return DeliveryFailed(
            f"{what}: Telegram flood control, retry in {seconds:g} s",
            retryable=True,
            retry_after=seconds,
            provider_code="retry_after",
        )
    if isinstance(exc, Forbidden):
        # The bot was blocked by the user or removed from the group: retrying cannot help.
        return DeliveryFailed(f"{what}: {exc.message}", retryable=False, provider_code="forbidden")
    if isinstance(exc, ChatMigrated):
        return DeliveryFailed(
            f"{what}: the group moved to supergroup {exc.new_chat_id}",
            retryable=True,
            provider_code="chat_migrated",
        )
    if isinstance(exc, InvalidToken):
        return DeliveryFailed(
            f"{what}: the bot token is invalid", retryable=False, provider_code="invalid_token"
        )
    if isinstance(exc, BadRequest):
        # "Message to edit not found": the card was deleted (the publisher posts it again).
        gone = "message to edit not found" in exc.message.lower()
        code = MESSAGE_GONE if gone else "bad_request"
        return DeliveryFailed(f"{what}: {exc.message}", retryable=False, provider_code=code)
    if isinstance(exc, NetworkError):  # includes TimedOut
        return DeliveryFailed(f"{what}: {exc.message}", retryable=True, provider_code="network")
    return DeliveryFailed(f"{what}: {exc.message}", retryable=True, provider_code="telegram")
