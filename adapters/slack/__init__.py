"""Slack: incident cards in channels, DMs for personal pages, buttons, modals and ``/oncall``.

``install`` returns None unless both the bot token and the signing secret are set (SPEC §2).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient

from adapters.providers import ProviderContext, ProviderParts
from adapters.slack.listeners import SlackBot, build_bolt_app
from adapters.slack.notifier import SlackDmNotifier
from adapters.slack.publisher import ChannelPause, SlackChatPublisher
from adapters.slack.router import build_router

# A hung Slack must not hold a worker (and the pages queued behind it) for slack_sdk's default 30 s.
WEB_API_TIMEOUT = 10


def install(context: ProviderContext) -> ProviderParts | None:
    settings = context.settings
    if not settings.slack_enabled:
        return None
    deps = context.deps
    client = WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=WEB_API_TIMEOUT
    )
    pause = ChannelPause(deps.clock)
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tocsin-slack")
    bot = SlackBot(client, context.conversation, deps, settings.slack_command)
    app = build_bolt_app(settings, bot, executor)
    return ProviderParts(
        name="slack",
        notifiers={"slack": SlackDmNotifier(client, deps.clock, pause)},
        publisher=SlackChatPublisher(client, deps.clock, pause),
        router=build_router(app),
        close=lambda: executor.shutdown(wait=False),
    )
