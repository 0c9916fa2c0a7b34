"""The roles the engine needs from the outside world, as typed protocols.

Adapters implement these; the composition root (``adapters.runtime``) wires them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from engine.model.schedule import ShiftInterval


@dataclass(frozen=True)
class Job:
    """A unit of background work, addressed by a deterministic id.

    ``kind`` is versioned (``escalation.tick.v1``). ``args`` holds ids and scalars only, never
    objects, so any queue can carry it as JSON. Enqueueing the same ``id`` twice runs the handler
    at most once more; handlers are idempotent anyway.
    """

    kind: str
    args: Mapping[str, str | int | float | bool | None]
    id: str
    run_at: datetime | None = None


class JobQueue(Protocol):
    """Carries jobs to handlers. Losable: the sweeper re-derives anything lost from the database."""

    def enqueue(self, job: Job) -> None:
        """Schedule ``job`` (now, or at ``job.run_at``). Called only after the creating transaction commits."""
        ...


@dataclass(frozen=True)
class Capabilities:
    """What a notifier or chat publisher can do; the engine plans from these, never from names."""

    channel: str
    buttons: bool = False
    edits: bool = False
    max_text: int = 4000
    per_second: float | None = None
    # Whether people already paged here are also told of later changes (a phone call is not worth it).
    updates: bool = True
    # Phone channels: page only the user's own verified number, skip numbers that opted out (STOP),
    # and stop at ``daily_cap`` sends per user in 24 hours across ``cap_channels``.
    verified_phone: bool = False
    opt_out: bool = False
    daily_cap: int | None = None
    cap_channels: tuple[str, ...] = ()
    # Pages for several incidents to one address within this many seconds go out as one message.
    bundle_seconds: float | None = None
    # A sent page still on its way (a ringing call) can be withdrawn once nobody needs it: the
    # notifier is also a ``Recaller``.
    recall: bool = False


@dataclass(frozen=True)
class BundledIncident:
    """Another incident carried by the same message (see ``Capabilities.bundle_seconds``)."""

    incident_id: str
    incident_number: int
    title: str


@dataclass(frozen=True)
class Page:
    """One notification of one person about one incident."""

    delivery_id: str
    incident_id: str
    incident_number: int
    title: str
    text: str
    user_id: str
    user_name: str
    channel: str
    address: str | None
    important: bool
    link: str
    # "page" asks for action; "update" tells someone already paged that the incident changed.
    kind: str = "page"
    # Other incidents this message also pages for; their own deliveries share its outcome.
    also: tuple[BundledIncident, ...] = ()


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a send."""

    provider_id: str | None = None
    status: str = "sent"


class Notifier(Protocol):
    """Sends pages over one channel.

    ``send`` either returns a :class:`SendResult` (the provider accepted the page) or raises
    :class:`engine.errors.DeliveryFailed` with ``retryable`` set; it never raises anything else on
    purpose. It may be called again for the same ``delivery_id`` after a crash; providers that can
    deduplicate should use that id.
    """

    capabilities: Capabilities

    def send(self, page: Page) -> SendResult: ...


@runtime_checkable
class Recaller(Protocol):
    """Withdraws a page the provider accepted but has not yet put in front of the person."""

    def recall(self, provider_id: str) -> None:
        """Stop ``provider_id`` if it is still on its way (a call still queued or ringing); a page that
        already reached the person (an answered call) is left alone. Raises ``DeliveryFailed``."""
        ...


class TemplateRenderer(Protocol):
    """Renders user-editable templates (sandboxed, bounded in time and size) for the engine."""

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        """Render ``template``; raise :class:`engine.errors.ValidationFailed` when it fails."""
        ...


@dataclass(frozen=True)
class UnmatchedCalendarEvent:
    """A calendar occurrence that named nobody Tocsin knows: a hole in the rota worth showing."""

    summary: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CalendarReading:
    """What a calendar says for a window: on-call intervals, and the events that named nobody."""

    intervals: tuple[ShiftInterval, ...]
    unmatched: tuple[UnmatchedCalendarEvent, ...] = ()


class CalendarSource(Protocol):
    """Fetches and reads iCalendar feeds for ``ical`` schedules (the engine cannot parse iCal itself).

    Both methods raise :class:`engine.errors.ValidationFailed` (without ``field``; the caller knows
    which schedule field it was reading) and nothing else on purpose. Neither touches the database.
    """

    def fetch(self, location: str) -> str:
        """The text at ``location``: an http(s) URL or a file path. Safe to call again (a plain GET).

        Raises when the location cannot be reached, answers with an error, or is too large.
        """
        ...

    def read(
        self, text: str, start: datetime, end: datetime, people: Mapping[str, Sequence[str]]
    ) -> CalendarReading:
        """The on-call intervals of every occurrence overlapping ``[start, end)`` (aware UTC).

        ``people`` maps user ids to the strings that identify them in events (username, e-mail,
        name …). Raises when ``text`` is not a calendar.
        """
        ...


class IncidentPublisher(Protocol):
    """Shows incidents where people look (chat cards and threads).

    ``publish`` posts the incident's card where it has none yet, edits it in place otherwise, and
    adds the timeline entries not shown yet to its thread. It is idempotent: calling it twice in a
    row changes nothing the second time. It raises :class:`engine.errors.DeliveryFailed` with
    ``retryable`` set when a provider failed, after recording what did go out.
    """

    def publish(self, incident_id: str) -> None: ...

    def announce(self, chats: Mapping[str, str], text: str) -> None:
        """Post ``text`` to each provider's chat in ``chats`` (``{"slack": "C0OPS"}``); raises
        :class:`engine.errors.DeliveryFailed` like ``publish``."""
        ...
