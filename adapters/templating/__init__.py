"""User-editable Jinja2 templates: the sandboxed renderer, its filters, and the defaults per sender.

Template context (SPEC 4.1): ``payload`` (the decoded body), ``headers`` (request headers, looked up
case-insensitively), ``incident`` and ``integration``; build it with :func:`template_context`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.templating.defaults import TEMPLATE_KEYS, default_templates
from adapters.templating.renderer import MAX_OUTPUT, MAX_SECONDS, JinjaTemplateRenderer
from engine.rules.routing import Headers, is_truthy_output

__all__ = [
    "MAX_OUTPUT",
    "MAX_SECONDS",
    "TEMPLATE_KEYS",
    "JinjaTemplateRenderer",
    "default_templates",
    "is_truthy_output",
    "template_context",
]


def template_context(
    payload: Any,
    headers: Mapping[str, str] | None = None,
    *,
    incident: Mapping[str, Any] | None = None,
    integration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables every template sees; absent parts are empty mappings so templates can test them."""
    return {
        "payload": payload,
        "headers": Headers(headers or {}),
        "incident": dict(incident or {}),
        "integration": dict(integration or {}),
    }
