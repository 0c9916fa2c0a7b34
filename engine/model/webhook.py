"""Outgoing webhook calls (SPEC 4.8) as plain values, and the port that makes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# Receivers answer with whole HTML error pages; the timeline only needs the start.
MAX_RESPONSE_BODY = 4096
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class WebhookRequest:
    """One fully rendered call: nothing in it is a template any more.

    ``body`` is sent byte for byte, and those exact bytes are what ``secret`` signs.
    ``timeout`` (seconds) bounds each phase of the call (connect, send, each read), not the sum.
    """

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    secret: str | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class WebhookResponse:
    """What a receiver answered with a 2xx status; ``body`` holds at most the first 4 KiB, as text."""

    status_code: int
    body: str
    elapsed_ms: int


class WebhookSender(Protocol):
    """Makes outgoing webhook calls.

    ``send`` returns a :class:`WebhookResponse` only for a 2xx answer. Anything else raises
    :class:`engine.errors.DeliveryFailed`: ``retryable`` for timeouts, connection errors, 5xx and 429
    (with ``retry_after`` when the receiver said how long to wait), not retryable for a refused
    destination (a private address, a scheme other than http/https), redirects and other 4xx.
    It never raises anything else on purpose. A call is not idempotent: after a timeout the
    receiver may have acted, so a retry can deliver the same body twice.
    """

    def send(self, request: WebhookRequest) -> WebhookResponse: ...


TRIGGER_TYPES = ("manual", "escalation_step", "incident_created", "acknowledged", "resolved", "silenced")


class WebhookCaller(Protocol):
    """Renders a webhook's templates with ``context`` and sends it (the adapter's job: Jinja2, HTTP).

    Raises :class:`engine.errors.ValidationFailed` when a template fails and
    :class:`engine.errors.DeliveryFailed` when the receiver refuses or cannot be reached.
    """

    def call(self, webhook: Mapping[str, Any], context: Mapping[str, Any]) -> WebhookResponse: ...
