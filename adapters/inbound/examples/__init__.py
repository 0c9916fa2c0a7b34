"""Example payloads, one per integration type, as its sender would post them (package data).

``POST integrations/<id>/test/`` sends one through the real ingest path. Each file marks with
``${test_id}`` the fields its sender groups by (``groupKey``, ``dedup_key``, ``alert_uid`` …), so every
test opens its own incident instead of being taken for a retry of the last one, and with ``${now}``
its timestamps.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from adapters.inbound import PARSERS
from engine.errors import ValidationFailed
from engine.services import integrations
from engine.services.deps import Deps
from engine.services.ingest import IngestResult, Source, ingest

TEST_HEADERS = {"content-type": "application/json", "user-agent": "Tocsin test alert"}


def example_payload(type_name: str, test_id: str, now: datetime) -> Any:
    """The example for ``type_name`` with its placeholders filled in.

    ``test_id`` must be plain letters and digits: it is put into the JSON text unescaped.
    """
    if not test_id.isalnum():
        raise ValueError("test_id must be letters and digits")
    source = resources.files(__name__).joinpath(f"{type_name}.json")
    if not source.is_file():
        raise ValidationFailed(f"no example payload for integration type {type_name!r}", field="type")
    text = source.read_text(encoding="utf-8")
    stamp = now.isoformat().replace("+00:00", "Z")
    return json.loads(text.replace("${test_id}", test_id).replace("${now}", stamp))


@dataclass(frozen=True)
class TestAlert:
    """A test alert as sent: what ingest answered, and the payload (PagerDuty's answer quotes it)."""

    __test__ = False  # not a pytest test class

    type_name: str
    payload: Any
    result: IngestResult


def send_test_alert(deps: Deps, integration_id: str) -> TestAlert:
    """Post the example for the integration's type through the real ingest path, marked as a test."""
    with deps.db.unit() as uow:
        integration = integrations.get_integration(uow.session, integration_id)
        type_name, token = integration.type, integration.token
    payload = example_payload(type_name, secrets.token_hex(6), deps.clock.now())
    result = ingest(deps, token, type_name, payload, dict(TEST_HEADERS), PARSERS[type_name], Source.TEST)
    return TestAlert(type_name, payload, result)
