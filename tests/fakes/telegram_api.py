"""A loopback Telegram Bot API for python-telegram-bot's `Bot(token, base_url=fake.base_url)`.

PTB 22.8 builds request URLs as `f"{base_url}{token}/{method}"` unless base_url contains `{token}`
(telegram/_bot.py `_parse_base_url`), so `base_url` here ends in `/bot` and the fake serves
`/bot<token>/<method>`. PTB posts form fields with nested values (reply_markup) JSON-encoded; JSON
bodies are accepted too. The fake enforces the server-side limits PTB does not check locally.
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply

MAX_TEXT_UTF16_UNITS = 4096
MAX_CALLBACK_DATA_BYTES = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"

_update_ids = itertools.count(913_527_400)
_callback_ids = itertools.count(1_000_000_000_000_000_100)


@dataclass
class TelegramMessage:
    """A bot message as the chat now shows it; `text` is what was sent (tags included, see parse_mode)."""

    chat_id: int | str
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    date: int
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edits: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)


class FakeTelegramApi(HttpFake):
    """The Bot API for one bot token. Chats need no seeding; their type is inferred from the id."""

    def __init__(
        self, token: str = "123456789:TEST-fake-token", *, username: str = "tocsin_test_bot"
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Tocsin",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.webhook: dict[str, Any] | None = None
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._messages: dict[tuple[int | str, int], TelegramMessage] = {}
        self._last_message_id: dict[int | str, int] = {}
        self._answers: list[dict[str, Any]] = []
        self._methods: dict[str, Callable[[dict[str, Any]], tuple[int, Any]]] = {
            "getme": lambda _: (200, self.bot_user),
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
        }

    @property
    def base_url(self) -> str:
        return f"{self.origin}/bot"

    # -- seeding and reading state -------------------------------------------------------------------

    def add_chat(self, chat_id: int, *, type: str | None = None, title: str | None = None) -> dict[str, Any]:
        with self.lock:
            chat = self._chat(chat_id)
            chat.update({k: v for k, v in {"type": type, "title": title}.items() if v is not None})
            return dict(chat)

    def messages(self, chat_id: int | str | None = None) -> list[TelegramMessage]:
        """Bot messages in send order, as snapshots."""
        with self.lock:
            found = [m for m in self._messages.values() if chat_id is None or m.chat_id == chat_id]
            return copy.deepcopy(found)

    def message(self, chat_id: int | str, message_id: int) -> TelegramMessage:
        with self.lock:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    def callback_answers(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._answers)

    def callback_update(
        self, chat_id: int, message_id: int, data: str, *, from_user_id: int
    ) -> dict[str, Any]:
        """The Update Telegram sends when a user presses a button on one of the bot's messages."""
        with self.lock:
            message = self._message_json(self._messages[(chat_id, message_id)])
        return make_callback_query_update(data, message=message, from_user_id=from_user_id)

    # -- failure injection ---------------------------------------------------------------------------

    def fail_next_call(
        self,
        method: str | None,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """The Bot API error envelope for the next `times` calls of `method` (None: any), optionally only
        those naming `chat_id`."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        path = r"/bot[^/]+/" + (r"\w+" if method is None else f"(?i:{re.escape(method)})")
        self.fail_next(path, Reply.json(body, status=status), times=times, when=_naming_chat(chat_id))

    def rate_limit_next(
        self, method: str | None, *, retry_after: int = 1, times: int | None = 1, chat_id: int | None = None
    ) -> None:
        description = f"Too Many Requests: retry after {retry_after}"
        params = {"retry_after": retry_after}
        self.fail_next_call(method, 429, description, parameters=params, times=times, chat_id=chat_id)

    def block_bot(self, chat_id: int, *, times: int | None = None) -> None:
        """The user blocked the bot: every call naming the chat gets 403 (until clear_failures())."""
        self.fail_next_call(None, 403, BLOCKED, times=times, chat_id=chat_id)

    def migrate_chat(self, chat_id: int, to_chat_id: int, *, times: int | None = None) -> None:
        """The group became a supergroup: calls naming the old id get 400 with `migrate_to_chat_id`."""
        params = {"migrate_to_chat_id": to_chat_id}
        self.fail_next_call(None, 400, MIGRATED, parameters=params, times=times, chat_id=chat_id)

    # -- the Bot API ---------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path)
        if match is None or match.group(1) != self.token:
            # Telegram answers 401 for a well-formed but unknown token and 404 for a malformed path.
            status, text = (401, "Unauthorized") if match else (404, "Not Found")
            return _error(status, text)
        method = self._methods.get(match.group(2).lower())
        if method is None:
            return _error(404, "Not Found")
        status, result = method(_decoded_params(request))
        if status != 200:
            return _error(status, result)
        return Reply.json({"ok": True, "result": result})

    def _send_message(self, params: dict[str, Any]) -> tuple[int, Any]:
        problem = _text_problem(params) or _markup_problem(params.get("reply_markup"))
        if problem:
            return 400, problem
        chat_id = params.get("chat_id")
        if chat_id is None:
            return 400, "Bad Request: chat_id is empty"
        reply_to = (params.get("reply_parameters") or {}).get("message_id") or params.get(
            "reply_to_message_id"
        )
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        message = TelegramMessage(
            chat_id=chat_id,
            message_id=self._last_message_id[chat_id],
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            date=int(time.time()),
            reply_to_message_id=reply_to,
        )
        self._chat(chat_id)
        self._messages[(chat_id, message.message_id)] = message
        return 200, self._message_json(message)

    def _edit_text(self, params: dict[str, Any]) -> tuple[int, Any]:
        problem = _text_problem(params) or _markup_problem(params.get("reply_markup"))
        return (400, problem) if problem else self._edit(params, params["text"], params.get("parse_mode"))

    def _edit_reply_markup(self, params: dict[str, Any]) -> tuple[int, Any]:
        problem = _markup_problem(params.get("reply_markup"))
        return (400, problem) if problem else self._edit(params, None, None)

    def _edit(self, params: dict[str, Any], text: str | None, parse_mode: str | None) -> tuple[int, Any]:
        """Leaving reply_markup out removes the keyboard, as on Telegram; identical content is refused."""
        message = self._messages.get((params.get("chat_id"), params.get("message_id")))
        if message is None:
            return 400, "Bad Request: message to edit not found"
        new_text = message.text if text is None else text
        new_mode = message.parse_mode if text is None else parse_mode
        markup = params.get("reply_markup")
        if (new_text, new_mode, markup) == (message.text, message.parse_mode, message.reply_markup):
            return 400, NOT_MODIFIED
        message.edits.append((message.text, message.reply_markup))
        message.text, message.parse_mode, message.reply_markup = new_text, new_mode, markup
        message.edit_date = int(time.time())
        return 200, self._message_json(message)

    def _answer_callback_query(self, params: dict[str, Any]) -> tuple[int, Any]:
        if not params.get("callback_query_id"):
            return 400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
        self._answers.append(params)
        return 200, True

    def _set_webhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        if not params.get("url"):
            return 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        self.webhook = params
        return 200, True

    def _delete_webhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.webhook = None
        return 200, True

    def _get_webhook_info(self, params: dict[str, Any]) -> tuple[int, Any]:
        url = (self.webhook or {}).get("url", "")
        return 200, {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    def _get_updates(self, params: dict[str, Any]) -> tuple[int, Any]:
        if self.webhook:
            return 409, "Conflict: can't use getUpdates method while webhook is active"
        return 200, []

    # -- internals -----------------------------------------------------------------------------------

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        if chat_id not in self._chats:
            chat: dict[str, Any] = {"id": chat_id, "type": _chat_type(chat_id)}
            if chat["type"] == "private":
                chat["first_name"] = f"User {chat_id}"
            else:
                chat["title"] = f"Chat {chat_id}"
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _message_json(self, message: TelegramMessage) -> dict[str, Any]:
        # Telegram returns the text with markup parsed away (entities omitted here).
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chat(message.chat_id),
            "date": message.date,
            "text": visible_text(message.text, message.parse_mode),
        }
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.edit_date:
            body["edit_date"] = message.edit_date
        return copy.deepcopy(body)


def visible_text(text: str, parse_mode: str | None) -> str:
    """Text after entity parsing. HTML is stripped of tags and unescaped; Markdown is left as is, which
    over-counts slightly (a conservative approximation for the length limit)."""
    if parse_mode and parse_mode.upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def utf16_length(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units: an emoji outside the BMP counts two."""
    return len(text.encode("utf-16-le")) // 2


def make_user(user_id: int, *, first_name: str = "User", username: str | None = None) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "username": username or f"user{user_id}",
    }


