"""Outgoing webhooks (SPEC 4.8): render the templates, guard the destination, sign and send.

``build_request`` turns a webhook's fields and a template context into a ``WebhookRequest``;
``HttpWebhookSender`` sends it to a checked, pinned address (see ``guard`` and ``sender``).
"""

from __future__ import annotations

from adapters.webhook.guard import AllowList, forbidden_reason
from adapters.webhook.request import build_request
from adapters.webhook.sender import SIGNATURE_HEADER, HttpWebhookSender, signature

__all__ = [
    "SIGNATURE_HEADER",
    "AllowList",
    "HttpWebhookSender",
    "build_request",
    "forbidden_reason",
    "signature",
]
