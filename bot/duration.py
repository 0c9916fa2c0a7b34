"""Durations as people type them in chat (``30m``, ``2h30m``, ``1h 30m``, ``90``) and as we write them back.

Errors are ``ValueError`` whose text is meant to be shown in chat as it is, so it says what to type instead.
"""

from __future__ import annotations

import re
from fractions import Fraction

MIN_SECONDS = 1
MAX_SECONDS = 30 * 24 * 3600

EXAMPLES = "`30m`, `1h`, `2h30m`, `1d` or a number of seconds"

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_UNIT_NAMES = {
    "d": ("d", "day", "days"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
}
_UNITS = {alias: unit for unit, aliases in _UNIT_NAMES.items() for alias in aliases}
# Longest alias first so "min" is not read as "m" followed by junk "in".
_UNIT_PATTERN = "|".join(sorted(_UNITS, key=len, reverse=True))
# ASCII digits only: str.isdigit() and int() also accept Arabic-Indic or full-width digits.
_PART = re.compile(rf"([0-9]+(?:[.,][0-9]+)?)\s*({_UNIT_PATTERN})(?![a-z])", re.ASCII)
_BARE = re.compile(r"[0-9]+", re.ASCII)
_PIECE = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*([^\s0-9]*)", re.ASCII)  # for error messages only
# Far beyond any real duration; keeps a pasted paragraph from turning into a wall of error text.
_MAX_INPUT = 40


def parse_duration(text: str) -> int:
    """Whole seconds in ``text``; raises ``ValueError`` with a chat-ready message when it is not a duration."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError(f"Give a duration such as {EXAMPLES}.")
    shown = _quote(text.strip())
    if len(cleaned) > _MAX_INPUT:
        raise ValueError(f"{shown} is too long to be a duration; try {EXAMPLES}.")
    if _BARE.fullmatch(cleaned):
        return _bounded(int(cleaned), shown)

    total = Fraction(0)
    seen: set[str] = set()
    position = 0
    while position < len(cleaned):
        if cleaned[position].isspace():
            position += 1
            continue
        match = _PART.match(cleaned, position)
        if match is None:
            raise ValueError(_explain(cleaned, position, shown))
        amount, alias = match.groups()
        unit = _UNITS[alias]
        if unit in seen:
            raise ValueError(f"{shown} gives {_UNIT_NAMES[unit][-1]} twice; write it once, e.g. `2h30m`.")
        seen.add(unit)
        total += Fraction(amount.replace(",", ".")) * _UNIT_SECONDS[unit]
        position = match.end()

    if total.denominator != 1:
        raise ValueError(f"{shown} is not a whole number of seconds.")
    return _bounded(int(total), shown)


def format_duration(seconds: int) -> str:
    """A short human form: ``1 h 30 min``, ``2 d 4 h``, ``45 s``; zero is ``0 s``."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds == 0:
        return "0 s"
    parts = []
    for label, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {label}")
    return " ".join(parts)


def _bounded(seconds: int, shown: str) -> int:
    if seconds < MIN_SECONDS:
        raise ValueError(f"{shown} is too short; the shortest duration is 1 second.")
    if seconds > MAX_SECONDS:
        raise ValueError(f"{shown} is too long; the longest duration is 30 days (`30d`).")
    return seconds


def _explain(cleaned: str, position: int, shown: str) -> str:
    """Say what is wrong at ``position``, the start of the first piece that is not ``<number><unit>``."""
    piece = _PIECE.match(cleaned, position)
    if piece is not None and not piece.group(2):
        number = piece.group(1)
        return f"{shown}: add a unit to {number}, e.g. `{number}m` for minutes or `{number}h` for hours."
    if piece is not None:
        return f"{shown}: I don't know the unit “{piece.group(2)[:20]}”; use d, h, m or s ({EXAMPLES})."
    if cleaned.startswith("-", position):
        return f"{shown}: a duration cannot be negative."
    return f"{shown} is not a duration; try {EXAMPLES}."


def _quote(text: str) -> str:
    return f"“{text[:_MAX_INPUT]}…”" if len(text) > _MAX_INPUT else f"“{text}”"
