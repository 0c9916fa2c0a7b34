"""The Bolt app behind ``POST /slack/events``: buttons, modals and ``/oncall``, turned into the shared
conversation's inputs, its replies delivered back to Slack.

Every listener calls ``ack()`` first; with ``process_before_response`` off (the default) Bolt answers
Slack right then and the rest runs on its executor, well inside Slack's 3 seconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.settings import Settings
from adapters.slack import modals
from adapters.slack.blocks import ACTION_PREFIX, RUNBOOK_ACTION_ID
from adapters.slack.dedup import SeenKeys, delivery_key
from adapters.slack.publisher import card_message
from adapters.templating.channel import render_channel
from bot import commands
from bot.actions import ActionKind, decode
from bot.cards import build_card
from bot.conversation import Conversation
from bot.help import UNLINKED
from bot.inbound import ButtonPressed, ChatIdentity, CommandInvoked, Provider, Reply
from bot.publishing import read_snapshot
from engine import jobs
from engine.errors import TocsinError
from engine.services import incidents
from engine.services.deps import Deps

log = logging.getLogger(__name__)
SlackErrors = (SlackApiError, SlackClientError)


@dataclass
class SlackBot:
    """What the listeners share: the Web API client, the conversation, the engine's dependencies."""

    client: WebClient
    conversation: Conversation
    deps: Deps
    command: str

    # -- delivering replies -----------------------------------------------------------------------

    def deliver(
        self,
        identity: ChatIdentity,
        replies: list[Reply],
        *,
        confirm_changes: bool,
        respond: Callable[..., Any] | None = None,
    ) -> None:
        """Ephemeral replies go to the person who acted; a change to an incident is announced by its
        card and thread (the publisher), other shared changes (an override) in the channel."""
        for reply in replies:
            if reply.refresh_card:
                self.deps.queue.enqueue(jobs.publish_job(reply.refresh_card, self.deps.clock.now()))
            text = render_channel("slack", "reply.j2", text=reply.text)
            if not reply.ephemeral and reply.refresh_card is None:
                self._post(identity, text, respond)
            elif reply.ephemeral or confirm_changes:
                self.ephemeral(identity, text, respond)

    def ephemeral(self, identity: ChatIdentity, text: str, respond: Callable[..., Any] | None = None) -> None:
        try:
            self.client.chat_postEphemeral(channel=identity.chat_id, user=identity.user_id, text=text)
            return
        except SlackErrors as exc:
            log.info("Slack ephemeral to %s in %s failed: %s", identity.user_id, identity.chat_id, exc)
        try:
            # The bot may not be in the channel a command came from: answer there through response_url,
            # or else in a DM.
            if respond is not None:
                respond(text=text, response_type="ephemeral")
            else:
                self.client.chat_postMessage(channel=identity.user_id, text=text)
        except SlackErrors as exc:
            log.warning("Slack reply to %s failed: %s", identity.user_id, exc)

    def _post(self, identity: ChatIdentity, text: str, respond: Callable[..., Any] | None) -> None:
        try:
            self.client.chat_postMessage(channel=identity.chat_id, text=text)
        except SlackErrors:
            self.ephemeral(identity, text, respond)

    # -- listeners ------------------------------------------------------------------------------------

    def on_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        action_id = str(action.get("action_id") or "")
        if action_id.startswith(RUNBOOK_ACTION_ID):
            return  # a URL button: Slack opens the link itself
        user = body.get("user") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or user.get("id")
        identity = ChatIdentity(Provider.SLACK, str(user.get("id")), str(channel), user.get("username"))
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        decoded = decode(value)
        if decoded is not None and decoded.kind in (ActionKind.ADD_NOTE, ActionKind.PAGE_MORE):
            self._open_modal(identity, decoded.kind, decoded.incident_id, str(value), body.get("trigger_id"))
            return
        message_ts = container.get("message_ts")
        ref = f"{channel}:{message_ts}" if message_ts else None
        replies = self.conversation.handle(ButtonPressed(identity, decoded, ref))
        self.deliver(identity, replies, confirm_changes=False)
        if message_ts and str(channel).startswith("D"):
            for incident_id in {r.refresh_card for r in replies if r.refresh_card}:
                self._refresh_dm_card(str(channel), str(message_ts), incident_id)

    def _refresh_dm_card(self, channel: str, ts: str, incident_id: str) -> None:
        """A page's DM card is not one the publisher tracks: redraw it where it was pressed."""
        try:
            card = build_card(read_snapshot(self.deps, incident_id))
            self.client.chat_update(channel=channel, ts=ts, **card_message(card))
        except (TocsinError, *SlackErrors) as exc:
            log.info("Slack DM card %s in %s not refreshed: %s", ts, channel, exc)

    def _open_modal(
        self, identity: ChatIdentity, kind: ActionKind, incident_id: str, value: str, trigger_id: Any
    ) -> None:
        if self.conversation.person(identity) is None:
            self.ephemeral(
                identity, render_channel("slack", "reply.j2", text=UNLINKED.format(provider="Slack"))
            )
            return
        try:
            with self.deps.db.unit() as uow:
                number = incidents.find(uow.session, incident_id).number
        except TocsinError:
            self.ephemeral(identity, "This incident no longer exists.")
            return
        meta = modals.metadata(value, identity.chat_id)
        view = (
            modals.note_view(number, meta)
            if kind is ActionKind.ADD_NOTE
            else modals.page_more_view(number, meta)
        )
        try:
            self.client.views_open(trigger_id=str(trigger_id or ""), view=view)
        except SlackErrors as exc:
            log.warning("Slack views.open failed: %s", exc)
            self.ephemeral(identity, "Slack would not open the form; use `/oncall` instead.")

    def on_view(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        value, channel = modals.read_metadata(view)
        user = body.get("user") or {}
        identity = ChatIdentity(
            Provider.SLACK, str(user.get("id")), str(channel or user.get("id")), user.get("username")
        )
        action = decode(value)
        if action is None:
            self.ephemeral(identity, "That form is not one of Tocsin's, or it is too old to use.")
            return
        if view.get("callback_id") == modals.NOTE_CALLBACK:
            replies = self.conversation.act(identity, action, note=modals.submitted_note(view))
        else:
            replies = self.conversation.page_more(identity, action.incident_id, modals.submitted_users(view))
        self.deliver(identity, replies, confirm_changes=True)

    def on_command(self, body: dict[str, Any], respond: Callable[..., Any]) -> None:
        text = unescape_command_text(str(body.get("text") or ""))
        identity = ChatIdentity(
            Provider.SLACK, str(body.get("user_id")), str(body.get("channel_id")), body.get("user_name")
        )
        parsed = commands.parse(text)
        if isinstance(parsed, commands.Link) and parsed.code is None:
            replies = [self._link_by_email(identity)]
        else:
            replies = self.conversation.handle(CommandInvoked(identity, text, parsed))
        self.deliver(identity, replies, confirm_changes=True, respond=respond)

    def _link_by_email(self, identity: ChatIdentity) -> Reply:
        try:
            profile = self.client.users_info(user=identity.user_id)["user"]["profile"]
        except SlackErrors as exc:
            reason = f"Slack did not show your profile ({exc})"
            text = render_channel(
                "slack",
                "link_by_email_failed.j2",
                reason=reason,
                user_id=identity.user_id,
                command=self.command,
            )
            return Reply(text, ephemeral=True)
        return self.conversation.link_by_email(identity, profile.get("email"))


def unescape_command_text(text: str) -> str:
    """``/oncall`` text as typed: Slack sends it escaped like any message (``&amp;`` ``&lt;`` ``&gt;``),
    and Tocsin escapes again wherever it shows text, so a title would read ``&amp;lt;`` on the card.
    Mentions (``<@U123|ana>``) use real angle brackets and are kept; ``&amp;`` goes last so ``&amp;lt;``
    (a typed ``&lt;``) stays ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def build_bolt_app(settings: Settings, bot: SlackBot, executor: Executor) -> App:
    """A single-workspace Bolt app whose client talks to ``settings.slack_api_url``.

    ``authorize`` answers from settings, so Bolt never calls ``auth.test`` (at start or per request):
    a Slack outage cannot stop Tocsin from starting or from verifying requests.
    """
    token = settings.slack_bot_token

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    app = App(
        signing_secret=settings.slack_signing_secret,
        # Token-less: Bolt builds each request's client from ``authorize``; Tocsin calls through ``bot.client``.
        client=WebClient(base_url=bot.client.base_url, timeout=bot.client.timeout),
        authorize=authorize,
        process_before_response=settings.slack_process_before_response,
        listener_executor=executor,
        name="tocsin",
    )
    seen = SeenKeys()

    @app.middleware
    def once_per_delivery(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not seen.first_time(key):
            return BoltResponse(status=200, body="")
        return next()

    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def on_action(ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        bot.on_action(body, action)

    @app.view(re.compile(f"^({modals.NOTE_CALLBACK}|{modals.PAGE_MORE_CALLBACK})$"))
    def on_view(ack: Callable[[], None], body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        bot.on_view(body, view)

    @app.command(settings.slack_command)
    def on_command(ack: Callable[[], None], body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        bot.on_command(body, respond)

    return app
