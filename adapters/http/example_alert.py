"""``POST /api/v1/integrations/<id>/test/``: a realistic alert for the integration's type, through the
real ingest path (templates, grouping, routing, escalation), its incident marked ``is_test``.

It answers as the integration's ingest URL would for the same payload, so what a sender would see is
what the button shows.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http.api import INTEGRATIONS
from adapters.http.auth import Caller, authenticate
from adapters.http.crud import check_scope, runtime_of
from adapters.http.ingest import answer
from adapters.inbound.examples import send_test_alert as send
from engine.services import integrations


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["integrations"])

    @router.post("/integrations/{integration_id}/test/")
    def send_test_alert(
        integration_id: str, request: Request, caller: Caller = Depends(authenticate)
    ) -> JSONResponse:
        runtime = runtime_of(request)
        with runtime.db.unit() as uow:
            check_scope(caller, INTEGRATIONS, integrations.get_integration(uow.session, integration_id))
        sent = send(runtime.deps, integration_id)
        return answer(sent.type_name, sent.result, sent.payload)

    return router
