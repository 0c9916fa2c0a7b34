"""Inbound alert parsers: one pure module per sender, decoded JSON and headers in, ``ParsedPayload`` out.

Each ``parse(payload, headers)`` takes the already-decoded JSON value and raises
:class:`engine.errors.ValidationFailed` only for a body its sender could never send; anything plausible
parses. The HTTP layer picks the parser by the ingest URL's type name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.inbound import (
    alertmanager,
    formatted_webhook,
    grafana_alerting,
    grafana_legacy,
    pagerduty,
    webhook,
)
from engine.errors import ValidationFailed
from engine.model.alert import ParsedPayload

Parser = Callable[[Any, Mapping[str, str]], ParsedPayload]

PARSERS: dict[str, Parser] = {
    "grafana_alerting": grafana_alerting.parse,
    "alertmanager": alertmanager.parse,
    "grafana": grafana_legacy.parse,
    "webhook": webhook.parse,
    "formatted_webhook": formatted_webhook.parse,
    "pagerduty": pagerduty.parse,
}


def parse(type_name: str, payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse ``payload`` with the parser registered for ``type_name``."""
    parser = PARSERS.get(type_name)
    if parser is None:
        known = ", ".join(sorted(PARSERS))
        raise ValidationFailed(f"unknown integration type {type_name!r}; known: {known}", field="type")
    return parser(payload, headers)
