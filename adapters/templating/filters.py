"""Template filters, named and behaving as in Grafana OnCall so its users' templates carry over.

Filters that cannot make sense of their input return ``None``, which the environment renders as an
empty string, so one odd payload field blanks a line instead of failing the whole template.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from datetime import datetime
from typing import Any

from jinja2.runtime import Undefined

from adapters.inbound.values import parse_timestamp

# OnCall's default for datetimeformat.
DEFAULT_DATETIME_FORMAT = "%H:%M / %d-%m-%Y"


def tojson(value: Any, indent: int | None = None) -> str:
    """JSON text of ``value`` as is (no HTML escaping: template output is text, escaped per channel)."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


def tojson_pretty(value: Any) -> str:
    """Indented JSON, as OnCall's ``tojson_pretty``."""
    return tojson(value, indent=4)


def regex_replace(value: Any, pattern: str, replacement: str = "", ignorecase: bool = False) -> str:
    """``re.sub`` over ``value`` as text."""
    return _compile(pattern, ignorecase).sub(replacement, _text(value))


def regex_match(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    """Whether ``pattern`` matches at the start of ``value`` (``re.match``)."""
    return _compile(pattern, ignorecase).match(_text(value)) is not None


def regex_search(value: Any, pattern: str, ignorecase: bool = False) -> bool:
    """Whether ``pattern`` matches anywhere in ``value`` (``re.search``)."""
    return _compile(pattern, ignorecase).search(_text(value)) is not None


def iso8601_to_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (nanoseconds and ``Z`` allowed) or epoch seconds."""
    if isinstance(value, datetime):
        return value
    return parse_timestamp(value)


def datetimeformat(value: Any, format: str = DEFAULT_DATETIME_FORMAT) -> str | None:
    """``strftime`` of a datetime, ISO 8601 text or epoch number."""
    moment = iso8601_to_time(value)
    return moment.strftime(format) if moment is not None else None


def b64decode(value: Any) -> str | None:
    """Base64 text decoded as UTF-8 (undecodable bytes replaced)."""
    raw = _text(value).strip()
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


FILTERS = {
    "tojson": tojson,
    "tojson_pretty": tojson_pretty,
    "regex_replace": regex_replace,
    "regex_match": regex_match,
    "regex_search": regex_search,
    "iso8601_to_time": iso8601_to_time,
    "datetimeformat": datetimeformat,
    "b64decode": b64decode,
}


@functools.lru_cache(maxsize=256)
def _compile(pattern: str, ignorecase: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignorecase else 0)


def _text(value: Any) -> str:
    if isinstance(value, Undefined) or value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _json_default(value: Any) -> Any:
    """Undefined values become ``null``; anything else non-JSON (datetimes) its text."""
    return None if isinstance(value, Undefined) else str(value)
