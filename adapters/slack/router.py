"""``POST /slack/events``: Slack's raw request into Bolt (which checks the signature), Bolt's answer out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt import App, BoltRequest
from starlette.concurrency import run_in_threadpool

# Slack's own requests are a few kilobytes; anything far larger is not from Slack.
MAX_BODY = 1024 * 1024


def build_router(app: App) -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return Response('{"error": "too_large"}', status_code=413, media_type="application/json")
        bolt_request = BoltRequest(
            body=raw.decode("utf-8", errors="replace"),
            query=request.url.query,
            headers={name: value for name, value in request.headers.items()},
        )
        # The conversation and the Web API are synchronous: keep them off the event loop.
        answer = await run_in_threadpool(app.dispatch, bolt_request)
        content_type = (answer.headers.get("content-type") or ["text/plain;charset=utf-8"])[0]
        return Response(content=answer.body, status_code=answer.status, media_type=content_type)

    return router
