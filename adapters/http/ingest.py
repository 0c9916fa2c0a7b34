"""Ingest routes: ``/integrations/v1/<type>/<token>/`` and PagerDuty's ``/v2/enqueue``.

Every answer a sender can provoke is 2xx or 4xx with a JSON reason: senders retry a 5xx forever.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from adapters import inbound
from adapters.http.errors import ApiError
from adapters.runtime import Runtime
from engine.errors import NotFound, ValidationFailed
from engine.services.ingest import IngestResult, WrongIntegrationType, ingest

JSON_TYPES = ("application/json", "text/plain", "text/json")


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
    """Decode as UTF-8, replacing invalid bytes with U+FFFD rather than refusing the alert."""
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise ApiError(400, "empty body: expected a JSON document", code="invalid_json")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}", code="invalid_json") from exc


def result_body(result: IngestResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": result.status.value,
        "incident_id": result.incident_id,
        "alert_id": result.alert_id,
    }
    if len(result.incident_ids) > 1:
        body["incident_ids"] = list(result.incident_ids)
    return body


def _run_ingest(
    runtime: Runtime, type_name: str, token: str, payload: Any, headers: dict[str, str]
) -> IngestResult:
    try:
        return ingest(runtime.deps, token, type_name, payload, headers, inbound.PARSERS[type_name])
    except WrongIntegrationType as exc:
        raise ApiError(400, exc.detail, code="wrong_integration_type") from exc
    except NotFound as exc:
        raise ApiError(404, "no integration has this URL") from exc
    except ValidationFailed as exc:
        raise ApiError(
            400, f"payload is not a valid {type_name} alert: {exc.detail}", code="invalid_payload"
        ) from exc


async def _receive(request: Request, type_name: str, token: str) -> tuple[Any, dict[str, str]]:
    runtime: Runtime = request.app.state.runtime
    check_content_type(request)
    body = await read_body(request, runtime.settings.max_body_bytes)
    return decode_json(body), {k.lower(): v for k, v in request.headers.items()}


def build_router() -> APIRouter:
    router = APIRouter(tags=["ingest"])

    @router.post("/integrations/v1/{type_name}/{token}/")
    async def receive_alert(type_name: str, token: str, request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        if type_name not in inbound.PARSERS:
            raise ApiError(404, "no integration has this URL")
        payload, headers = await _receive(request, type_name, token)
        result = await run_in_threadpool(_run_ingest, runtime, type_name, token, payload, headers)
        if type_name == "pagerduty":
            return pagerduty_answer(result, payload)
        return JSONResponse(result_body(result))

    @router.post("/v2/enqueue")
    async def pagerduty_enqueue(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        payload, headers = await _receive(request, "pagerduty", "")
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
            result = await run_in_threadpool(_run_ingest, runtime, "pagerduty", token, payload, headers)
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
    dedup_key = payload.get("dedup_key") if isinstance(payload, dict) else None
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key or result.incident_id}
    body.update({k: v for k, v in result_body(result).items() if k != "status"})
    return JSONResponse(body, status_code=202)
