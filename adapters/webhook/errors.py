"""Turn a receiver's non-2xx answer into ``DeliveryFailed`` with the right retry meaning."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from engine.errors import DeliveryFailed

# Shown on the incident timeline: enough of the receiver's error to see what it complained about.
SNIPPET = 200

# 408: the receiver gave up waiting for us, a retry may well pass.
_RETRYABLE_4XX = frozenset({408, 429})


def failure_for_status(status: int, headers: Mapping[str, str], body: str, host: str) -> DeliveryFailed:
    """The error for an answer that is not 2xx; ``headers`` must look names up case-insensitively."""
    snippet = " ".join(body.split())[:SNIPPET]
    detail = f"{host} answered HTTP {status}" + (f": {snippet}" if snippet else "")
    code = str(status)
    if 300 <= status < 400:
        # Following a redirect would need the SSRF check again; receivers should be given final URLs.
        location = headers.get("location", "")
        return DeliveryFailed(
            f"{host} answered HTTP {status} (redirect to {location or '?'} not followed)",
            retryable=False,
            provider_code=code,
        )
    if status >= 500 or status in _RETRYABLE_4XX:
        return DeliveryFailed(detail, retryable=True, retry_after=retry_after(headers), provider_code=code)
    return DeliveryFailed(detail, retryable=False, provider_code=code)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``Retry-After``: delta-seconds, or an HTTP-date measured against the answer's ``Date``.

    Using the receiver's own ``Date`` keeps clock skew between the two machines out of the result
    (and keeps this adapter off the wall clock); without it an HTTP-date gives no hint.
    """
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    until = _http_date(value)
    sent = _http_date(headers.get("date", ""))
    if until is None or sent is None:
        return None
    return max(0.0, (until - sent).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else None
