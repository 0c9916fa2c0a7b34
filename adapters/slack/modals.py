"""The Add note and Page more modals: what they carry, and reading their submissions back."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.blocks import plain

NOTE_CALLBACK = "tocsin_note"
PAGE_MORE_CALLBACK = "tocsin_page_more"
NOTE_MAX = 2900


def metadata(value: str, channel: str | None) -> str:
    """``private_metadata`` (≤ 3,000 characters): the button's action and where the card was."""
    return json.dumps({"v": value, "c": channel})


def read_metadata(view: dict[str, Any]) -> tuple[str | None, str | None]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    return data.get("v"), data.get("c")


def note_view(number: int, meta: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "private_metadata": meta,
        "title": plain("Add note", 24),
        "submit": plain("Add note", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": plain(f"Note for incident #{number}", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": NOTE_MAX,
                },
            }
        ],
    }


def page_more_view(number: int, meta: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": PAGE_MORE_CALLBACK,
        "private_metadata": meta,
        "title": plain("Page more people", 24),
        "submit": plain("Page", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": "users",
                "label": plain(f"Who else should work on #{number}?", 2000),
                "element": {"type": "multi_users_select", "action_id": "users", "max_selected_items": 10},
            }
        ],
    }


def submitted_note(view: dict[str, Any]) -> str:
    value = (((view.get("state") or {}).get("values") or {}).get("note") or {}).get("text") or {}
    return str(value.get("value") or "").strip()


def submitted_users(view: dict[str, Any]) -> list[str]:
    value = (((view.get("state") or {}).get("values") or {}).get("users") or {}).get("users") or {}
    users = value.get("selected_users") or []
    return [str(u) for u in users if isinstance(u, str)]
