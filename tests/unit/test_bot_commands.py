"""The command parser: every form from Slack, Telegram and SMS, and a helpful answer for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import commands
from bot.commands import (
    Ack,
    Help,
    Incidents,
    Link,
    Malformed,
    NotForMe,
    OptIn,
    OptOut,
    Override,
    Page,
    PageTarget,
    ParseResult,
    Resolve,
    Silence,
    TargetKind,
    Unack,
    Unknown,
    Unsilence,
    Who,
    parse,
)

PARSED: list[tuple[str, ParseResult]] = [
    # who
    ("who", Who()),
    ("who primary", Who("primary")),
    ("who Primary On-Call", Who("Primary On-Call")),
    ('who "Primary On-Call"', Who("Primary On-Call")),
    ("/who", Who()),
    # ack: Slack text, SMS forms, Telegram forms
    ("ack 12", Ack(12)),
    ("ACK 12", Ack(12)),
    ("Ack 12", Ack(12)),
    ("acknowledge 12", Ack(12)),
    ("ack #12", Ack(12)),
    ("  ack   12  ", Ack(12)),
    ("a 12", Ack(12)),
    ("12a", Ack(12)),
    ("12A", Ack(12)),
    ("12 ack", Ack(12)),
    ("#12a", Ack(12)),
    ("ack 012", Ack(12)),
    ("ack", Ack(None)),  # the latest incident sent to this person
    ("ACK", Ack(None)),
    ("a", Ack(None)),
    ("/ack 12", Ack(12)),
    ("/ack@TocsinBot 12", Ack(12)),
    ("/ACK@tocsinbot 12", Ack(12)),
    ("/ack_12", Ack(12)),
    ("/ack_12@TocsinBot", Ack(12)),
    ("/ack", Ack(None)),
    # unack
    ("unack 12", Unack(12)),
    ("unacknowledge #7", Unack(7)),
    ("unack", Unack(None)),
    # resolve
    ("resolve 12", Resolve(12)),
    ("RESOLVE 12", Resolve(12)),
    ("r 12", Resolve(12)),
    ("12r", Resolve(12)),
    ("12 r", Resolve(12)),
    ("12c", Resolve(12)),
    ("close 12", Resolve(12)),
    ("res 12", Resolve(12)),
    ("resolve", Resolve()),
    ("r", Resolve()),
    ("resolve 12 disk cleaned up", Resolve(12, "disk cleaned up")),
    ("resolve 12 <@U1> restarted it & it's fine", Resolve(12, "<@U1> restarted it & it's fine")),
    ("resolve 12\nroot cause: full disk", Resolve(12, "root cause: full disk")),
    ("/resolve@TocsinBot 12 fixed", Resolve(12, "fixed")),
    ("/resolve_9", Resolve(9)),
    # silence
    ("silence 12 1h", Silence(12, 3600)),
    ("silence 12 30m", Silence(12, 1800)),
    ("silence #12 2h30m", Silence(12, 9000)),
    ("silence 12 1h 30m", Silence(12, 5400)),
    ("silence 12 1d", Silence(12, 86400)),
    ("silence 12 90", Silence(12, 90)),
    ("SILENCE 12 1H", Silence(12, 3600)),
    ("snooze 12 4h", Silence(12, 14400)),
    ("silence 1h", Silence(None, 3600)),
    # unsilence
    ("unsilence 12", Unsilence(12)),
    ("unsnooze 12", Unsilence(12)),
    ("unsilence", Unsilence(None)),
    # incidents
    ("incidents", Incidents()),
    ("/incidents", Incidents()),
    ("/incidents@TocsinBot", Incidents()),
    ("list", Incidents()),
    # page
    (
        "page <@U123|ana> the database is down",
        Page(PageTarget(TargetKind.USER_ID, "U123", "ana"), "the database is down"),
    ),
    ("page <@U123> db down", Page(PageTarget(TargetKind.USER_ID, "U123"), "db down")),
    ("page @ana db down", Page(PageTarget(TargetKind.USERNAME, "ana"), "db down")),
    ("page @ana_b db down", Page(PageTarget(TargetKind.USERNAME, "ana_b"), "db down")),
    ("page platform db down", Page(PageTarget(TargetKind.TEAM, "platform"), "db down")),
    ('page "Platform Team" db down', Page(PageTarget(TargetKind.TEAM, "Platform Team"), "db down")),
    ("page “Platform Team” db down", Page(PageTarget(TargetKind.TEAM, "Platform Team"), "db down")),
    # override
    ("override primary 4h", Override("primary", 14400)),
    ("override S002 1h 30m", Override("S002", 5400)),
    ("override Primary On-Call 2h", Override("Primary On-Call", 7200)),
    ('override "Primary On-Call" 2h', Override("Primary On-Call", 7200)),
    ("override team 2 1h", Override("team 2", 3600)),  # "2 1h" is not a duration, so "2" is in the name
    # link
    ("link", Link()),
    ("link 4F7K2Q", Link("4F7K2Q")),
    ("/link 4F7K2Q", Link("4F7K2Q")),
    ("/start 4F7K2Q", Link("4F7K2Q")),  # Telegram deep link t.me/TocsinBot?start=4F7K2Q
    ("/start", Link()),
    ("/start@TocsinBot abc", Link("abc")),
    # help
    ("", Help()),
    ("   ", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("/help", Help()),
    ("?", Help()),
    ("help ack", Help("ack")),
    ("help a", Help("ack")),
    ("help /silence", Help("silence")),
    ("help banana", Help("banana")),
    # test (bot.commands.Test is used through the module so pytest does not try to collect it)
    ("test grafana", commands.Test("grafana")),
    ('test "Production Alerts"', commands.Test("Production Alerts")),
    ("test C1234", commands.Test("C1234")),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parses(text: str, expected: ParseResult) -> None:
    assert parse(text, bot_username="TocsinBot") == expected


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_sms_reads_the_same_except_for_keywords(text: str, expected: ParseResult) -> None:
    assert parse(text, sms=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", OptOut("STOP")),
        ("stop", OptOut("STOP")),
        (" Stop ", OptOut("STOP")),
        ("STOPALL", OptOut("STOPALL")),
        ("UNSUBSCRIBE", OptOut("UNSUBSCRIBE")),
        ("CANCEL", OptOut("CANCEL")),
        ("END", OptOut("END")),
        ("QUIT", OptOut("QUIT")),
        ("START", OptIn("START")),
        ("UNSTOP", OptIn("UNSTOP")),
        ("yes", OptIn("YES")),
        ("HELP", Help()),
        ("info", Help()),
    ],
)
def test_sms_carrier_keywords(text: str, expected: ParseResult) -> None:
    assert parse(text, sms=True) == expected


def test_carrier_keywords_are_only_keywords_in_sms_and_only_alone() -> None:
    assert isinstance(parse("STOP"), Unknown)  # Slack or Telegram text
    assert isinstance(parse("/stop"), Unknown)  # another bot's command (the Telegram fixture)
    assert isinstance(parse("START"), Unknown)
    assert isinstance(parse("STOP PLEASE", sms=True), Unknown)  # Twilio does not act on it either
    assert parse("/start abc", sms=True) == Link("abc")


@pytest.mark.parametrize(
    ("text", "verb", "fragment"),
    [
        ("ack x", "ack", "ack needs an incident number, e.g. `ack 12`"),
        ("ack 0", "ack", "ack needs an incident number"),
        ("ack -3", "ack", "ack needs an incident number"),
        ("ack 12 13", "ack", "ack takes one incident number"),
        ("ack 1234567890123", "ack", "ack needs an incident number"),
        ("ack ١٢", "ack", "ack needs an incident number"),  # Arabic-Indic digits
        ("unack foo", "unack", "unack needs an incident number, e.g. `unack 12`"),
        ("unsilence 1 2", "unsilence", "unsilence takes one incident number"),
        ("resolve fixed it", "resolve", "resolve needs an incident number first"),
        ("silence", "silence", "silence needs an incident number and a duration, e.g. `silence 12 1h`"),
        ("silence 12", "silence", "silence needs an incident number and a duration"),
        ("silence 12 soon", "silence", "“soon” is not a duration"),
        ("silence 12 31d", "silence", "the longest duration is 30 days"),
        ("silence 12 1h 30", "silence", "add a unit to 30"),
        ("silence 0 1h", "silence", "silence needs an incident number"),
        ("page", "page", "page needs a person (@name) or a team name and a message"),
        ("page @ana", "page", "page needs a message"),
        ("page <@U123|ana>", "page", "page needs a message"),
        ("page <#C123|ops> db down", "page", "page needs a person"),
        ("page @ db down", "page", "page needs a person"),
        ("override", "override", "override needs a schedule and a duration"),
        ("override primary", "override", "override needs a schedule and a duration"),
        ("override primary soon", "override", "override needs a duration after the schedule"),
        ("link a b", "link", "link takes one code"),
        ("test", "test", "test needs an integration, e.g. `test grafana`"),
    ],
)
def test_malformed_commands_explain_the_right_form(text: str, verb: str, fragment: str) -> None:
    result = parse(text)
    assert isinstance(result, Malformed), result
    assert result.verb == verb
    assert fragment in result.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("hello", "I don't know “hello”. Send `help`"),
        ("acknowledged 12", "I don't know “acknowledged”"),
        ("/oncall ack 12", "I don't know “/oncall”"),
        ("12", "“12” needs a command too, e.g. `ack 12`"),
        ("#12", "e.g. `ack 12`"),
        ("12x", "I don't know “12x”"),
        ("12 page", "I don't know “12”"),  # only ack and resolve have the number-first SMS form
        ("/", "I don't know “/”"),
        ("/ack-12", "I don't know"),
        ("x" * 500, "I don't know “" + "x" * 40 + "”"),
    ],
)
def test_unknown_text_gets_a_hint(text: str, fragment: str) -> None:
    result = parse(text)
    assert isinstance(result, Unknown), result
    assert result.text == text.strip()
    assert fragment in result.message


def test_telegram_commands_for_another_bot_are_left_alone() -> None:
    assert parse("/ack@AlertmanagerBot 12", bot_username="TocsinBot") == NotForMe("alertmanagerbot")
    assert parse("/ack@TocsinBot 12", bot_username="@TocsinBot") == Ack(12)
    # Without a username to compare, every addressee is accepted (private chats have no others).
    assert parse("/ack@AlertmanagerBot 12") == Ack(12)


def test_telegram_fixture_command_is_not_ours(fixtures_dir: Path) -> None:
    update = json.loads((fixtures_dir / "telegram" / "tg_update_command_in_group.json").read_text())
    result = parse(update["message"]["text"], bot_username="TocsinBot")
    assert isinstance(result, Unknown)


def test_sms_body_from_twilio_fixture(fixtures_dir: Path) -> None:
    from urllib.parse import parse_qs

    form = parse_qs((fixtures_dir / "twilio" / "twilio_sms_inbound.form").read_text())
    assert isinstance(parse(form["Body"][0], sms=True), Unknown)  # "Msg"


@settings(max_examples=200)
@given(st.text(max_size=80), st.booleans())
def test_never_raises(text: str, sms: bool) -> None:
    result = parse(text, sms=sms, bot_username="TocsinBot")
    if isinstance(result, Unknown | Malformed):
        assert result.message and len(result.message) < 400


@settings(max_examples=200)
@given(
    st.sampled_from(["ack", "a", "resolve", "r", "unack", "unsilence", "/ack", "/resolve@TocsinBot"]),
    st.integers(1, 10**12 - 1),
)
def test_incident_numbers_round_trip(verb: str, number: int) -> None:
    result = parse(f"{verb} {number}", bot_username="TocsinBot")
    assert getattr(result, "number", None) == number