def make_message_update(
    text: str,
    *,
    chat_id: int,
    from_user_id: int,
    chat_type: str | None = None,
    message_id: int = 1,
    date: int | None = None,
) -> dict[str, Any]:
    """An Update with a user's text message; a leading /command gets its bot_command entity."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": make_user(from_user_id),
        "chat": {"id": chat_id, "type": chat_type or _chat_type(chat_id)},
        "date": date or int(time.time()),
        "text": text,
    }
    if message["chat"]["type"] != "private":
        message["chat"]["title"] = f"Chat {chat_id}"
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"offset": 0, "length": utf16_length(command), "type": "bot_command"}]
    return {"update_id": next(_update_ids), "message": message}


def make_callback_query_update(
    data: str, *, message: dict[str, Any], from_user_id: int, query_id: str | None = None
) -> dict[str, Any]:
    """An Update for a press on an inline button of `message` (a Message dict as the Bot API returns it)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": query_id or str(next(_callback_ids)),
            "from": make_user(from_user_id),
            "message": message,
            "chat_instance": f"-{abs(hash(message['chat']['id'])) % 10**18:018d}",
            "data": data,
        },
    }


def _chat_type(chat_id: int | str) -> str:
    if isinstance(chat_id, str):
        return "channel"
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _error(status: int, description: str) -> Reply:
    return Reply.json({"ok": False, "error_code": status, "description": description}, status=status)


