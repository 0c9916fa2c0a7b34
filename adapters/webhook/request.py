"""Render an outgoing webhook's templated parts (SPEC 4.8) into a ``WebhookRequest``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from adapters.templating.filters import tojson
from engine.errors import ValidationFailed
from engine.model.webhook import DEFAULT_TIMEOUT, WebhookRequest
from engine.ports import TemplateRenderer

# Grafana OnCall's choices for outgoing webhooks.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The sender derives these from the URL and the body; a template must not contradict them.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def build_request(
    webhook_fields: Mapping[str, Any],
    context: Mapping[str, Any],
    renderer: TemplateRenderer,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> WebhookRequest:
    """Render ``webhook_url``, each ``headers`` value and ``data`` with ``context``.

    ``webhook_fields`` holds the webhook's API fields (``webhook_url`` or OnCall's ``url``,
    ``http_method``, ``headers``, ``data``, ``secret``). Dicts and lists in the context render as
    JSON, so ``{{ payload }}`` sends the payload as JSON rather than as Python's ``repr``. Without a
    ``Content-Type`` header the body is sent as ``application/json`` when it parses as JSON, else as
    UTF-8 text; with no ``data`` the body is empty. The renderer's output limit applies to the
    body too, so give it one that fits the largest payload. Raises ``ValidationFailed`` whose
    ``field`` names the part that failed (``webhook_url``, ``headers.X-Name``, ``data``,
    ``http_method``).
    """
    view = json_view(context)
    url = _render(
        renderer, webhook_fields.get("webhook_url") or webhook_fields.get("url"), view, "webhook_url"
    )
    url = url.strip()
    _check_url(url)
    method = str(webhook_fields.get("http_method") or "POST").strip().upper()
    if method not in METHODS:
        raise ValidationFailed(
            f"http_method: must be one of {', '.join(sorted(METHODS))}, not {method!r}", field="http_method"
        )
    headers = _render_headers(webhook_fields.get("headers"), view, renderer)
    data = webhook_fields.get("data")
    body = _render(renderer, data, view, "data").encode("utf-8") if data else b""
    if body and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = _content_type(body)
    secret = webhook_fields.get("secret") or None
    return WebhookRequest(
        url=url,
        method=method,
        headers=headers,
        body=body,
        secret=str(secret) if secret is not None else None,
        timeout=timeout,
    )


class _JsonObject(dict[str, Any]):
    """A dict that prints as JSON; ``tojson`` and item access treat it as the dict it is."""

    def __str__(self) -> str:
        return tojson(self)


class _JsonArray(list[Any]):
    """A list that prints as JSON."""

    def __str__(self) -> str:
        return tojson(self)


def json_view(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` with its plain dicts and lists (at any depth) replaced by JSON-printing copies.

    Other mappings (the case-insensitive ``headers``) are left alone. A structure nested too deeply
    to copy is passed as it is: it then prints as Python's repr, which beats failing the call.
    """
    view: dict[str, Any] = {}
    for name, value in context.items():
        try:
            view[name] = _as_json_printing(value)
        except RecursionError:
            view[name] = value
    return view


def _as_json_printing(value: Any) -> Any:
    if type(value) is dict:
        return _JsonObject((key, _as_json_printing(item)) for key, item in value.items())
    if type(value) is list:
        return _JsonArray(_as_json_printing(item) for item in value)
    return value


def _render(renderer: TemplateRenderer, template: Any, context: Mapping[str, Any], field: str) -> str:
    if template is None:
        raise ValidationFailed(f"{field}: required", field=field)
    try:
        return renderer.render(str(template), context)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{field}: {exc.detail}", field=field) from exc


def _check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValidationFailed(f"webhook_url: not a valid URL: {exc}", field="webhook_url") from exc
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise ValidationFailed(
            f"webhook_url: must be an absolute http or https URL, not {url[:200]!r}", field="webhook_url"
        )


def _render_headers(templates: Any, context: Mapping[str, Any], renderer: TemplateRenderer) -> dict[str, str]:
    if not templates:
        return {}
    if not isinstance(templates, Mapping):
        raise ValidationFailed("headers: must be an object of header name to template", field="headers")
    headers: dict[str, str] = {}
    for name, template in templates.items():
        field = f"headers.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValidationFailed(f"{field}: {name!r} is not a valid header name", field=field)
        if name.lower() in _RESERVED_HEADERS:
            raise ValidationFailed(f"{field}: {name} is set by Tocsin and cannot be templated", field=field)
        value = _render(renderer, template, context, field).strip()
        if any(character in value for character in "\r\n\0"):
            # A line break in a header value would start a new header (request splitting).
            raise ValidationFailed(f"{field}: the value has a line break or NUL", field=field)
        headers[name] = value
    return headers


def _content_type(body: bytes) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"
