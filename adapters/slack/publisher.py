"""Incident cards in Slack channels through the Web API: post, edit in place, thread lines."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from adapters.slack.blocks import SECTION_MAX, card_blocks, fallback_text, fit_mrkdwn
from adapters.slack.errors import delivery_failure
from bot.cards import Card
from bot.ports import MessageRef
from engine.clock import Clock
from engine.errors import DeliveryFailed

T = TypeVar("T")


class ChannelPause:
    """Per-channel Retry-After: after a 429 nothing goes to that channel until the pause is over.

    Other channels, DMs and every SMS or phone page are unaffected; a paused send fails fast as
    retryable, so the caller's queue reschedules it instead of blocking a worker.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def check(self, channel: str) -> None:
        with self._lock:
            until = self._until.get(channel)
        if until is None:
            return
        left = (until - self._clock.now()).total_seconds()
        if left > 0:
            raise DeliveryFailed(
                f"Slack channel {channel} is rate limited for {left:.0f} s more",
                retryable=True,
                retry_after=left,
                provider_code="ratelimited",
            )

    def pause(self, channel: str, seconds: float) -> None:
        until = self._clock.now() + timedelta(seconds=seconds)
        with self._lock:
            self._until[channel] = max(until, self._until.get(channel, until))


def call_slack(pause: ChannelPause, channel: str, what: str, call: Callable[[], T]) -> T:
    """Run one Web API call for ``channel``, turning Slack errors into typed delivery failures."""
    pause.check(channel)
    try:
        return call()
    except (SlackApiError, SlackClientError) as exc:
        failure = delivery_failure(exc, what)
        if failure.provider_code == "ratelimited" and failure.retry_after:
            pause.pause(channel, failure.retry_after)
        raise failure from exc


def card_message(card: Card) -> dict[str, Any]:
    """``text`` plus a coloured attachment holding the blocks (the colour bar shows the state)."""
    text = fallback_text(card)
    return {
        "text": text,
        "attachments": [{"color": card.colour, "fallback": text, "blocks": card_blocks(card)}],
    }


class SlackChatPublisher:
    """The ChatPublisher for Slack channels (``chat.postMessage`` / ``chat.update``)."""

    provider = "slack"

    def __init__(self, client: WebClient, clock: Clock, pause: ChannelPause | None = None) -> None:
        self.client = client
        self.pause = pause or ChannelPause(clock)

    def post_card(self, chat_id: str, card: Card) -> MessageRef:
        message = card_message(card)
        response: SlackResponse = call_slack(
            self.pause,
            chat_id,
            f"card post in {chat_id}",
            lambda: self.client.chat_postMessage(channel=chat_id, unfurl_links=False, **message),
        )
        channel = str(response.get("channel") or chat_id)
        ts = str(response["ts"])
        return MessageRef(channel, ts, ts)

    def edit_card(self, ref: MessageRef, card: Card) -> None:
        message = card_message(card)
        call_slack(
            self.pause,
            ref.chat_id,
            f"card update in {ref.chat_id}",
            lambda: self.client.chat_update(channel=ref.chat_id, ts=ref.message_id, **message),
        )

    def post_text(self, chat_id: str, text: str) -> MessageRef:
        body = fit_mrkdwn(text, SECTION_MAX)
        response: SlackResponse = call_slack(
            self.pause,
            chat_id,
            f"announcement in {chat_id}",
            lambda: self.client.chat_postMessage(channel=chat_id, text=body, unfurl_links=False),
        )
        ts = str(response["ts"])
        return MessageRef(str(response.get("channel") or chat_id), ts, ts)

    def reply(self, ref: MessageRef, text: str) -> None:
        body = fit_mrkdwn(text, SECTION_MAX)
        call_slack(
            self.pause,
            ref.chat_id,
            f"thread reply in {ref.chat_id}",
            lambda: self.client.chat_postMessage(
                channel=ref.chat_id, thread_ts=ref.thread_id or ref.message_id, text=body, unfurl_links=False
            ),
        )
