"""What arrives from any chat or phone, in a form that no longer says which SDK delivered it, and what the
conversation answers.

Adapters build these from wire payloads (a Slack slash command, a Telegram update, a Twilio webhook) and
hand them to ``bot.conversation.handle``, which returns ``Reply`` values for the adapter to render. All
are frozen: an input is a fact about the past and a reply is a value, so tests compare them with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.actions import Action
from bot.commands import ParseResult


class Provider(StrEnum):
    SLACK = "slack"
    TELEGRAM = "telegram"
    SMS = "sms"
    PHONE = "phone"
    CONSOLE = "console"  # the terminal chat of the embedded demo


@dataclass(frozen=True, slots=True)
class ChatIdentity:
    """Who acted, as the provider knows them; linking to a Tocsin user happens in the conversation.

    ``user_id`` is the provider's stable id for the person (Slack ``U…``, Telegram ``from.id`` as text,
    the E.164 number for SMS and phone). ``chat_id`` is where the answer goes (Slack channel or DM,
    Telegram chat, the same number for SMS). ``display_name`` is for replies only, never for matching:
    people can change it.
    """

    provider: Provider
    user_id: str
    chat_id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class CommandInvoked:
    """A typed command: Slack ``/oncall`` text, a Telegram ``/command``, a console line.

    ``text`` is what the person typed, kept for the timeline and error replies; ``command`` is
    ``bot.commands.parse(text, ...)`` as the adapter called it (only it knows the bot's username).
    """

    identity: ChatIdentity
    text: str
    command: ParseResult


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A press on a card button.

    ``action`` is ``bot.actions.decode`` of the button data, None when the data is not ours or no longer
    understood (another bot's button, a card from an older format): the conversation answers politely.
    ``message_ref`` is the adapter's opaque handle on the pressed message (Slack channel and ``ts``,
    Telegram chat and message id) so a reply can edit it; None when the provider gives none.
    """

    identity: ChatIdentity
    action: Action | None
    message_ref: str | None = None


@dataclass(frozen=True, slots=True)
class TextReply:
    """A free-text SMS from a known number; the conversation parses it with ``sms=True``.

    Free text rather than a parsed command because what a bare ``ack`` means depends on which incident
    was last sent to this number, which only the conversation can look up.
    """

    identity: ChatIdentity
    text: str


@dataclass(frozen=True, slots=True)
class KeypadInput:
    """Digits pressed during a notification call (Twilio ``<Gather>``).

    ``incident_ref`` is the incident id the call was placed for, carried in the adapter's callback URL,
    because a call has no thread or message to hang the answer on. Map digits with
    ``bot.actions.keypad_action``.
    """

    identity: ChatIdentity
    digits: str
    incident_ref: str


Inbound = CommandInvoked | ButtonPressed | TextReply | KeypadInput


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer for the adapter to deliver to the chat the input came from.

    ``ephemeral``: only the person who acted sees it (a Slack ephemeral message, a Telegram callback
    answer or private message); SMS and phone answers are private anyway. ``refresh_card``: the id of an
    incident whose card should be re-rendered in place from current state, so a reply never carries a
    stale copy of the card. ``remove_keyboard``: take the buttons off the pressed message (for example
    when its incident is gone). Adapters cut ``text`` to their limits with ``bot.text``.
    """

    text: str
    ephemeral: bool = False
    refresh_card: str | None = None
    remove_keyboard: bool = False
