"""Prometheus Alertmanager webhook (``version`` "4").

Group key: ``groupKey``; without one, a hash of ``receiver`` and ``groupLabels``. Fingerprint per alert:
``fingerprint``, else a hash of its labels (older Alertmanagers and hand-written payloads omit it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.inbound.alert_group import parse_alert_group
from engine.model.alert import ParsedPayload


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse an Alertmanager notification; headers carry nothing Alertmanager-specific."""
    return parse_alert_group(payload)
