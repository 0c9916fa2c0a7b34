"""The FastAPI application factory: no work at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from adapters.http import (
    api,
    errors,
    example_alert,
    incidents_api,
    ingest,
    metrics,
    oncall_compat,
    schedules_api,
    unconfigured,
)
from adapters.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Tocsin",
        version="0.1.0",
        description="Chat-first on-call and incident responder.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(api.build_router())
    app.include_router(incidents_api.build_router())
    app.include_router(oncall_compat.build_router())
    metrics_router, ingest_requests = metrics.build_router(runtime)
    app.include_router(metrics_router)

    @app.middleware("http")
    async def count_ingest(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        path = request.url.path
        if path.startswith("/integrations/v1/") or path == "/v2/enqueue":
            parts = path.split("/")
            kind = parts[3] if path.startswith("/integrations/") and len(parts) > 3 else "pagerduty"
            ingest_requests.labels(kind[:32], str(response.status_code)).inc()
        return response

    for part in runtime.providers:
        if part.router is not None:
            app.include_router(part.router)
    app.include_router(unconfigured.build_router({part.name for part in runtime.providers}))
    app.include_router(ingest.build_router())
    app.include_router(example_alert.build_router())
    app.include_router(schedules_api.build_router())

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            with rt.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure as not ready
            checks["database"] = f"error: {exc.__class__.__name__}"
        if rt.redis is not None:
            try:
                rt.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"error: {exc.__class__.__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )

    return app
