"""A Tocsin instance for tests: real app and engine, fake clock and queue, console captured."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.runtime import Runtime, build_runtime
from adapters.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.queue import FakeJobQueue

ADMIN_TOKEN = "test-admin-token"


@dataclass
class Harness:
    runtime: Runtime
    client: TestClient
    clock: FakeClock
    queue: FakeJobQueue
    console: io.StringIO

    @property
    def start(self) -> datetime:
        return self.clock.started

    def api(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        return self.client.request(
            method, f"/api/v1/{path.lstrip('/')}", json=json, headers=headers, **kwargs
        )

    def ok(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        response = self.api(method, path, json, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def post_alert(self, link: str, body: bytes | str, content_type: str = "application/json") -> Any:
        path = link.split("://", 1)[-1].split("/", 1)[1]
        data = body.encode() if isinstance(body, str) else body
        return self.client.post("/" + path, content=data, headers={"Content-Type": content_type})


@contextmanager
def harness(database_url: str, **settings: Any) -> Iterator[Harness]:
    clock = FakeClock()
    queue = FakeJobQueue(clock)
    console = io.StringIO()
    config = Settings(database_url=database_url, redis_url=None, api_token=ADMIN_TOKEN, **settings)
    runtime = build_runtime(config, clock=clock, queue=queue, migrate=False, console_stream=console)
    queue.runner = runtime.run
    with TestClient(create_app(runtime)) as client:
        yield Harness(runtime, client, clock, queue, console)
    runtime.stop()


def seed_team(h: Harness, members: int = 2) -> dict[str, Any]:
    """Team T001 with users U001… as members."""
    team = h.ok("POST", "teams/", {"id": "T001", "name": "Platform"})
    users = [
        h.ok(
            "POST",
            "users/",
            {
                "id": f"U00{i}",
                "name": f"User {i}",
                "username": f"user{i}",
                "email": f"user{i}@example.com",
                "team_ids": ["T001"],
            },
        )
        for i in range(1, members + 1)
    ]
    return {"team": team, "users": users}
