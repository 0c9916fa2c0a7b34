"""What a provider's URLs answer while its credentials are not set: 503 saying which settings to set.

Without this, ``POST users/<id>/verify_phone/`` or ``/slack/events`` answered a bare 404 "Not Found"
on an installation without Twilio or Slack, which reads like a typo in the URL.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.http.errors import error_body

# Provider → (what enables it, the paths its package serves when enabled).
PROVIDER_PATHS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "slack": (
        "TOCSIN_SLACK_BOT_TOKEN and TOCSIN_SLACK_SIGNING_SECRET",
        (("POST", "/slack/events"),),
    ),
    "telegram": (
        "TOCSIN_TELEGRAM_BOT_TOKEN (and TOCSIN_TELEGRAM_WEBHOOK_SECRET for the webhook)",
        (("POST", "/telegram/webhook"), ("POST", "/api/v1/users/{user_id}/telegram_link_code/")),
    ),
    "twilio": (
        "TOCSIN_TWILIO_ACCOUNT_SID, TOCSIN_TWILIO_AUTH_TOKEN and TOCSIN_TWILIO_FROM_NUMBER",
        (
            ("POST", "/api/v1/users/{user_id}/verify_phone/"),
            ("POST", "/api/v1/users/{user_id}/verify_phone/confirm/"),
            ("POST", "/api/v1/users/{user_id}/test_call/"),
            ("POST", "/twilio/{rest:path}"),
        ),
    ),
}


def build_router(installed: set[str]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for provider, (settings, paths) in PROVIDER_PATHS.items():
        if provider in installed:
            continue
        for method, path in paths:
            router.add_api_route(path, _answer(provider, settings), methods=[method])
    return router


def _answer(provider: str, settings: str) -> Callable[[Request], JSONResponse]:
    detail = f"{provider.capitalize()} is not configured on this Tocsin: set {settings}"

    def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(error_body("not_configured", detail), status_code=503)

    return endpoint
