"""REST API basics: auth, errors, pagination, teams and users CRUD with client-supplied ids."""

from __future__ import annotations

import json

from tests.support.harness import harness, seed_team


def test_auth_required_and_bare_token_accepted(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        assert h.client.get("/api/v1/teams/").status_code == 401
        bad = h.client.get("/api/v1/teams/", headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401
        assert bad.json() == {"error": "unauthorized", "detail": "invalid API token"}
        bare = h.client.get("/api/v1/teams/", headers={"Authorization": "test-admin-token"})
        assert bare.status_code == 200


def test_team_and_user_crud(database_url: str) -> None:
    with harness(database_url) as h:
        seeded = seed_team(h, members=3)
        assert seeded["team"]["id"] == "T001"
        assert seeded["users"][0]["team_ids"] == ["T001"]
        listing = h.ok("GET", "users/", params={"page_size": 2})
        assert listing["count"] == 3
        assert len(listing["results"]) == 2
        assert listing["next"] is not None and "page=2" in listing["next"]
        assert listing["previous"] is None
        page2 = h.ok("GET", "users/", params={"page": 2, "page_size": 2})
        assert [u["id"] for u in page2["results"]] == ["U003"]

        updated = h.ok("PATCH", "users/U002/", {"name": "Ana", "phone_number": "+15555550100"})
        assert updated["name"] == "Ana"
        assert updated["phone_verified"] is False

        duplicate = h.api("POST", "teams/", {"id": "T001", "name": "Other"})
        assert duplicate.status_code == 409
        unknown_field = h.api("POST", "teams/", {"id": "T002", "name": "X", "colour": "red"})
        assert unknown_field.status_code == 422
        assert unknown_field.json()["field"] == "colour"
        wrong_type = h.api("POST", "users/", {"id": "U9", "name": "X", "username": 5})
        assert wrong_type.status_code == 422
        assert wrong_type.json()["field"] == "username"
        unknown_team = h.api(
            "POST", "users/", {"id": "U9", "name": "X", "username": "x", "team_ids": ["T404"]}
        )
        assert unknown_team.status_code == 422
        assert unknown_team.json()["field"] == "team_ids[0]"
        assert h.api("GET", "users/U9/").status_code == 404

        channels = {
            "user_id": "U001",
            "notification_channels": [
                {"type": "slack", "slack_user_id": "U123456", "important": False},
                {"type": "sms", "phone_number": "+1234567890", "important": True},
                {"type": "phone_call", "phone_number": "+1234567890", "important": True},
            ],
            "notification_timing": {"default_notification_delay": 0, "important_notification_delay": 0},
        }
        stored = h.ok("PUT", "users/U001/notification_channels/", channels)
        assert stored["notification_channels"][1] == {
            "type": "sms",
            "phone_number": "+1234567890",
            "important": True,
        }
        assert h.ok("GET", "users/U001/notification_channels/") == stored

        assert h.api("DELETE", "users/U003/").status_code == 204
        assert h.api("GET", "users/U003/").status_code == 404


def test_health_and_openapi(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        assert h.client.get("/healthz").json() == {"status": "ok"}
        ready = h.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"
        spec = h.client.get("/openapi.json").json()
        assert "/api/v1/teams/" in spec["paths"]
        assert "/integrations/v1/{type_name}/{token}/" in spec["paths"]


def test_a_slack_channel_name_is_refused_with_how_to_find_the_id(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        bad = h.api("POST", "teams/", {"id": "T9", "name": "Ops", "slack_channel_id": "#ops"})
        assert bad.status_code == 422
        assert "not a Slack channel ID" in json.dumps(bad.json())
        assert h.api("GET", "teams/T9/").status_code == 404  # nothing stored
        assert h.ok("POST", "teams/", {"id": "T9", "name": "Ops", "slack_channel_id": "C0123ABCD"})
        assert h.api("PATCH", "teams/T9/", {"slack_channel_id": "general"}).status_code == 422
        assert h.ok("GET", "teams/T9/")["slack_channel_id"] == "C0123ABCD"


def test_a_providers_urls_say_it_is_not_configured(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        seed_team(h, members=1)
        for path, provider in (
            ("/slack/events", "Slack"),
            ("/telegram/webhook", "Telegram"),
            ("/api/v1/users/U001/telegram_link_code/", "Telegram"),
            ("/api/v1/users/U001/verify_phone/", "Twilio"),
            ("/api/v1/users/U001/test_call/", "Twilio"),
            ("/twilio/sms", "Twilio"),
        ):
            answer = h.client.post(path, json={})
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"] == "not_configured"
            assert answer.json()["detail"].startswith(
                f"{provider} is not configured on this Tocsin: set TOCSIN_"
            )
        assert h.client.post("/slack/nothing").status_code == 404


def test_processes_starting_together_share_the_bootstrap_token(postgres_url: str) -> None:
    """`tocsin serve` and `tocsin worker` started at once both create TOCSIN_API_TOKEN's row."""
    import threading

    from adapters.runtime import _ensure_bootstrap_token

    with harness(postgres_url) as h:
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def boot() -> None:
            start.wait()
            try:
                _ensure_bootstrap_token(h.runtime, "shared-bootstrap-token")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=boot) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        answer = h.client.get("/api/v1/teams/", headers={"Authorization": "Bearer shared-bootstrap-token"})
        assert answer.status_code == 200


def test_a_body_that_is_not_json_and_a_bad_email_get_clear_errors(sqlite_url: str) -> None:
    with harness(sqlite_url) as h:
        broken = h.client.post(
            "/api/v1/teams/",
            content=b'{"id": "T1", name}',
            headers={"Authorization": "Bearer test-admin-token", "Content-Type": "application/json"},
        )
        assert broken.status_code == 400
        assert broken.json()["error"] == "invalid_json"
        assert broken.json()["detail"].startswith("the request body is not valid JSON near character")
        seed_team(h, members=0)
        bad = h.api("POST", "users/", {"id": "U9", "name": "X", "username": "x", "email": "not-an-email"})
        assert bad.status_code == 422 and "is not an e-mail address" in bad.json()["detail"]
        assert h.api("GET", "users/U9/").status_code == 404
