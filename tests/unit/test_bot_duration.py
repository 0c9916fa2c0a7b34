"""Durations typed in chat: every accepted form, readable errors, bounds, and the short form written back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.duration import MAX_SECONDS, MIN_SECONDS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("1h", 3600),
        ("2h30m", 9000),
        ("1d", 86400),
        ("90", 90),
        ("1h 30m", 5400),
        ("1H30M", 5400),
        ("  45s  ", 45),
        ("1 h 30 min", 5400),
        ("2 hours", 7200),
        ("1 day 2 hrs", 93600),
        ("10 mins", 600),
        ("1.5h", 5400),
        ("1,5h", 5400),
        ("0.5m", 30),
        ("30m1h", 5400),
        ("1", 1),
        ("30d", MAX_SECONDS),
        ("007", 7),
    ],
)
def test_parses(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Give a duration such as `30m`"),
        ("   ", "Give a duration"),
        ("soon", "“soon” is not a duration"),
        ("1h 30", "add a unit to 30, e.g. `30m`"),
        ("5x", "I don't know the unit “x”"),
        ("5 lightyears", "I don't know the unit"),
        ("1h1h", "gives hours twice"),
        ("0", "too short"),
        ("0m", "too short"),
        ("-5m", "cannot be negative"),
        ("31d", "too long; the longest duration is 30 days"),
        ("2592001", "too long"),
        ("1.5s", "not a whole number of seconds"),
        ("٣٠m", "is not a duration"),  # Arabic-Indic digits are not read as numbers
        ("1" * 60, "too long to be a duration"),
        ("1h; drop table", "not a duration"),
    ],
)
def test_refuses_with_a_readable_message(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    assert fragment in str(raised.value)
    assert len(str(raised.value)) < 200  # it goes into a chat reply as it is


def test_error_quotes_long_input_shortened() -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration("x" * 500)
    assert "x" * 41 not in str(raised.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (5400, "1 h 30 min"),
        (3600, "1 h"),
        (86400, "1 d"),
        (93784, "1 d 2 h 3 min 4 s"),
        (MAX_SECONDS, "30 d"),
    ],
)
def test_formats(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


@settings(max_examples=200)
@given(st.integers(MIN_SECONDS, MAX_SECONDS))
def test_what_we_write_we_read_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_never_raises_anything_but_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert MIN_SECONDS <= seconds <= MAX_SECONDS
