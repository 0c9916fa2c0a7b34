"""What a button on an incident card does, and the compact string the button carries.

The same string is a Telegram ``callback_data`` (1–64 **bytes**) and a Slack button ``value`` (≤ 2,000
characters), so it is built for the smaller of the two: ``v1:<code>:<incident id>[:<argument>]``, e.g.
``v1:ack:IKX3M9Q2PRT7W``, ``v1:sil:IKX3M9Q2PRT7W:3600``, ``v1:wh:IKX3M9Q2PRT7W:W001``.

Why the incident id and not its number: the id is what the engine looks incidents up by, and the ids it
mints (13 characters) leave room for every action. When an id is too long anyway (ids are opaque and up to
64 characters in the database, and webhook ids can be chosen by an administrator), ``encode`` raises
``ButtonDataTooLong`` instead of shortening anything: a shortened id could name another incident, and a
button that does the wrong thing at 3 a.m. is worse than no button. Card builders call ``fits`` first and
leave out a button that cannot be encoded (the command line still works: ``ack 12``).

``decode`` never raises: presses from old cards, other bots (``/ack 123`` in the Telegram fixtures) or
forged callbacks all come back as ``None``, and the caller answers politely. A decoded action is a
request, not a permission: the conversation still checks who pressed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.duration import MAX_SECONDS, MIN_SECONDS

VERSION = "v1"
MAX_BYTES = 64

# Twilio <Gather> digits on a notification call (SPEC 5): 1 ack, 2 resolve, 3 silence 30 minutes.
KEYPAD_SILENCE_SECONDS = 30 * 60


class ActionKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    RESOLVE = "resolve"
    UNRESOLVE = "unresolve"
    SILENCE = "silence"
    UNSILENCE = "unsilence"
    ADD_NOTE = "add_note"
    PAGE_MORE = "page_more"
    RUNBOOK = "runbook"
    TRIGGER_WEBHOOK = "trigger_webhook"


# Wire codes are part of the v1 format: renaming one breaks every button already posted.
_CODES = {
    ActionKind.ACKNOWLEDGE: "ack",
    ActionKind.UNACKNOWLEDGE: "unack",
    ActionKind.RESOLVE: "res",
    ActionKind.UNRESOLVE: "unres",
    ActionKind.SILENCE: "sil",
    ActionKind.UNSILENCE: "unsil",
    ActionKind.ADD_NOTE: "note",
    ActionKind.PAGE_MORE: "more",
    ActionKind.RUNBOOK: "rb",
    ActionKind.TRIGGER_WEBHOOK: "wh",
}
_KINDS = {code: kind for kind, code in _CODES.items()}
# ":" separates fields; whitespace and control characters have no business in an id and would make
# the button data ambiguous or unprintable; lone surrogates cannot be encoded as UTF-8 at all.
_BAD_ID = re.compile(r"[:\s\x00-\x1f\x7f\ud800-\udfff]")
# Canonical decimal only, so every accepted string is exactly what encode would produce.
_SECONDS = re.compile(r"[1-9][0-9]{0,7}", re.ASCII)


class ButtonDataTooLong(ValueError):
    """The action's ids do not fit in Telegram's 64-byte ``callback_data``."""


@dataclass(frozen=True, slots=True)
class Action:
    """One press of one button. ``seconds`` belongs to silence only, ``webhook_id`` to trigger_webhook only."""

    kind: ActionKind
    incident_id: str
    seconds: int | None = None
    webhook_id: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.incident_id, "incident id")
        if (self.kind is ActionKind.SILENCE) != (self.seconds is not None):
            raise ValueError("seconds is required for silence and only for silence")
        if self.seconds is not None and not MIN_SECONDS <= self.seconds <= MAX_SECONDS:
            raise ValueError(f"silence must last from {MIN_SECONDS} to {MAX_SECONDS} seconds")
        if (self.kind is ActionKind.TRIGGER_WEBHOOK) != (self.webhook_id is not None):
            raise ValueError("webhook_id is required for trigger_webhook and only for it")
        if self.webhook_id is not None:
            _check_id(self.webhook_id, "webhook id")


def encode(action: Action) -> str:
    """The button string for ``action``; raises ``ButtonDataTooLong`` past 64 UTF-8 bytes."""
    fields = [VERSION, _CODES[action.kind], action.incident_id]
    if action.seconds is not None:
        fields.append(str(action.seconds))
    if action.webhook_id is not None:
        fields.append(action.webhook_id)
    data = ":".join(fields)
    size = len(data.encode())
    if size > MAX_BYTES:
        raise ButtonDataTooLong(
            f"button data for {action.kind} on incident {action.incident_id!r} is {size} bytes; "
            f"Telegram allows {MAX_BYTES}. Use shorter ids or leave this button out."
        )
    return data


def fits(action: Action) -> bool:
    """Whether ``encode(action)`` succeeds, for card builders that drop buttons that cannot be encoded."""
    try:
        encode(action)
    except ButtonDataTooLong:
        return False
    return True


def decode(data: str | None) -> Action | None:
    """The action in a button string, or ``None`` for anything ``encode`` would not have produced."""
    if not isinstance(data, str) or len(data.encode(errors="replace")) > MAX_BYTES:
        return None
    fields = data.split(":")
    if len(fields) < 3 or fields[0] != VERSION or fields[1] not in _KINDS:
        return None
    kind = _KINDS[fields[1]]
    extra = fields[3:]
    seconds: int | None = None
    webhook_id: str | None = None
    if kind is ActionKind.SILENCE:
        if len(extra) != 1 or not _SECONDS.fullmatch(extra[0]):
            return None
        seconds = int(extra[0])
    elif kind is ActionKind.TRIGGER_WEBHOOK:
        if len(extra) != 1:
            return None
        webhook_id = extra[0]
    elif extra:
        return None
    try:
        return Action(kind, fields[2], seconds=seconds, webhook_id=webhook_id)
    except ValueError:
        return None


def keypad_action(digits: str, incident_id: str) -> Action | None:
    """The action for digits pressed on a notification call, or ``None`` for a key with no meaning."""
    match digits.strip():
        case "1":
            return Action(ActionKind.ACKNOWLEDGE, incident_id)
        case "2":
            return Action(ActionKind.RESOLVE, incident_id)
        case "3":
            return Action(ActionKind.SILENCE, incident_id, seconds=KEYPAD_SILENCE_SECONDS)
    return None


def _check_id(value: str, what: str) -> None:
    if not value:
        raise ValueError(f"{what} must not be empty")
    if _BAD_ID.search(value):
        raise ValueError(
            f"{what} {value!r} must not contain ':', whitespace, control characters or lone surrogates"
        )
