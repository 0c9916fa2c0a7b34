"""Lenient readers for decoded JSON values.

The rule every parser follows: a container of the wrong kind (``alerts`` that is not a list, ``labels``
that is not an object) is something the sender could never send, so it raises ``ValidationFailed``
naming the field; ``null`` means absent; a scalar of an unexpected kind is coerced to text, because
senders disagree about numbers versus strings and an alert must not be lost over that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ValidationFailed

MAX_TITLE = 1024
_RESOLVED_WORDS = frozenset({"resolved", "ok"})
# Alertmanager's and Grafana's zero time.Time, sent as endsAt of firing alerts.
_ZERO_YEAR = 1
# Epoch numbers above this are milliseconds (this many seconds is the year 5138).
_EPOCH_MS_THRESHOLD = 1e11


def require_object(value: Any, field: str | None = None) -> Mapping[str, Any]:
    """``value`` itself when it is a JSON object."""
    if not isinstance(value, dict):
        where = f"{field} " if field else "payload "
        raise ValidationFailed(f"{where}must be a JSON object, not {_kind(value)}", field=field)
    return value


def optional_object(value: Any, field: str) -> Mapping[str, Any]:
    """A JSON object, or an empty one for ``null``/absent."""
    if value is None:
        return {}
    return require_object(value, field)


def optional_list(value: Any, field: str) -> list[Any]:
    """A JSON array, or an empty one for ``null``/absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed(f"{field} must be a JSON array, not {_kind(value)}", field=field)
    return value


def text(value: Any) -> str:
    """Any JSON value as label text: strings as they are, other scalars as JSON spells them."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except RecursionError as exc:
        raise ValidationFailed("a value is nested too deeply") from exc


def string_map(value: Any, field: str) -> dict[str, str]:
    """A labels/annotations object with every value coerced to text."""
    return {str(key): text(item) for key, item in optional_object(value, field).items()}


def title_text(value: str) -> str:
    """One line, at most :data:`MAX_TITLE` characters, cut with a marker."""
    line = " ".join(value.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1] + "…"


def first_text(*values: Any) -> str:
    """The first value that is non-empty as text."""
    for value in values:
        candidate = text(value).strip()
        if candidate:
            return candidate
    return ""


def is_resolved_word(value: Any) -> bool:
    """Whether a status/state value says "resolved" (``resolved``, or Grafana's ``ok``)."""
    return isinstance(value, str) and value.strip().lower() in _RESOLVED_WORDS


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from RFC 3339 text or epoch seconds/milliseconds; ``None`` when unusable.

    The zero time (``0001-01-01T00:00:00Z``) means "not set" in Go senders.
    """
    try:
        if isinstance(value, str) and value.strip():
            parsed = datetime.fromisoformat(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if abs(value) > _EPOCH_MS_THRESHOLD else value
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.year <= _ZERO_YEAR:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def http_link(value: Any, base: Any = None) -> str | None:
    """An absolute http(s) URL, resolving a relative one against ``base``; ``None`` otherwise.

    Other schemes (``javascript:``, ``file:``) are dropped because links end up as chat buttons.
    A relative path is appended to the base's path even when it starts with ``/``: senders behind a
    sub-path (``https://host/grafana/``) build their links relative to that root, not to the host.
    """
    link = text(value).strip()
    if not link:
        return None
    if _is_http(link):
        return link
    if ":" in link.split("/", 1)[0]:
        return None
    root = text(base).strip()
    if not _is_http(root):
        return None
    return root.rstrip("/") + "/" + link.lstrip("/")


def _is_http(link: str) -> bool:
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
