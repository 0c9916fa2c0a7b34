"""Pages by SMS and by phone call through Twilio (``TwilioSmsNotifier``, ``TwilioCallNotifier``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from adapters.templating.channel import render_channel
from adapters.twilio.errors import delivery_failed
from adapters.twilio.pacing import Pacer
from bot.text import cut_sms, sms_segments
from engine.errors import DeliveryFailed
from engine.ports import Capabilities, Page, SendResult
from engine.services.deps import Deps

SMS_SEGMENTS = 2
# A page within this long of the last SMS to the same number waits and goes out with the others.
SMS_BUNDLE_SECONDS = 30.0
PHONE_CHANNELS = ("sms", "phone_call")


@dataclass(frozen=True)
class TwilioOptions:
    from_number: str
    public_base: str  # TOCSIN_PUBLIC_URL without the trailing slash: Twilio calls Tocsin back here
    allow_unverified: bool = False
    daily_cap: int = 200


def sms_body(page: Page) -> str:
    """The page or update as at most two SMS segments, keeping the reply hint whole."""
    if page.kind != "page":
        head = render_channel(
            "sms", "update.j2", number=page.incident_number, title=page.title, text=page.text
        )
        return cut_sms(head, SMS_SEGMENTS)
    others = [b for b in page.also if b.incident_number != page.incident_number]
    if others:
        titles = {b.incident_number: b.title for b in others} | {page.incident_number: page.title}
        items = sorted(titles.items())
        pages = [{"number": number, "title": title} for number, title in items]
        head = render_channel("sms", "bundle.j2", pages=pages)
        hint = render_channel("sms", "bundle_hint.j2", number=pages[-1]["number"])
        return _fit(head, hint)
    summary = " ".join(page.text.split())
    head = render_channel("sms", "page.j2", number=page.incident_number, title=page.title, text=summary)
    hint = render_channel("sms", "reply_hint.j2", number=page.incident_number)
    return _fit(head, hint)


def _fit(head: str, hint: str) -> str:
    full = f"{head}\n{hint}"
    if sms_segments(full) <= SMS_SEGMENTS:
        return full
    return cut_sms(head, SMS_SEGMENTS, link=hint)


class _TwilioNotifier:
    channel = ""

    def __init__(self, client: Client, deps: Deps, options: TwilioOptions, pacer: Pacer) -> None:
        self._client = client
        self._deps = deps
        self._options = options
        self._pacer = pacer

    def _check(self, page: Page, weight: int = 1) -> None:
        # Verification, STOP and the daily cap are checked by the engine from the capabilities.
        self._pacer.claim(page.delivery_id, self._deps.clock.now(), weight)


def _capabilities(channel: str, max_text: int, options: TwilioOptions) -> Capabilities:
    return Capabilities(
        channel=channel,
        max_text=max_text,
        per_second=1.0,
        verified_phone=not options.allow_unverified,
        opt_out=channel == "sms",
        daily_cap=options.daily_cap,
        cap_channels=PHONE_CHANNELS,
        bundle_seconds=SMS_BUNDLE_SECONDS if channel == "sms" else None,
        updates=channel == "sms",
        recall=channel == "phone_call",
    )


class TwilioSmsNotifier(_TwilioNotifier):
    channel = "sms"

    def __init__(self, client: Client, deps: Deps, options: TwilioOptions, pacer: Pacer) -> None:
        super().__init__(client, deps, options, pacer)
        self.capabilities = _capabilities("sms", 306, options)

    def send(self, page: Page) -> SendResult:
        if page.address is None:
            raise DeliveryFailed("no phone number", retryable=False)
        body = sms_body(page)
        self._check(page, sms_segments(body))
        try:
            message = self._client.messages.create(
                to=page.address,
                from_=self._options.from_number,
                body=body,
                status_callback=f"{self._options.public_base}/twilio/sms/status",
            )
        except (TwilioException, RequestException) as exc:
            raise delivery_failed(exc) from exc
        return SendResult(provider_id=message.sid, status="sent")


class TwilioCallNotifier(_TwilioNotifier):
    channel = "phone_call"

    def __init__(self, client: Client, deps: Deps, options: TwilioOptions, pacer: Pacer) -> None:
        super().__init__(client, deps, options, pacer)
        self.capabilities = _capabilities("phone_call", 500, options)

    def send(self, page: Page) -> SendResult:
        if page.kind != "page":
            # The capabilities say calls take no updates; one planned anyway (older rows) is not rung.
            return SendResult(provider_id=None, status="skipped")
        if page.address is None:
            raise DeliveryFailed("no phone number", retryable=False)
        self._check(page)
        base = self._options.public_base
        try:
            call = self._client.calls.create(
                to=page.address,
                from_=self._options.from_number,
                url=f"{base}/twilio/voice/{page.delivery_id}",
                method="POST",
                status_callback=f"{base}/twilio/voice/status",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                status_callback_method="POST",
                timeout=30,
            )
        except (TwilioException, RequestException) as exc:
            raise delivery_failed(exc) from exc
        return SendResult(provider_id=call.sid, status="sent")

    def recall(self, provider_id: str) -> None:
        """Cancel a call still queued or ringing; Twilio leaves an answered call alone."""
        try:
            self._client.calls(provider_id).update(status="canceled")
        except (TwilioException, RequestException) as exc:
            raise delivery_failed(exc) from exc


def sms_pacer() -> Pacer:
    return Pacer(timedelta(seconds=1), "one SMS per second per sending number")


def call_pacer() -> Pacer:
    return Pacer(timedelta(seconds=1), "one call per second per account")
