"""One hierarchy of domain errors; adapters translate them into HTTP codes or chat replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TocsinError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(TocsinError):
    """The named object does not exist (or the caller may not see it)."""

    code = "not_found"


class Conflict(TocsinError):
    """The object exists already, or another change got there first."""

    code = "conflict"


class ValidationFailed(TocsinError):
    """Input is well-formed but wrong; ``field`` names the culprit when there is one."""

    code = "invalid"

    def __init__(self, detail: str, field: str | None = None, errors: list[Mapping[str, Any]] | None = None):
        super().__init__(detail)
        self.field = field
        self.errors = errors or ([{"field": field, "detail": detail}] if field else [])


class PermissionDenied(TocsinError):
    """The caller is known but may not do this."""

    code = "forbidden"


class InvalidTransition(TocsinError):
    """An incident action that its current state does not allow; says who put it in that state."""

    code = "invalid_transition"

    def __init__(self, detail: str, state: str, actor: str | None = None) -> None:
        super().__init__(detail)
        self.state = state
        self.actor = actor


class DeliveryFailed(TocsinError):
    """A provider refused or failed a send.

    ``retryable`` says whether the same send may succeed later; ``retry_after`` (seconds) is the
    provider's own hint. A permanent failure moves the user's notification to the next rule.
    ``opted_out`` says the recipient refuses our messages at the provider (replied STOP there), so
    the address is remembered as opted out and not tried again.
    """

    code = "delivery_failed"

    def __init__(
        self,
        detail: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        provider_code: str | None = None,
        opted_out: bool = False,
    ) -> None:
        super().__init__(detail)
        self.retryable = retryable
        self.retry_after = retry_after
        self.provider_code = provider_code
        self.opted_out = opted_out
