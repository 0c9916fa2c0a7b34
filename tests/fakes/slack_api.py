"""A loopback Slack Web API for slack_sdk's `WebClient(base_url=fake.base_url)`, with state tests can read."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply

# Slack sends these as JSON strings inside form bodies and as nested JSON in JSON bodies.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
_FIRST_TS_MICROS = 1_700_000_000_000_100


@dataclass
class SlackMessage:
    """A message as the channel now shows it; `edits` holds earlier (text, blocks) versions, oldest first."""

    channel: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    thread_ts: str | None = None
    attachments: list[Any] | None = None
    edits: list[tuple[str | None, list[Any] | None]] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SlackEphemeral:
    channel: str
    user: str
    message_ts: str
    text: str | None
    blocks: list[Any] | None


def sign_slack_request(signing_secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """The headers Slack adds to a request it sends: v0 HMAC-SHA256 over `v0:{timestamp}:{raw body}`."""
    basestring = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


class FakeSlackApi(HttpFake):
    """Slack's Web API at `base_url` (`http://127.0.0.1:<port>/api/`).

    Every method answers HTTP 200 with `ok`, as Slack does, except injected rate limits (HTTP 429).
    Channels need no seeding; users do (`add_user`), because user lookups are what Tocsin relies on.
    """

    def __init__(
        self,
        token: str = "xoxb-fake-bot-token",
        *,
        team_id: str = "T111",
        bot_user_id: str = "U0TOCSIN",
        bot_id: str = "B0TOCSIN",
    ) -> None:
        super().__init__()
        self.tokens = {token}
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._users: dict[str, dict[str, Any]] = {}
        self._messages: list[SlackMessage] = []
        self._ephemerals: list[SlackEphemeral] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[str, str] = {}
        self._ts_micros = _FIRST_TS_MICROS
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._get_permalink,
            "conversations.open": self._open_conversation,
            "users.info": self._user_info,
            "users.lookupByEmail": self._lookup_by_email,
            "views.open": self._open_view,
            "views.update": self._update_view,
            "reactions.add": self._add_reaction,
        }

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    # -- seeding and reading state -------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "UTC",
        deleted: bool = False,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        name = name or user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name or name,
            "tz": tz,
            "is_bot": is_bot,
            "profile": {"email": email, "real_name": real_name or name, "display_name": name},
        }
        with self.lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def messages(self, channel: str | None = None) -> list[SlackMessage]:
        """Messages (thread replies included) in post order, as snapshots."""
        with self.lock:
            found = [m for m in self._messages if channel is None or m.channel == channel]
            return copy.deepcopy(found)

    def message(self, channel: str, ts: str) -> SlackMessage:
        with self.lock:
            found = self._find_message(channel, ts)
            if found is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(found)

    def thread_replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.messages(channel) if m.thread_ts == thread_ts and m.ts != thread_ts]

    def ephemerals(self) -> list[SlackEphemeral]:
        with self.lock:
            return list(self._ephemerals)

    def views(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._views)

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id conversations.open gives (or will give) for this user."""
        with self.lock:
            return self._dm_channels.setdefault(user_id, f"D{len(self._dm_channels) + 1:08d}")

    # -- failure injection ---------------------------------------------------------------------------

    def fail_next_call(
        self,
        method: str | None,
        error: str,
        *,
        times: int | None = 1,
        channel: str | None = None,
        status: int = 200,
    ) -> None:
        """`{"ok": false, "error": error}` for the next `times` calls of `method` (None: any), optionally
        only those naming `channel` (e.g. channel_not_found, not_in_channel, is_archived, invalid_auth,
        account_inactive, message_limit_exceeded)."""
        self.fail_next(
            _method_path(method),
            Reply.json({"ok": False, "error": error}, status=status),
            times=times,
            when=_naming_channel(channel),
        )

    def rate_limit_next(
        self, method: str | None, *, retry_after: int = 1, times: int | None = 1, channel: str | None = None
    ) -> None:
        """HTTP 429 with `Retry-After` and `error: ratelimited`, as Slack answers a burst."""
        reply = Reply.json(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
        )
        self.fail_next(_method_path(method), reply, times=times, when=_naming_channel(channel))

    # -- the Web API ---------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        match = re.fullmatch(r"/api/([\w.]+)", request.path)
        if match is None:
            return Reply(status=404, body=b"Not Found")
        params = _decoded_params(request)
        auth_error = self._auth_error(request, params)
        if auth_error:
            return Reply.json({"ok": False, "error": auth_error})
        method = self._methods.get(match.group(1))
        if method is None:
            return Reply.json({"ok": False, "error": "unknown_method"})
        return Reply.json(method(params))

    def _auth_error(self, request: RecordedRequest, params: dict[str, Any]) -> str | None:
        authorization = request.header("authorization") or ""
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        token = token or params.get("token")
        if not token:
            return "not_authed"
        return None if token in self.tokens else "invalid_auth"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "tocsin",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        message = SlackMessage(
            channel=channel,
            ts=self._next_ts(),
            text=params.get("text"),
            blocks=params.get("blocks"),
            thread_ts=params.get("thread_ts"),
            attachments=params.get("attachments"),
        )
        self._messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": self._message_json(message)}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find_message(params.get("channel"), params.get("ts"))
        if message is None:
            return _error("message_not_found")
        message.edits.append((message.text, message.blocks))
        # Slack keeps a field the update leaves out; an explicit empty list clears blocks.
        message.text = params.get("text", message.text)
        message.blocks = params.get("blocks", message.blocks)
        message.attachments = params.get("attachments", message.attachments)
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if params.get("user") not in self._users:
            return _error("user_not_in_channel")
        ephemeral = SlackEphemeral(
            channel, params["user"], self._next_ts(), params.get("text"), params.get("blocks")
        )
        self._ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.message_ts}

    def _get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find_message(params.get("channel"), params.get("message_ts"))
        if message is None:
            return _error("message_not_found")
        link = f"https://fake-workspace.slack.com/archives/{message.channel}/p{message.ts.replace('.', '')}"
        return {"ok": True, "channel": message.channel, "permalink": link}

    def _open_conversation(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if any(u not in self._users for u in users):
            return _error("user_not_found")
        if any(self._users[u]["deleted"] for u in users):
            return _error("user_disabled")
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(params.get("user", ""))
        return {"ok": True, "user": copy.deepcopy(user)} if user else _error("user_not_found")

    def _lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self._users.values():
            if (user["profile"]["email"] or "").lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        return _error("users_not_found")

    def _open_view(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return _error("invalid_trigger_id")
        if not isinstance(params.get("view"), dict):
            return _error("invalid_arguments")
        view_id = f"V{len(self._views) + 1:08d}"
        view = {**params["view"], "id": view_id, "hash": f"hash-{view_id}-1", "team_id": self.team_id}
        self._views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _update_view(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id") or next(
            (v["id"] for v in self._views.values() if v.get("external_id") == params.get("external_id")),
            None,
        )
        old = self._views.get(view_id or "")
        if old is None or not isinstance(params.get("view"), dict):
            return _error("not_found")
        if params.get("hash") and params["hash"] != old["hash"]:
            return _error("hash_conflict")
        version = int(old["hash"].rsplit("-", 1)[1]) + 1
        view = {**params["view"], "id": old["id"], "hash": f"hash-{old['id']}-{version}"}
        self._views[old["id"]] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _add_reaction(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find_message(params.get("channel"), params.get("timestamp"))
        if message is None:
            return _error("message_not_found")
        if params.get("name") in message.reactions:
            return _error("already_reacted")
        message.reactions.append(str(params.get("name")))
        return {"ok": True}

    # -- internals -----------------------------------------------------------------------------------

    def _resolve_channel(self, channel: Any) -> str | None:
        """Posting to a user id lands in the DM with that user, as it does on Slack."""
        if not channel:
            return None
        if str(channel)[0] in "UW":
            return self.dm_channel(str(channel)) if channel in self._users else None
        return str(channel)

    def _find_message(self, channel: Any, ts: Any) -> SlackMessage | None:
        channel = self._resolve_channel(channel)
        return next((m for m in self._messages if m.channel == channel and m.ts == ts), None)

    def _next_ts(self) -> str:
        self._ts_micros += 100
        return f"{self._ts_micros // 1_000_000}.{self._ts_micros % 1_000_000:06d}"

    def _message_json(self, message: SlackMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": message.ts,
            "text": message.text or "",
        }
        for name in ("blocks", "attachments", "thread_ts"):
            if getattr(message, name) is not None:
                body[name] = copy.deepcopy(getattr(message, name))
        return body


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _method_path(method: str | None) -> str:
    return r"/api/[\w.]+" if method is None else "/api/" + re.escape(method)


def _naming_channel(channel: str | None) -> Callable[[RecordedRequest], bool] | None:
    if channel is None:
        return None
    return lambda request: request.params.get("channel") == channel


def _decoded_params(request: RecordedRequest) -> dict[str, Any]:
    params = request.params
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params
