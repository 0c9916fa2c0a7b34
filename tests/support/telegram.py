"""A Tocsin harness wired to the loopback Telegram Bot API, and helpers that drive it as Telegram does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram_api import FakeTelegramApi, TelegramMessage, make_message_update
from tests.support.escalation import person
from tests.support.harness import Harness, harness

SECRET = "tg-webhook-secret_1"
GROUP = -400000001  # the group of the shared fixtures
ANA = 100000001  # a Telegram user id as in the shared fixtures
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass
class TelegramHarness:
    h: Harness
    api: FakeTelegramApi

    def post_update(self, update: dict[str, Any] | bytes, secret: str | None = SECRET) -> Any:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.h.client.post("/telegram/webhook", content=body, headers=headers)

    def command(self, text: str, *, chat_id: int, from_user_id: int) -> Any:
        response = self.post_update(make_message_update(text, chat_id=chat_id, from_user_id=from_user_id))
        assert response.status_code == 200, response.text
        return response

    def press(self, chat_id: int, message_id: int, data: str, *, from_user_id: int) -> Any:
        update = self.api.callback_update(chat_id, message_id, data, from_user_id=from_user_id)
        response = self.post_update(update)
        assert response.status_code == 200, response.text
        return response

    def cards(self, chat_id: int) -> list[TelegramMessage]:
        """Bot messages in the chat that carry an inline keyboard or are not replies: the cards."""
        return [m for m in self.api.messages(chat_id) if m.reply_to_message_id is None]

    def replies(self, chat_id: int, to: int) -> list[TelegramMessage]:
        return [m for m in self.api.messages(chat_id) if m.reply_to_message_id == to]

    def group_responder(self, channel: str = "telegram") -> str:
        """User 1, paged by ``channel``, linked to Telegram user ANA; the team's chat is GROUP."""
        user_id = person(self.h, 1, [{"type": channel}])
        self.h.ok("PATCH", "teams/T001/", {"telegram_chat_id": str(GROUP)})
        self.link(user_id, ANA)
        return user_id

    def link(self, user_id: str, telegram_user: int, chat_id: int | None = None) -> None:
        """Link as a user would: get a code from the API, send /link CODE to the bot."""
        code = self.h.ok("POST", f"users/{user_id}/telegram_link_code/")["code"]
        self.command(f"/link {code}", chat_id=chat_id or telegram_user, from_user_id=telegram_user)


@contextmanager
def telegram_harness(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramHarness]:
    for name in PROXY_VARIABLES:  # the async HTTP client ignores NO_PROXY
        monkeypatch.delenv(name, raising=False)
    with FakeTelegramApi() as api:
        settings = {
            "telegram_bot_token": api.token,
            "telegram_webhook_secret": SECRET,
            "telegram_api_url": api.base_url,
        }
        with harness(database_url, **settings) as h:
            yield TelegramHarness(h, api)


def fixture_update(fixtures_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir / "telegram" / name).read_text())
    return data


def buttons(message: TelegramMessage) -> list[tuple[str, str]]:
    """(label, callback_data or url) of every inline button, row by row."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data") or b.get("url", "")) for row in rows for b in row]


def data_of(message: TelegramMessage, label: str) -> str:
    return next(value for text, value in buttons(message) if text == label)
