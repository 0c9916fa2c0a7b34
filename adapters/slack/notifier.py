"""Personal pages as Slack DMs: the incident card with its buttons, to the user's linked Slack id."""

from __future__ import annotations

from slack_sdk import WebClient

from adapters.slack.publisher import ChannelPause, call_slack, card_message
from adapters.templating.channel import render_channel
from bot.cards import page_card
from engine.clock import Clock
from engine.errors import DeliveryFailed
from engine.ports import Capabilities, Page, SendResult


class SlackDmNotifier:
    """Sends ``slack`` pages: ``conversations.open`` with the user, then the card (or an update line)."""

    capabilities = Capabilities(channel="slack", buttons=True, edits=True, max_text=3000, per_second=1.0)

    def __init__(self, client: WebClient, clock: Clock, pause: ChannelPause) -> None:
        self.client = client
        self.clock = clock
        self.pause = pause

    def send(self, page: Page) -> SendResult:
        user = page.address
        if not user:
            raise DeliveryFailed(
                f"{page.user_name} has no linked Slack account", retryable=False, provider_code="not_linked"
            )
        opened = call_slack(
            self.pause, user, f"DM to {page.user_name}", lambda: self.client.conversations_open(users=user)
        )
        channel = str(opened["channel"]["id"])
        text = render_channel(
            "slack",
            "page_text.j2",
            kind=page.kind,
            important=page.important,
            number=page.incident_number,
            title=page.title,
            text=page.text,
        )
        message: dict[str, object] = {"text": text}
        if page.kind == "page":
            message = card_message(page_card(page, self.clock.now()))
            message["text"] = text
        posted = call_slack(
            self.pause,
            channel,
            f"DM to {page.user_name}",
            lambda: self.client.chat_postMessage(channel=channel, unfurl_links=False, **message),  # type: ignore[arg-type]
        )
        return SendResult(provider_id=f"{channel}:{posted['ts']}", status="sent")
