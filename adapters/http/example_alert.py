"""``POST /api/v1/integrations/<id>/test/``: a realistic alert for the integration's type, through the
real ingest path (templates, grouping, routing, escalation), its incident marked ``is_test``.

It answers as the integration's ingest URL would for the same payload, so what a sender would see is
what the button shows.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http.api import INTEGRATIONS
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import check_scope, runtime_of
from adapters.http.ingest import answer, run_ingest
from adapters.inbound.examples import TEST_HEADERS, example_payload
from engine.services import integrations
from engine.services.ingest import Source


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["integrations"])

    @router.post("/integrations/{integration_id}/test/")
    def send_test_alert(
        integration_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            integration = integrations.get_integration(uow.session, integration_id)
            check_scope(caller, INTEGRATIONS, integration)
            type_name, token = integration.type, integration.token
        payload = example_payload(type_name, secrets.token_hex(6), runtime.deps.clock.now())
        result = run_ingest(runtime, type_name, token, payload, dict(TEST_HEADERS), Source.TEST)
        return answer(type_name, result, payload)

    return router
