"""Bearer-token authentication for ``/api/v1/`` (a bare token is accepted too)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from adapters.http.errors import ApiError
from adapters.runtime import Runtime
from engine.services import directory


@dataclass(frozen=True)
class Caller:
    token_id: str
    name: str
    team_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.team_id is None


def authenticate(request: Request) -> Caller:
    runtime: Runtime = request.app.state.runtime
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise ApiError(401, "missing Authorization header: send 'Authorization: Bearer <token>'")
    value = header[7:].strip() if header.lower().startswith("bearer ") else header
    with runtime.db.unit() as uow:
        token = directory.find_token(uow.session, value)
        if token is None:
            raise ApiError(401, "invalid API token")
        token.last_used_at = runtime.deps.clock.now()
        return Caller(token_id=token.id, name=token.name, team_id=token.team_id)
