"""Every error leaves as JSON ``{"error", "detail"}`` (SPEC §3); never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    TocsinError,
    ValidationFailed,
)

log = logging.getLogger(__name__)

_STATUS = {NotFound: 404, Conflict: 409, InvalidTransition: 409, PermissionDenied: 403, ValidationFailed: 422}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


class ApiError(Exception):
    """An HTTP-level refusal raised by the adapter itself (auth, size, media type)."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _HTTP_CODES.get(status, "error")


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def tocsin_error_response(exc: TocsinError) -> JSONResponse:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed) and exc.field:
        extra["field"] = exc.field
        extra["errors"] = exc.errors
    if isinstance(exc, InvalidTransition):
        extra["state"] = exc.state
        extra["actor"] = exc.actor
    return JSONResponse(error_body(exc.code, exc.detail, **extra), status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(TocsinError)
    async def _tocsin(_request: Request, exc: TocsinError) -> JSONResponse:
        return tocsin_error_response(exc)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.detail), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if broken is not None:
            # FastAPI reports a body that is not JSON as a field "[6]" (the character position).
            ctx = broken.get("ctx") or {}
            where = f" near character {broken['loc'][-1]}" if broken.get("loc") else ""
            reason = ctx.get("error", "JSON decode error")
            detail = f"the request body is not valid JSON{where}: {reason}"
            return JSONResponse(error_body("invalid_json", detail, field="body"), status_code=400)
        errors = [
            {"field": _location(tuple(e.get("loc", ()))), "detail": e.get("msg", "")} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors) or "invalid request"
        field = errors[0]["field"] if errors else None
        return JSONResponse(error_body("invalid", detail, field=field, errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal error; see the server log"), status_code=500)
