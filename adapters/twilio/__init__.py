"""SMS and phone calls through Twilio: notifiers, Twilio's webhooks, phone verification.

``install`` returns None unless ``TOCSIN_TWILIO_ACCOUNT_SID``, ``_AUTH_TOKEN`` and ``_FROM_NUMBER`` are set.
"""

from __future__ import annotations

from fastapi import APIRouter
from twilio.rest import Client

from adapters.providers import ProviderContext, ProviderParts
from adapters.twilio.api import build_api_router
from adapters.twilio.client import make_client
from adapters.twilio.notifier import (
    TwilioCallNotifier,
    TwilioOptions,
    TwilioSmsNotifier,
    call_pacer,
    sms_pacer,
)
from adapters.twilio.routes import TwilioWebhooks


def install(context: ProviderContext) -> ProviderParts | None:
    settings = context.settings
    if not settings.twilio_enabled:
        return None
    assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number
    client = make_client(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url)
    options = TwilioOptions(
        from_number=settings.twilio_from_number,
        public_base=settings.public_base,
        allow_unverified=settings.twilio_allow_unverified,
        daily_cap=settings.twilio_daily_cap,
    )
    deps = context.deps
    router = APIRouter()
    webhooks = TwilioWebhooks(deps, context.conversation, settings.twilio_auth_token, settings.public_base)
    router.include_router(webhooks.router())
    router.include_router(build_api_router(client, deps, options))
    return ProviderParts(
        name="twilio",
        notifiers={
            "sms": TwilioSmsNotifier(client, deps, options, sms_pacer()),
            "phone_call": TwilioCallNotifier(client, deps, options, call_pacer()),
        },
        router=router,
        close=lambda: _close(client),
    )


def _close(client: Client) -> None:
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()
