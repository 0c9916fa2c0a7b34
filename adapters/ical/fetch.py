"""The engine's :class:`engine.ports.CalendarSource`: calendar feeds by URL or path, read with icalendar.

Locations are ``http(s)://`` URLs (``webcal://`` is read as ``https://``, as calendar apps do),
``file://`` URLs or plain paths on the server. Reading matches people by id, username, e-mail
and name, in that order of strength, so a display name never shadows somebody's username.
Error texts never quote what was fetched unless it is a calendar, so pointing a schedule at some
other file or internal URL does not echo its content back through the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from adapters.ical.parse import UserMatcher, directory_matcher, parse_ical_shifts
from engine.errors import ValidationFailed
from engine.ports import CalendarReading, UnmatchedCalendarEvent

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10.0


class IcalCalendarSource:
    """Fetches with httpx (``transport`` lets tests serve feeds without a network)."""

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.transport = transport

    def fetch(self, location: str) -> str:
        location = location.strip()
        parts = urlsplit(location)
        scheme = parts.scheme.lower()
        if scheme == "webcal":
            return self._get("https" + location[len(parts.scheme) :])
        if scheme in ("http", "https"):
            return self._get(location)
        if scheme == "file":
            return self._read_file(Path(url2pathname(parts.path)))
        # One letter is a Windows drive ("C:\\rota.ics"), not a scheme.
        if len(scheme) > 1:
            raise ValidationFailed(f"unsupported scheme {scheme}:; use an http(s) URL or a file path")
        return self._read_file(Path(location).expanduser())

    def read(
        self, text: str, start: datetime, end: datetime, people: Mapping[str, Sequence[str]]
    ) -> CalendarReading:
        if not text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCALENDAR"):
            raise ValidationFailed("not an iCalendar file (it does not start with BEGIN:VCALENDAR)")
        parsed = parse_ical_shifts(text, start, end, ranked_matcher(people))
        return CalendarReading(
            parsed.intervals,
            tuple(UnmatchedCalendarEvent(u.summary, u.start, u.end) for u in parsed.unmatched),
        )

    def _get(self, url: str) -> str:
        host = urlsplit(url).hostname or url
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=True, transport=self.transport) as client,
                client.stream("GET", url, headers={"Accept": "text/calendar, */*;q=0.5"}) as response,
            ):
                if response.status_code >= 400:
                    raise ValidationFailed(f"{host} answered HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise ValidationFailed(
                            f"the calendar at {host} is larger than {self.max_bytes} bytes"
                        )
                return bytes(body).decode(response.encoding or "utf-8", errors="replace")
        except httpx.HTTPError as error:
            raise ValidationFailed(
                f"could not fetch from {host}: {error.__class__.__name__}: {error}"
            ) from None

    def _read_file(self, path: Path) -> str:
        try:
            if not path.is_file():
                raise ValidationFailed(f"no such file: {path}")
            if path.stat().st_size > self.max_bytes:
                raise ValidationFailed(f"{path} is larger than {self.max_bytes} bytes")
            return path.read_bytes().decode("utf-8", errors="replace")
        except OSError as error:
            raise ValidationFailed(f"cannot read {path}: {error.strerror or error}") from None


def ranked_matcher(people: Mapping[str, Sequence[str]]) -> UserMatcher:
    """Match ids first, then everybody's first identifier, then their second, and so on."""
    depth = max((len(names) for names in people.values()), default=0)
    tiers = [directory_matcher({user_id: [] for user_id in people})]
    tiers += [
        directory_matcher({user_id: [names[rank]] for user_id, names in people.items() if len(names) > rank})
        for rank in range(depth)
    ]

    def match(text: str) -> str | None:
        for tier in tiers:
            found = tier(text)
            if found is not None:
                return found
        return None

    return match
