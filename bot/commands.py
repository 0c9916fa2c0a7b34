"""Typed commands from Slack ``/oncall`` text, Telegram commands and SMS replies: one parser for all.

Slack passes the text after the command (its ``&amp;``/``&lt;``/``&gt;`` decoded by the Slack adapter),
mentions kept as ``<@U123|name>``. Telegram adds ``/ack@TocsinBot``, ``/ack_12`` (clickable in a message)
and ``/start <code>`` (the ``t.me/<bot>?start=<code>`` deep link, meaning ``link``). SMS adds ``12a``, ``a 12``, ``r 12``; a bare
``ack`` has ``number`` None, meaning the latest incident sent to this person. ``parse`` never raises: text
it cannot read becomes ``Unknown`` or ``Malformed`` carrying a message to show as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.duration import EXAMPLES, parse_duration


@dataclass(frozen=True, slots=True)
class Who:
    schedule: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Unack:
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Resolve:
    number: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Silence:
    number: int | None
    seconds: int


@dataclass(frozen=True, slots=True)
class Unsilence:
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Incidents:
    pass


class TargetKind(StrEnum):
    USER_ID = "user_id"  # a Slack mention, <@U123|ana>: the chat's own user id
    USERNAME = "username"  # @ana typed by hand (Telegram username, or Slack without autocomplete)
    TEAM = "team"  # a plain word or a quoted name: a Tocsin team


@dataclass(frozen=True, slots=True)
class PageTarget:
    kind: TargetKind
    value: str
    label: str | None = None  # the name shown in a Slack mention, for replies


@dataclass(frozen=True, slots=True)
class Page:
    target: PageTarget
    message: str


@dataclass(frozen=True, slots=True)
class Override:
    schedule: str
    seconds: int


@dataclass(frozen=True, slots=True)
class Link:
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None  # a canonical verb ("ack" for "help a") or the word as typed


@dataclass(frozen=True, slots=True)
class Test:
    integration: str


@dataclass(frozen=True, slots=True)
class OptOut:  # SMS STOP or a synonym: the carrier stops delivering our texts to this number
    keyword: str


@dataclass(frozen=True, slots=True)
class OptIn:  # SMS START, UNSTOP or YES: the carrier delivers our texts again
    keyword: str


@dataclass(frozen=True, slots=True)
class Unknown:  # text that names no command; message says what to try instead
    text: str
    message: str


@dataclass(frozen=True, slots=True)
class Malformed:  # a known command with wrong arguments; message shows the right form
    verb: str
    message: str


@dataclass(frozen=True, slots=True)
class NotForMe:  # a Telegram group command for another bot (/ack@OtherBot): stay silent
    bot: str


Command = Who | Ack | Unack | Resolve | Silence | Unsilence | Incidents | Page | Override | Link | Help | Test
ParseResult = Command | OptOut | OptIn | Unknown | Malformed | NotForMe

# Twilio's default keywords (REVOKE and OPTOUT too, for long codes). It acts on a body that is exactly one
# of them, in any case ("STOP PLEASE" is not one), whatever we answer; recognising the same set keeps our
# records in step with the carrier.
_SMS_KEYWORDS: dict[str, Callable[[str], ParseResult]] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), OptOut),
    **dict.fromkeys(("START", "UNSTOP", "YES"), OptIn),
    **dict.fromkeys(("HELP", "INFO"), lambda keyword: Help()),
}

# ASCII digits only (int() also reads Arabic-Indic digits); 12 digits is far past any incident count.
_NUMBER = re.compile(r"#?0*([1-9][0-9]{0,11})", re.ASCII)
_LOOKS_NUMERIC = re.compile(r"#?[0-9]+", re.ASCII)
_NUMBER_FIRST = re.compile(r"#?([0-9]{1,12})\s*(a|ack|r|res|resolve|c|close)", re.ASCII)  # SMS "12a"
_SLASH = re.compile(r"/([a-z0-9]+)(?:_([0-9]{1,12}))?(?:@([a-z0-9_]+))?", re.ASCII)  # /ack_12@TocsinBot
_SLACK_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>", re.ASCII)
_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]\s*(.*)", re.DOTALL)  # phones type curly quotes


def parse(text: str, *, sms: bool = False, bot_username: str | None = None) -> ParseResult:
    """The command in ``text``; ``sms`` adds carrier keywords, ``bot_username`` skips ``/cmd@OtherBot``."""
    stripped = text.strip()
    if not stripped:
        return Help()
    if sms and stripped.upper() in _SMS_KEYWORDS:
        return _SMS_KEYWORDS[stripped.upper()](stripped.upper())

    head, rest = _split_head(stripped)
    verb = head.lower()
    slash = _SLASH.fullmatch(verb)
    if slash is not None:
        verb, number, addressee = slash.groups()
        if addressee and bot_username and addressee != bot_username.lstrip("@").lower():
            return NotForMe(addressee)
        verb = "link" if verb == "start" else verb
        rest = f"{number} {rest}".strip() if number else rest
    elif short := _NUMBER_FIRST.fullmatch(stripped.lower()):
        verb, rest = short[2], short[1]
    elif _NUMBER.fullmatch(verb) and not rest:
        return Unknown(stripped, f"“{head}” needs a command too, e.g. `ack {head.lstrip('#')}`.")

    canonical = _ALIASES.get(verb)
    if canonical is None:
        return Unknown(stripped, f"I don't know “{head[:40]}”. Send `help` for the list of commands.")
    return _PARSERS[canonical](canonical, rest)


def _split_head(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _number(verb: str, token: str) -> int | Malformed:
    match = _NUMBER.fullmatch(token)
    if match is None:
        return Malformed(verb, f"{verb} needs an incident number, e.g. `{verb} 12`, not “{token[:40]}”.")
    return int(match.group(1))


def _lone_number(make: Callable[[int | None], Command]) -> Callable[[str, str], ParseResult]:
    """A parser for ``<verb> [n]``: a bare verb means the latest incident sent to this person."""

    def parse_lone(verb: str, rest: str) -> ParseResult:
        if len(rest.split()) > 1:
            return Malformed(verb, f"{verb} takes one incident number, e.g. `{verb} 12`.")
        number = _number(verb, rest) if rest else None
        return number if isinstance(number, Malformed) else make(number)

    return parse_lone


def _resolve(verb: str, rest: str) -> ParseResult:
    head, note = _split_head(rest) if rest else ("", "")
    number = _number(verb, head) if head else None
    if isinstance(number, Malformed):
        return Malformed(verb, "resolve needs an incident number first, e.g. `resolve 12 disk cleaned up`.")
    return Resolve(number, note or None)


def _silence(verb: str, rest: str) -> ParseResult:
    usage = "e.g. `silence 12 1h`"
    head, duration = _split_head(rest) if rest else ("", "")
    if not _LOOKS_NUMERIC.fullmatch(head):
        head, duration = "", rest  # "silence 1h": the latest incident, like a bare "ack"
    if not duration:
        return Malformed(verb, f"silence needs an incident number and a duration, {usage}.")
    number = _number(verb, head) if head else None
    if isinstance(number, Malformed):
        return number
    try:
        return Silence(number, parse_duration(duration))
    except ValueError as error:
        return Malformed(verb, f"{error} For example `silence 12 1h`.")


def _page(verb: str, rest: str) -> ParseResult:
    usage = "e.g. `page @ana the database is down` or `page platform the database is down`"
    quoted = _QUOTED.fullmatch(rest)
    head, message = _split_head(rest) if rest else ("", "")
    mention = _SLACK_USER.fullmatch(head)
    if quoted is not None:
        target, message = PageTarget(TargetKind.TEAM, quoted[1].strip()), quoted[2].strip()
    elif mention is not None:
        target = PageTarget(TargetKind.USER_ID, mention[1], mention[2] or None)
    elif re.fullmatch(r"@\w[\w.-]*", head):
        target = PageTarget(TargetKind.USERNAME, head[1:])
    elif re.fullmatch(r"[\w.-]+", head):
        target = PageTarget(TargetKind.TEAM, head)
    else:
        return Malformed(verb, f"page needs a person (@name) or a team name and a message, {usage}.")
    if not message:
        return Malformed(verb, f"page needs a message after who to page, {usage}.")
    return Page(target, message)


def _override(verb: str, rest: str) -> ParseResult:
    usage = 'e.g. `override primary 4h` or `override "Primary On-Call" 1h 30m`'
    words = rest.split()
    if len(words) < 2:
        return Malformed(verb, f"override needs a schedule and a duration, {usage}.")
    # The schedule is the shortest run of leading words after which the rest reads as a duration.
    for cut in range(1, len(words)):
        try:
            return Override(_unquote(" ".join(words[:cut])), parse_duration(" ".join(words[cut:])))
        except ValueError:
            continue
    return Malformed(verb, f"override needs a duration after the schedule ({EXAMPLES}), {usage}.")


def _link(verb: str, rest: str) -> ParseResult:
    if len(rest.split()) > 1:
        return Malformed(verb, "link takes one code, e.g. `link 4F7K2Q`.")
    return Link(rest or None)


def _help(verb: str, rest: str) -> ParseResult:
    topic = rest.split()[0].lower().lstrip("/") if rest else ""
    return Help(_ALIASES.get(topic, topic) or None)


def _test(verb: str, rest: str) -> ParseResult:
    name = _unquote(rest)
    return Test(name) if name else Malformed(verb, "test needs an integration, e.g. `test grafana`.")


def _unquote(text: str) -> str:
    quoted = _QUOTED.fullmatch(text)
    return quoted[1].strip() if quoted is not None and not quoted[2] else text.strip()


_PARSERS: dict[str, Callable[[str, str], ParseResult]] = {
    "who": lambda verb, rest: Who(_unquote(rest) or None),
    "ack": _lone_number(Ack),
    "unack": _lone_number(Unack),
    "resolve": _resolve,
    "silence": _silence,
    "unsilence": _lone_number(Unsilence),
    "incidents": lambda verb, rest: Incidents(),
    "page": _page,
    "override": _override,
    "link": _link,
    "help": _help,
    "test": _test,
}
# Short forms follow GoAlert's SMS replies ("1a", "1c") and what people type on a phone at night.
_ALIASES: dict[str, str] = {
    **{name: name for name in _PARSERS},
    **dict.fromkeys(("a", "acknowledge"), "ack"),
    **dict.fromkeys(("r", "res", "c", "close"), "resolve"),
    **dict.fromkeys(("snooze", "mute"), "silence"),
    **dict.fromkeys(("unsnooze", "unmute"), "unsilence"),
    "unacknowledge": "unack",
    "list": "incidents",
    "?": "help",
}
