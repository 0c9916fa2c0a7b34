"""Ingest routes: ``/integrations/v1/<type>/<token>/``, its ``heartbeat/`` and PagerDuty's ``/v2/enqueue``.

Every answer a sender can provoke is 2xx or 4xx with a JSON reason: senders retry a 5xx forever.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from adapters import inbound
from adapters.http.errors import ApiError
from adapters.runtime import Runtime
from engine.errors import NotFound, ValidationFailed
from engine.services import heartbeat
from engine.services.ingest import IngestResult, Source, WrongIntegrationType, ingest

JSON_TYPES = ("application/json", "text/plain", "text/json")
# Far deeper than any alert, far shallower than the interpreter's recursion limit, which the code that
# stores, hashes and renders a payload would otherwise hit at a depth that depends on its call stack.
MAX_DEPTH = 128
# Escapes and literals that decode to values no database stores: NUL and lone surrogates (PostgreSQL
# and UTF-8 refuse them), NaN and infinities (Python reads them, JSON columns refuse them). A match only
# means the slower scrub runs; most bodies have none.
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|[eE][+-]?\d{3}|\d{300}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; a longer body is refused before it is buffered whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body is {declared} bytes; the limit is {limit} (TOCSIN_MAX_BODY_BYTES)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body exceeds the limit of {limit} bytes (TOCSIN_MAX_BODY_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)


def check_content_type(request: Request) -> None:
    raw = request.headers.get("content-type")
    if not raw:
        return
    media = raw.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return
    raise ApiError(415, f"Content-Type {media!r} is not JSON; send 'Content-Type: application/json'")


def decode_json(body: bytes) -> Any:
    """Decode as UTF-8, replacing invalid bytes with U+FFFD rather than refusing the alert.

    NUL characters and lone surrogates (valid JSON escapes) become U+FFFD as well, and NaN or infinite
    numbers become their text, so everything decoded can be stored. Nesting deeper than
    :data:`MAX_DEPTH` and integers too long to convert are refused with 400.
    """
    text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not text.strip():
        raise ApiError(400, "empty body: expected a JSON document", code="invalid_json")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ApiError(400, f"JSON is nested more than {MAX_DEPTH} levels deep", code="invalid_json") from exc
    except ValueError as exc:
        # JSONDecodeError, and int() refusing a number of thousands of digits.
        raise ApiError(400, f"body is not valid JSON: {exc}", code="invalid_json") from exc
    if not _nesting_within(value, MAX_DEPTH):
        raise ApiError(400, f"JSON is nested more than {MAX_DEPTH} levels deep", code="invalid_json")
    return _scrub(value) if _SUSPECT.search(text) else value


def _nesting_within(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` containers deep (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def _scrub(value: Any) -> Any:
    """``value`` with unstorable strings and numbers replaced (recursion is bounded by MAX_DEPTH)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_UNSTORABLE.sub("\ufffd", key): _scrub(item) for key, item in value.items()}
    return value


def result_body(result: IngestResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": result.status.value,
        "incident_id": result.incident_id,
        "alert_id": result.alert_id,
    }
    if len(result.incident_ids) > 1:
        body["incident_ids"] = list(result.incident_ids)
    return body


def run_ingest(
    runtime: Runtime,
    type_name: str,
    token: str,
    payload: Any,
    headers: dict[str, str],
    source: Source = Source.SENDER,
) -> IngestResult:
    """Call the ingest use case and turn its refusals into the HTTP answers SPEC §3 gives senders."""
    try:
        return ingest(runtime.deps, token, type_name, payload, headers, inbound.PARSERS[type_name], source)
    except WrongIntegrationType as exc:
        raise ApiError(400, exc.detail, code="wrong_integration_type") from exc
    except NotFound as exc:
        raise ApiError(404, "no integration has this URL") from exc
    except ValidationFailed as exc:
        raise ApiError(
            400, f"payload is not a valid {type_name} alert: {exc.detail}", code="invalid_payload"
        ) from exc


def answer(type_name: str, result: IngestResult, payload: Any) -> JSONResponse:
    """The ingest answer: PagerDuty's own shape for the ``pagerduty`` type, ``result_body`` otherwise."""
    if type_name == "pagerduty":
        return pagerduty_answer(result, payload)
    return JSONResponse(result_body(result))


def _check_in(runtime: Runtime, type_name: str, token: str) -> heartbeat.CheckIn:
    try:
        return heartbeat.check_in(runtime.deps, token, type_name)
    except WrongIntegrationType as exc:
        raise ApiError(400, exc.detail, code="wrong_integration_type") from exc
    except NotFound as exc:
        raise ApiError(404, "no integration has this URL") from exc


async def _receive(request: Request) -> tuple[Any, dict[str, str]]:
    runtime: Runtime = request.app.state.runtime
    check_content_type(request)
    body = await read_body(request, runtime.settings.max_body_bytes)
    headers = {k.lower(): _UNSTORABLE.sub("\ufffd", v) for k, v in request.headers.items()}
    return decode_json(body), headers


def build_router() -> APIRouter:
    router = APIRouter(tags=["ingest"])

    @router.post("/integrations/v1/{type_name}/{token}/")
    async def receive_alert(type_name: str, token: str, request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        if type_name not in inbound.PARSERS:
            raise ApiError(404, "no integration has this URL")
        payload, headers = await _receive(request)
        result = await run_in_threadpool(run_ingest, runtime, type_name, token, payload, headers)
        return answer(type_name, result, payload)

    # The body, if any, is ignored: monitoring systems ping with whatever their HTTP check sends.
    async def check_in(type_name: str, token: str, request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        if type_name not in inbound.PARSERS:
            raise ApiError(404, "no integration has this URL")
        done = await run_in_threadpool(_check_in, runtime, type_name, token)
        return JSONResponse(
            {
                "status": "ok",
                "last_heartbeat_at": done.at.isoformat().replace("+00:00", "Z"),
                "resolved_incident_id": done.resolved_incident_id,
            }
        )

    # One route per method: a single two-method route gets one OpenAPI operation id for both.
    for method in ("GET", "POST"):
        router.add_api_route(
            "/integrations/v1/{type_name}/{token}/heartbeat/",
            check_in,
            methods=[method],
            name=f"heartbeat_{method.lower()}",
        )

    @router.post("/v2/enqueue")
    async def pagerduty_enqueue(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        payload, headers = await _receive(request)
        token = payload.get("routing_key") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            return JSONResponse(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": ["'routing_key' is missing"],
                },
                status_code=400,
            )
        try:
            result = await run_in_threadpool(run_ingest, runtime, "pagerduty", token, payload, headers)
        except ApiError as exc:
            reason = (
                "Invalid routing key" if exc.code in ("not_found", "wrong_integration_type") else exc.detail
            )
            return JSONResponse(
                {"status": "invalid event", "message": "Event object is invalid", "errors": [reason]},
                status_code=400,
            )
        return pagerduty_answer(result, payload)

    return router


def pagerduty_answer(result: IngestResult, payload: Any) -> JSONResponse:
    given = payload.get("dedup_key") if isinstance(payload, dict) else None
    # A trigger without a key gets the one Tocsin generated, so the sender can acknowledge and resolve it.
    dedup_key = given if isinstance(given, str) and given else result.group_key
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    body.update({k: v for k, v in result_body(result).items() if k != "status"})
    return JSONResponse(body, status_code=202)
