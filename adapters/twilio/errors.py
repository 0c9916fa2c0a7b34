"""Twilio failures as engine errors: which ones a retry can fix, and words for the timeline."""

from __future__ import annotations

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

from engine.errors import DeliveryFailed

# Twilio error codes people see on the timeline, in their words. Anything 4xx not listed is permanent too.
DESCRIPTIONS = {
    20003: "authentication failed (check TOCSIN_TWILIO_ACCOUNT_SID and AUTH_TOKEN)",
    20429: "rate limited by Twilio",
    21211: "invalid 'To' phone number",
    21214: "'To' number cannot be reached",
    21408: "no permission to send to this region",
    21606: "the 'From' number cannot send SMS",
    21610: "recipient unsubscribed (replied STOP)",
    21612: "Twilio cannot route to this number",
    21614: "not a mobile number",
    30003: "unreachable handset",
    30004: "message blocked",
    30005: "unknown destination number",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown carrier error",
}


# "Attempt to send to unsubscribed recipient": the number replied STOP at the carrier.
UNSUBSCRIBED = 21610


def describe(code: int | str | None) -> str:
    if code is None or code == "":
        return "failed"
    try:
        number = int(code)
    except ValueError:
        return f"Twilio error {code}"
    return f"Twilio error {number}: {DESCRIPTIONS.get(number, 'see twilio.com/docs/errors/' + str(number))}"


def delivery_failed(exc: TwilioException | RequestException) -> DeliveryFailed:
    """Rate limits, 5xx and network trouble may pass; every other refusal is permanent."""
    if isinstance(exc, TwilioRestException):
        code = exc.code
        if exc.status == 429 or code == 20429:
            return DeliveryFailed(describe(20429), retryable=True, provider_code="20429")
        if exc.status >= 500:
            return DeliveryFailed(
                f"Twilio answered {exc.status}", retryable=True, provider_code=str(code or exc.status)
            )
        detail = describe(code) if code else f"Twilio answered {exc.status}: {exc.msg}"
        return DeliveryFailed(
            detail,
            retryable=False,
            provider_code=str(code) if code else None,
            opted_out=code == UNSUBSCRIBED,
        )
    return DeliveryFailed(f"Twilio unreachable: {exc.__class__.__name__}", retryable=True)
