"""Bad input and limits at the ingest routes: the right 4xx for what is wrong, 2xx for anything storable."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.db import AlertPayload
from tests.support.harness import Harness, harness, seed_team

TYPES = ("grafana_alerting", "alertmanager", "grafana", "webhook", "formatted_webhook", "pagerduty")


def path_of(integration: dict[str, Any]) -> str:
    return "/" + integration["link"].split("://", 1)[1].split("/", 1)[1]


def send(h: Harness, integration: dict[str, Any], body: bytes, content_type: str = "application/json") -> Any:
    return h.client.post(path_of(integration), content=body, headers={"Content-Type": content_type})


def ok(response: Any) -> bool:
    return response.status_code in (200, 202)


def test_unknown_token_unknown_type_and_wrong_type(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        token = integration["link"].rstrip("/").rsplit("/", 1)[1]
        for type_name in TYPES:
            missing = h.client.post(f"/integrations/v1/{type_name}/not-a-token/", json={"alerts": [{}]})
            assert missing.status_code == 404
            assert missing.json() == {"error": "not_found", "detail": "no integration has this URL"}
        # An unknown type answers exactly like an unknown token: no hint which part was wrong.
        assert h.client.post(f"/integrations/v1/nosuchtype/{token}/", json={}).json() == missing.json()
        wrong = h.client.post(f"/integrations/v1/webhook/{token}/", json={"title": "x"})
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "wrong_integration_type"
        assert h.ok("GET", "incidents/")["count"] == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content_length", "chunked"])
def test_body_limit_is_inclusive_and_larger_is_413(database_url: str, chunked: bool) -> None:
    limit = 4096
    with harness(database_url, max_body_bytes=limit) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "webhook", "team_id": "T001"})

        def body(size: int) -> bytes:
            data = json.dumps({"title": "big", "text": ""}).encode()
            return data[:-2] + b"x" * (size - len(data)) + data[-2:]

        def post(data: bytes) -> Any:
            if not chunked:
                return send(h, integration, data)

            def stream() -> Iterator[bytes]:
                for start in range(0, len(data), 1000):
                    yield data[start : start + 1000]

            return h.client.post(
                path_of(integration), content=stream(), headers={"Content-Type": "application/json"}
            )

        assert len(body(limit)) == limit
        assert post(body(limit)).status_code == 200
        too_big = post(body(limit + 1))
        assert too_big.status_code == 413
        assert too_big.json()["error"] == "payload_too_large"
        assert "TOCSIN_MAX_BODY_BYTES" in too_big.json()["detail"]
        enqueue = h.client.post(
            "/v2/enqueue", content=body(limit + 1), headers={"Content-Type": "application/json"}
        )
        assert enqueue.status_code == 413
        assert h.ok("GET", "incidents/")["count"] == 1


def test_three_thousand_alerts_are_stored_whole_and_listed_briefly(
    database_url: str, fixtures_dir: Path
) -> None:
    payload = json.loads((fixtures_dir / "alertmanager" / "am_0.25_live_capture_firing.json").read_text())
    template = payload["alerts"][0]
    alerts = []
    for n in range(3000):
        alert = copy.deepcopy(template)
        alert["labels"]["instance"] = f"api-{n}"
        alert["fingerprint"] = f"{n:016x}"
        alerts.append(alert)
    payload["alerts"] = alerts
    body = json.dumps(payload).encode()
    assert 1_000_000 < len(body) < 5 * 1024 * 1024
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "alertmanager", "team_id": "T001"})
        answer = send(h, integration, body).json()
        assert answer["status"] == "created"
        incident = h.ok("GET", f"incidents/{answer['incident_id']}/")
        assert incident["alerts_count"] == 3000
        assert "Alerts: 3000 firing, 0 resolved" in incident["message"]
        assert incident["message"].rstrip().endswith("…and 2990 more")
        assert len(incident["message"]) < 10_000
        with h.runtime.db.unit() as uow:
            stored = uow.session.scalar(
                select(AlertPayload).where(AlertPayload.integration_id == integration["id"])
            )
            assert stored is not None
            assert stored.payload == payload


def test_media_types_and_unparseable_bodies(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "webhook", "team_id": "T001"})
        for media in (
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/html",
            "image/png",
        ):
            refused = send(h, integration, b'{"title": "x"}', media)
            assert refused.status_code == 415, media
            assert refused.json()["error"] == "unsupported_media_type"
        for media in ("application/json; charset=utf-8", "text/plain", "application/vnd.api+json"):
            assert ok(send(h, integration, json.dumps({"title": media}).encode(), media)), media
        missing_type = h.client.post(path_of(integration), content=b'{"title": "no type"}')
        assert missing_type.status_code == 200
        for broken in (b"", b"   ", b"{not json", b'{"a": 1', b"\xff\xfe{", b"[1, 2,]", b"9" * 5000):
            response = send(h, integration, broken)
            assert response.status_code == 400, broken[:20]
            assert response.json()["error"] == "invalid_json"


def test_invalid_utf8_is_replaced_not_refused(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": "webhook", "team_id": "T001"})
        response = send(h, integration, b'{"title": "caf\xe9 \xff\xfe down", "status": "firing"}')
        assert response.status_code == 200
        incident = h.ok("GET", f"incidents/{response.json()['incident_id']}/")
        assert incident["title"] == "caf\ufffd \ufffd\ufffd down"
        bom = send(h, integration, b'\xef\xbb\xbf{"title": "from PowerShell"}')
        assert bom.status_code == 200


@pytest.mark.parametrize("type_name", TYPES)
def test_values_no_database_stores_are_made_storable(database_url: str, type_name: str) -> None:
    # NUL (PostgreSQL text refuses it), lone surrogates (UTF-8 cannot encode them), NaN and infinities
    # (JSON columns refuse them): all valid input to Python's JSON reader, all once a 500.
    body = (
        b'{"title": "a\\u0000b\\ud800c", "message": "\\udfff", "status": "firing", "n": NaN, "big": 1e400,'
        b' "neg": -Infinity, "\\u0000key": "v", "ruleName": "rule\\u0000", "state": "alerting",'
        b' "alerts": [{"labels": {"alertname": "x\\u0000y", "sev\\ud800": "1"}, "annotations": {"summary": "\\ud83d"}}],'
        b' "event_action": "trigger", "dedup_key": "k\\u0000", "payload": {"summary": "s\\u0000", "custom_details": {"v": NaN}}}'
    )
    with harness(database_url) as h:
        seed_team(h, members=1)
        integration = h.ok("POST", "integrations/", {"type": type_name, "team_id": "T001"})
        response = send(h, integration, body)
        assert ok(response), response.text
        incident = h.ok("GET", f"incidents/{response.json()['incident_id']}/")
        assert "\x00" not in incident["title"]
        with h.runtime.db.unit() as uow:
            stored = uow.session.scalar(
                select(AlertPayload).where(AlertPayload.integration_id == integration["id"])
            )
            assert stored is not None
            assert (stored.payload["n"], stored.payload["big"], stored.payload["neg"]) == (
                "NaN",
                "Infinity",
                "-Infinity",
            )
            assert stored.payload["\ufffdkey"] == "v"
        h.queue.run_due()
        again = send(h, integration, body)
        assert again.json()["incident_id"] == response.json()["incident_id"]


def test_deep_nesting_is_refused_with_400(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        for type_name in TYPES:
            integration = h.ok("POST", "integrations/", {"type": type_name, "team_id": "T001"})
            for depth in (100_000, 5_000, 900, 129):
                inner = b"[" * depth + b"]" * depth
                body = b'{"title": "deep", "alerts": [{"labels": {}, "x": ' + inner + b"}]}"
                response = send(h, integration, body)
                assert response.status_code == 400, (type_name, depth)
                assert "nested" in response.json()["detail"]
            # Just inside the limit: stored, hashed and rendered without trouble.
            inner = b"[" * 120 + b"]" * 120
            body = (
                b'{"title": "deep", "alerts": [{"labels": {"alertname": "deep"}, "x": '
                + inner
                + b'}], "event_action": "trigger", "payload": {"summary": "deep", "custom_details": '
                + inner
                + b"}}"
            )
            assert ok(send(h, integration, body)), type_name
