"""Slack Web API failures as engine errors: what may succeed later, and when to try again."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from engine.errors import DeliveryFailed

# Errors a retry cannot fix: the card or page is recorded as failed on the incident timeline.
PERMANENT = {
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "not_in_channel": "the Tocsin app is not in the channel; invite it with /invite @Tocsin",
    "is_archived": "the channel is archived",
    "invalid_auth": "the Slack bot token is not valid",
    "not_authed": "no Slack bot token was sent",
    "account_inactive": "the Slack bot token belongs to a deleted user or workspace",
    "token_revoked": "the Slack bot token was revoked",
    "message_limit_exceeded": "the channel has reached Slack's message limit",
    "msg_too_long": "the message is too long for Slack",
    "message_not_found": "the card message no longer exists",
    "user_not_found": "the Slack user does not exist",
    "user_disabled": "the Slack user is deactivated",
    "cannot_dm_bot": "Slack users that are bots cannot get DMs",
    "invalid_blocks": "Slack refused the card's blocks",
}
# Slack's own troubles: the same call may work in a moment.
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
DEFAULT_RETRY_AFTER = 5.0


def delivery_failure(exc: SlackApiError | SlackClientError, what: str) -> DeliveryFailed:
    """The typed failure for a Slack error raised while doing ``what`` ("card post in C123")."""
    if not isinstance(exc, SlackApiError):
        return DeliveryFailed(f"Slack {what}: {exc}", retryable=True, retry_after=DEFAULT_RETRY_AFTER)
    response = exc.response
    code = str(response.get("error") or "unknown_error")
    if response.status_code == 429 or code == "ratelimited":
        return DeliveryFailed(
            f"Slack {what}: rate limited",
            retryable=True,
            retry_after=retry_after(response.headers),
            provider_code="ratelimited",
        )
    if code in TRANSIENT or response.status_code >= 500:
        return DeliveryFailed(
            f"Slack {what}: {code}", retryable=True, retry_after=DEFAULT_RETRY_AFTER, provider_code=code
        )
    reason = PERMANENT.get(code, code)
    return DeliveryFailed(f"Slack {what}: {reason} ({code})", retryable=False, provider_code=code)


def retry_after(headers: object) -> float:
    """Seconds from a ``Retry-After`` header (any case), or the default when absent or odd."""
    if isinstance(headers, dict):
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                raw = value[0] if isinstance(value, list) and value else value
                try:
                    return max(float(raw), 1.0)
                except (TypeError, ValueError):
                    break
    return DEFAULT_RETRY_AFTER
