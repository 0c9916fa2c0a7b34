"""Slack delivers some requests more than once (Events API retries, ``X-Slack-Retry-Num``; a double
tap on a phone): each delivery key is processed once per process, and the engine's idempotent actions
cover the rest ("already acknowledged by …")."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_KEYS = 10_000


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of one Slack request, or None when nothing does."""
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{actions[0].get('action_id')}:{actions[0].get('action_ts')}"
    if kind == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None


class SeenKeys:
    """A bounded set of recently processed delivery keys."""

    def __init__(self, size: int = MAX_KEYS) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True
