"""Example payloads, one per integration type, as its sender would post them (package data).

``POST integrations/<id>/test/`` sends one through the real ingest path. Each file marks with
``${test_id}`` the fields its sender groups by (``groupKey``, ``dedup_key``, ``alert_uid`` …), so every
test opens its own incident instead of being taken for a retry of the last one, and with ``${now}``
its timestamps.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from engine.errors import ValidationFailed


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
