"""Canonical JSON and the stable hashes derived from it (fallback group keys and fingerprints)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.errors import ValidationFailed


def canonical_json(value: Any) -> str:
    """Serialise ``value`` so that equal JSON values give equal text, whatever their key order.

    ASCII escapes keep lone surrogates (which ``json.loads`` happily produces) encodable.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    except RecursionError as exc:
        # The HTTP layer's decoder has the same limit, so only hand-built values get here.
        raise ValidationFailed("payload is nested too deeply") from exc
    except TypeError as exc:
        # Mixed key types (int and str) cannot be sorted; only non-JSON callers produce them.
        raise ValidationFailed(f"payload is not plain JSON: {exc}") from exc


def stable_hash(value: Any, length: int = 16) -> str:
    """A short hex digest of ``value``'s canonical JSON (16 hex digits, like Alertmanager's fingerprints)."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()[:length]
