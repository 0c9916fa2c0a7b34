"""Grafana unified alerting webhook contact point.

The body is Alertmanager's (``version`` "1" from Grafana itself, "4" from Grafana OnCall's shape) plus
Grafana's own fields: a top-level ``state`` (``alerting``/``ok``), its pre-rendered ``title`` and
``message`` (ignored: they may disagree with the alerts), and per alert ``silenceURL``,
``dashboardURL``, ``panelURL``, ``values``/``valueString``, which stay in ``AlertEvent.raw`` for
templates. Group key: ``groupKey``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.inbound.alert_group import parse_alert_group
from engine.model.alert import ParsedPayload


def parse(payload: Any, headers: Mapping[str, str]) -> ParsedPayload:
    """Parse a Grafana alerting notification; ``state: ok`` resolves the group like ``status: resolved``."""
    return parse_alert_group(payload)
