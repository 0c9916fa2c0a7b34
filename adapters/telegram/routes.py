"""HTTP routes: ``POST /telegram/webhook`` (Telegram's calls) and the Telegram link-code API."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from telegram.error import TelegramError

from adapters.telegram.updates import TelegramUpdates
from engine.errors import PermissionDenied
from engine.services import directory, identities
from engine.services.deps import Deps

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def secret_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time check; with no secret configured every webhook call is refused."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def build_router(updates: TelegramUpdates, deps: Deps, secret: str | None) -> APIRouter:
    router = APIRouter()

    @router.post("/telegram/webhook", include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(secret, request.headers.get(SECRET_HEADER)):
            return _error(403, "forbidden", "wrong or missing X-Telegram-Bot-Api-Secret-Token")
        raw = await request.body()
        if len(raw) > MAX_UPDATE_BYTES:
            return _error(413, "payload_too_large", "a Telegram update is never this large")
        try:
            data = json.loads(raw)
        except ValueError:
            return _error(400, "bad_request", "the body is not JSON")
        if not isinstance(data, dict):
            return _error(400, "bad_request", "an update is a JSON object")
        # The core is synchronous (database sessions, Bot calls through the Bot loop): run it in a thread.
        await run_in_threadpool(_handle, updates, data)
        # Telegram repeats an update until it gets a 2xx: answer 200 even when handling it failed.
        return JSONResponse({"ok": True})

    @router.post("/api/v1/users/{user_id}/telegram_link_code/", tags=["users"])
    def telegram_link_code(user_id: str, request: Request) -> Any:
        """A one-time code (30 minutes) the user sends to the bot as ``/link CODE``, or opens as a deep link."""
        known, team_id = _caller(deps, request)
        if not known:
            return _error(
                401, "unauthorized", "missing or invalid API token: send 'Authorization: Bearer <token>'"
            )
        with deps.db.unit() as uow:
            user = directory.get_user(uow.session, user_id)
            if team_id is not None and team_id not in {m.team_id for m in user.memberships}:
                raise PermissionDenied("this token's team does not include the user")
            code = identities.create_code(uow.session, deps.clock, user_id)
        answer: dict[str, Any] = {"code": code, "command": f"/link {code}", "expires_in": 1800}
        try:
            answer["deep_link"] = f"https://t.me/{updates.loop.bot.username}?start={code}"
        except TelegramError as exc:
            log.warning("telegram: no deep link, getMe failed: %s", exc)
        return answer

    return router


def _handle(updates: TelegramUpdates, data: dict[str, Any]) -> None:
    try:
        updates.handle(data)
    except Exception:  # the outermost frame of a webhook call: log, answer 200, never loop
        log.exception("telegram: update %s failed", data.get("update_id"))


def _caller(deps: Deps, request: Request) -> tuple[bool, str | None]:
    """Whether the API token is known, and its team (None for an admin token)."""
    header = request.headers.get("authorization", "").strip()
    value = header[7:].strip() if header.lower().startswith("bearer ") else header
    with deps.db.unit() as uow:
        token = directory.find_token(uow.session, value) if value else None
        if token is None:
            return False, None
        token.last_used_at = deps.clock.now()
        return True, token.team_id


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)
