"""The engine's WebhookCaller: render a webhook's templates, then send it through the guarded sender."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.templating import JinjaTemplateRenderer
from adapters.webhook.request import build_request
from adapters.webhook.sender import HttpWebhookSender
from engine.model.webhook import WebhookResponse

# Bodies carry whole payloads: allow more than the default template output before cutting.
MAX_BODY = 5 * 1024 * 1024


class HttpWebhookCaller:
    def __init__(self, allowed_hosts: str | None = None) -> None:
        self.renderer = JinjaTemplateRenderer(max_output=MAX_BODY)
        self.sender = HttpWebhookSender(allowed_hosts)

    def call(self, webhook: Mapping[str, Any], context: Mapping[str, Any]) -> WebhookResponse:
        return self.sender.send(build_request(webhook, context, self.renderer))

    def close(self) -> None:
        self.sender.close()
