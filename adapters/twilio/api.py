"""REST endpoints that need Twilio: phone verification by SMS code and a test call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from adapters.http.errors import ApiError
from adapters.templating.channel import render_channel
from adapters.twilio.errors import delivery_failed
from adapters.twilio.notifier import TwilioOptions
from engine.services import directory, phones
from engine.services.deps import Deps
from engine.services.directory import get_user


class ConfirmBody(BaseModel):
    code: str


def build_api_router(client: Client, deps: Deps, options: TwilioOptions) -> APIRouter:
    router = APIRouter(prefix="/api/v1/users", tags=["users"])

    def authenticate(request: Request) -> str:
        # adapters.http.auth needs the runtime, which would tie this provider package to the others.
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise ApiError(401, "missing Authorization header: send 'Authorization: Bearer <token>'")
        value = header[7:].strip() if header.lower().startswith("bearer ") else header
        with deps.db.unit() as uow:
            token = directory.find_token(uow.session, value)
            if token is None:
                raise ApiError(401, "invalid API token")
            token.last_used_at = deps.clock.now()
            return token.name

    def _twilio_error(exc: TwilioException | RequestException) -> ApiError:
        failed = delivery_failed(exc)
        return ApiError(503 if failed.retryable else 409, failed.detail, code="twilio_failed")

    @router.post("/{user_id}/verify_phone/")
    def verify_phone(user_id: str, _caller: str = Depends(authenticate)) -> dict[str, Any]:
        """Send a six-digit code to the user's phone_number; confirm it with ``verify_phone/confirm/``."""
        number, code = phones.start_verification(deps, user_id)
        minutes = int(phones.CODE_TTL.total_seconds() // 60)
        body = render_channel("sms", "verify.j2", code=code, minutes=minutes)
        try:
            client.messages.create(to=number, from_=options.from_number, body=body)
        except (TwilioException, RequestException) as exc:
            raise _twilio_error(exc) from exc
        return {"status": "sent", "phone_number": number, "expires_in": minutes * 60}

    @router.post("/{user_id}/verify_phone/confirm/")
    def confirm_phone(
        user_id: str, body: ConfirmBody, _caller: str = Depends(authenticate)
    ) -> dict[str, Any]:
        user = phones.confirm_verification(deps, user_id, body.code)
        return {"id": user.id, "phone_number": user.phone_number, "phone_verified": True}

    @router.post("/{user_id}/test_call/")
    def test_call(user_id: str, _caller: str = Depends(authenticate)) -> dict[str, Any]:
        """Ring the user's phone_number with a short recorded test (verified or not)."""
        with deps.db.unit() as uow:
            number = get_user(uow.session, user_id).phone_number
        if not number:
            raise ApiError(422, "the user has no phone_number", code="invalid")
        try:
            call = client.calls.create(
                to=number, from_=options.from_number, url=f"{options.public_base}/twilio/voice/test"
            )
        except (TwilioException, RequestException) as exc:
            raise _twilio_error(exc) from exc
        return {"status": "calling", "phone_number": number, "call_sid": call.sid}

    return router