def _text_problem(params: dict[str, Any]) -> str | None:
    text = visible_text(str(params.get("text") or ""), params.get("parse_mode"))
    if not text.strip():
        return "Bad Request: message text is empty"
    if utf16_length(text) > MAX_TEXT_UTF16_UNITS:
        return "Bad Request: message is too long"
    return None


def _markup_problem(markup: Any) -> str | None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                return "Bad Request: BUTTON_DATA_INVALID"
            url = button.get("url")
            if url is not None and not _button_url_ok(str(url)):
                return "Bad Request: BUTTON_URL_INVALID"
    return None


def _button_url_ok(url: str) -> bool:
    """Telegram refuses URL buttons whose host has no dot (``http://localhost:8080/``, ``http://wiki/``)
    or that are not http(s) (rubenlagus/TelegramBots#302)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https", "tg") and (parts.scheme == "tg" or "." in host.strip("."))


def _naming_chat(chat_id: int | str | None) -> Callable[[RecordedRequest], bool] | None:
    if chat_id is None:
        return None
    return lambda request: str(request.params.get("chat_id")) == str(chat_id)


def _decoded_params(request: RecordedRequest) -> dict[str, Any]:
    """Form values arrive as strings: ids become ints, nested objects are JSON-decoded."""
    params = request.params
    for name in ("chat_id", "message_id"):
        if isinstance(params.get(name), str) and re.fullmatch(r"-?\d+", params[name]):
            params[name] = int(params[name])
    for name in ("reply_markup", "reply_parameters", "link_preview_options", "allowed_updates"):
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params
