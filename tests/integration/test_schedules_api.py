"""The schedules API through real HTTP routes: SPEC 4.2 as written, on-call answers, overrides,
final shifts, gaps, handoffs, .ics feeds and 422s that name the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from tests.support.harness import ADMIN_TOKEN, Harness, harness, seed_team

# SPEC 4.2, from the source article, byte for byte.
SPEC_BODY = """
{"name": "Primary On-Call", "team_id": "T001", "type": "calendar", "ical_url_primary": null,
 "time_zone": "America/New_York",
 "shifts": [
  {"name": "Weekday Daytime", "type": "rolling_users", "users": ["U001", "U002", "U003"],
   "rotation_start": "2026-02-10T09:00:00Z", "duration": 86400, "frequency": "weekly",
   "week_start": "monday", "by_day": ["MO", "TU", "WE", "TH", "FR"],
   "start_time": "09:00:00", "end_time": "17:00:00"},
  {"name": "24/7 Coverage", "type": "rolling_users", "users": ["U001", "U002", "U003"],
   "rotation_start": "2026-02-10T00:00:00Z", "duration": 604800, "frequency": "weekly"}]}
"""
SPEC = json.loads(SPEC_BODY)

# Rows of the pure core's table (docs/schedules.md): instant, who is on call, when that set ends.
SPEC_ANSWERS = [
    ("2026-02-09T12:00:00Z", [], "2026-02-10T00:00:00Z"),
    ("2026-02-12T15:00:00Z", ["U001"], "2026-02-16T14:00:00Z"),
    ("2026-02-16T15:00:00Z", ["U001", "U002"], "2026-02-16T22:00:00Z"),
    ("2026-02-16T23:00:00Z", ["U001"], "2026-02-17T00:00:00Z"),
    ("2026-02-20T12:00:00Z", ["U002"], "2026-02-23T14:00:00Z"),
    ("2026-02-23T14:00:00Z", ["U002", "U003"], "2026-02-23T22:00:00Z"),
    ("2026-02-25T03:00:00Z", ["U003"], "2026-03-02T14:00:00Z"),
]


def spec_schedule(h: Harness) -> str:
    seed_team(h, members=3)
    response = h.client.post(
        "/api/v1/schedules/",
        content=SPEC_BODY.encode(),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def on_call(h: Harness, schedule_id: str, at: str | None = None) -> dict[str, Any]:
    params = {"at": at} if at else {}
    result: dict[str, Any] = h.ok("GET", f"schedules/{schedule_id}/oncall/", params=params)
    return result


def test_spec_example_as_written_answers_like_the_pure_core(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        stored = h.ok("GET", f"schedules/{schedule_id}/")
        assert stored["type"] == "calendar" and stored["time_zone"] == "America/New_York"
        assert [s["name"] for s in stored["shifts"]] == ["Weekday Daytime", "24/7 Coverage"]
        weekday = stored["shifts"][0]
        assert weekday["week_start"] == "MO" and weekday["by_day"] == ["MO", "TU", "WE", "TH", "FR"]
        assert (weekday["start_time"], weekday["end_time"]) == ("09:00:00", "17:00:00")
        for at, users, shift_end in SPEC_ANSWERS:
            answer = on_call(h, schedule_id, at)
            assert answer["at"] == at
            assert [u["id"] for u in answer["users"]] == users, at
            assert answer["shift_end"] == shift_end, at
        detail = on_call(h, schedule_id, "2026-02-16T15:00:00Z")["users"][1]
        assert detail == {"id": "U002", "name": "User 2", "email": "user2@example.com"}

        # `at` defaults to the injected clock: Mon 9 Feb 14:00Z, before the rotations start.
        now = on_call(h, schedule_id)
        assert now == {"at": "2026-02-09T14:00:00Z", "users": [], "shift_end": "2026-02-10T00:00:00Z"}
        h.clock.set(datetime(2026, 2, 16, 15, tzinfo=UTC))
        assert [u["id"] for u in on_call(h, schedule_id)["users"]] == ["U001", "U002"]
        assert h.ok("GET", f"schedules/{schedule_id}/")["on_call_now"] == ["U001", "U002"]


def test_crud_with_client_ids_and_team_scoping(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=2)
        body = {**copy.deepcopy(SPEC), "id": "S001"}
        for shift in body["shifts"]:
            shift["users"] = ["U001", "U002"]
        created = h.ok("POST", "schedules/", body)
        assert created["id"] == "S001"
        assert h.api("POST", "schedules/", body).status_code == 409
        assert h.ok("GET", "schedules/")["count"] == 1
        assert h.ok("GET", "schedules/", params={"name": "Nope"})["count"] == 0

        renamed = h.ok("PATCH", "schedules/S001/", {"name": "Primary", "time_zone": "Europe/Berlin"})
        assert renamed["name"] == "Primary" and len(renamed["shifts"]) == 2
        only_one = h.ok("PUT", "schedules/S001/", {"shifts": [body["shifts"][1]]})
        assert [s["name"] for s in only_one["shifts"]] == ["24/7 Coverage"]

        h.ok("PATCH", "teams/T001/", {"primary_schedule_id": "S001"})
        assert h.api("DELETE", "schedules/S001/").status_code == 204
        assert h.api("GET", "schedules/S001/").status_code == 404
        assert h.ok("GET", "teams/T001/")["primary_schedule_id"] is None


def test_overrides_change_who_is_on_call(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        path = f"schedules/{schedule_id}/overrides/"
        alone = h.api(
            "POST", path, {"user_id": "U003", "start": "2026-02-12T10:00:00Z", "end": "2026-02-12T12:00:00Z"}
        )
        assert alone.status_code == 201
        assert alone.json()["replaces_user_id"] is None
        assert [u["id"] for u in on_call(h, schedule_id, "2026-02-12T11:00:00Z")["users"]] == ["U003"]
        assert on_call(h, schedule_id, "2026-02-12T11:00:00Z")["shift_end"] == "2026-02-12T12:00:00Z"

        # A replace override takes over U001's time only: U002 keeps the daytime shift.
        cover = h.ok(
            "POST",
            path,
            {
                "id": "O-cover",
                "user_id": "U003",
                "start": "2026-02-16T00:00:00Z",
                "end": "2026-02-17T00:00:00Z",
                "replaces_user_id": "U001",
            },
        )
        assert cover["id"] == "O-cover"
        assert [u["id"] for u in on_call(h, schedule_id, "2026-02-16T15:00:00Z")["users"]] == ["U002", "U003"]

        # A naive time is wall-clock in the schedule's zone (New York, UTC-5).
        local = h.ok(
            "POST", path, {"user_id": "U002", "start": "2026-02-13T09:00", "end": "2026-02-13T10:00"}
        )
        assert (local["start"], local["end"]) == ("2026-02-13T14:00:00Z", "2026-02-13T15:00:00Z")

        listed = h.ok("GET", path)
        assert listed["count"] == 3
        starts = [o["start"] for o in listed["results"]]
        assert starts == ["2026-02-12T10:00:00Z", "2026-02-13T14:00:00Z", "2026-02-16T00:00:00Z"]
        assert h.api("DELETE", f"{path}O-cover/").status_code == 204
        assert h.api("DELETE", f"{path}O-cover/").status_code == 404
        assert [u["id"] for u in on_call(h, schedule_id, "2026-02-16T15:00:00Z")["users"]] == ["U001", "U002"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "U404", "start": "2026-02-12T10:00:00Z", "end": "2026-02-12T12:00:00Z"}, "user_id"),
        ({"user_id": "U001", "start": "2026-02-12T10:00:00Z", "end": "2026-02-12T09:00:00Z"}, "end"),
        ({"user_id": "U001", "start": "yesterday", "end": "2026-02-12T09:00:00Z"}, "start"),
        (
            {
                "user_id": "U001",
                "start": "2026-02-12T10:00:00Z",
                "end": "2026-02-12T12:00:00Z",
                "replaces_user_id": "U001",
            },
            "replaces_user_id",
        ),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    sqlite_url: str, body: dict[str, Any], field: str
) -> None:
    with harness(sqlite_url) as h:
        schedule_id = spec_schedule(h)
        response = h.api("POST", f"schedules/{schedule_id}/overrides/", body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert h.ok("GET", f"schedules/{schedule_id}/overrides/")["count"] == 0


def _spec_with(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(SPEC)
    change(body)
    return body


BAD_SCHEDULES = [
    (_spec_with(lambda b: b.update(time_zone="Mars/Olympus")), "time_zone"),
    (_spec_with(lambda b: b["shifts"][0].update(time_zone="Nowhere/Else")), "shifts[0].time_zone"),
    (_spec_with(lambda b: b["shifts"][0].update(end_time="25:00")), "shifts[0].end_time"),
    (_spec_with(lambda b: b["shifts"][0].update(end_time="09:00:00")), "shifts[0].end_time"),
    (_spec_with(lambda b: b["shifts"][1].update(users=[])), "shifts[1].users"),
    (_spec_with(lambda b: b["shifts"][0].update(users=["U001", "U404"])), "shifts[0].users[1]"),
    (_spec_with(lambda b: b["shifts"][1].update(users=["U001", ["U002", "U404"]])), "shifts[1].users[1][1]"),
    (_spec_with(lambda b: b["shifts"][0].update(by_days=["MO"])), "shifts[0].by_days"),
    (_spec_with(lambda b: b["shifts"][0].update(frequency="fortnightly")), "shifts[0].frequency"),
    (_spec_with(lambda b: b.update(team_id="T404")), "team_id"),
    (_spec_with(lambda b: b.update(type="paper")), "type"),
    (_spec_with(lambda b: b.update(ical_url_primary="https://example.com/x.ics")), "ical_url_primary"),
    ({"name": "Cal", "type": "ical"}, "ical_url_primary"),
    ({"name": "Cal", "type": "ical", "ical_url_primary": "/nonexistent/rota.ics"}, "ical_url_primary"),
    ({"name": "Cal", "type": "ical", "ical_url_primary": "gopher://old.example/rota"}, "ical_url_primary"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SCHEDULES)
def test_bad_schedules_are_refused_naming_the_field(
    sqlite_url: str, body: dict[str, Any], field: str
) -> None:
    with harness(sqlite_url) as h:
        seed_team(h, members=3)
        response = h.api("POST", "schedules/", body)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid"
        assert response.json()["field"] == field
        assert h.ok("GET", "schedules/")["count"] == 0


def test_unknown_users_are_all_listed(database_url: str) -> None:
    with harness(database_url) as h:
        seed_team(h, members=1)
        response = h.api("POST", "schedules/", SPEC)
        assert response.status_code == 422
        assert response.json()["field"] == "shifts[0].users[1]"
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == [
            "shifts[0].users[1]",
            "shifts[0].users[2]",
            "shifts[1].users[1]",
            "shifts[1].users[2]",
        ]


def test_final_shifts_use_grafana_oncall_names_and_inclusive_utc_days(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        path = f"schedules/{schedule_id}/final_shifts/"
        day = h.ok("GET", path, params={"start_date": "2026-02-16", "end_date": "2026-02-16"})
        assert day["count"] == 2
        assert day["results"] == [
            {
                "user_pk": "U001",
                "user_email": "user1@example.com",
                "user_username": "user1",
                "shift_start": "2026-02-16T00:00:00Z",
                "shift_end": "2026-02-17T00:00:00Z",
            },
            {
                "user_pk": "U002",
                "user_email": "user2@example.com",
                "user_username": "user2",
                "shift_start": "2026-02-16T14:00:00Z",
                "shift_end": "2026-02-16T22:00:00Z",
            },
        ]
        month = h.ok(
            "GET", path, params={"start_date": "2026-02-01", "end_date": "2026-02-28", "page_size": 3}
        )
        assert month["count"] == 5 and len(month["results"]) == 3 and month["next"]

        too_long = h.api("GET", path, params={"start_date": "2026-01-01", "end_date": "2027-01-02"})
        assert too_long.status_code == 422 and too_long.json()["field"] == "end_date"
        backwards = h.api("GET", path, params={"start_date": "2026-02-10", "end_date": "2026-02-09"})
        assert backwards.status_code == 422 and backwards.json()["field"] == "end_date"
        missing = h.api("GET", path, params={"start_date": "2026-02-10"})
        assert missing.status_code == 422 and missing.json()["field"] == "end_date"
        leap_year = h.api("GET", path, params={"start_date": "2028-01-01", "end_date": "2028-12-31"})
        assert leap_year.status_code == 200


def test_gaps_and_handoffs(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        gaps = h.ok("GET", f"schedules/{schedule_id}/gaps/")
        assert gaps["start"] == "2026-02-09T14:00:00Z" and gaps["end"] == "2026-02-23T14:00:00Z"
        assert gaps["gaps"] == [
            {"start": "2026-02-09T14:00:00Z", "end": "2026-02-10T00:00:00Z", "seconds": 36000}
        ]
        assert h.api("GET", f"schedules/{schedule_id}/gaps/", params={"days": 0}).status_code == 422

        found = h.ok(
            "GET",
            f"schedules/{schedule_id}/handoffs/",
            params={"start": "2026-02-16T00:00:00Z", "end": "2026-02-17T12:00:00Z"},
        )
        summary = [
            (x["at"], [u["id"] for u in x["before"]], [u["id"] for u in x["after"]])
            for x in found["handoffs"]
        ]
        assert summary == [
            ("2026-02-16T14:00:00Z", ["U001"], ["U001", "U002"]),
            ("2026-02-16T22:00:00Z", ["U001", "U002"], ["U001"]),
            ("2026-02-17T00:00:00Z", ["U001"], ["U002"]),
        ]
        default = h.ok("GET", f"schedules/{schedule_id}/handoffs/")
        assert default["end"] == "2026-02-16T14:00:00Z"
        assert default["handoffs"][0]["at"] == "2026-02-10T00:00:00Z"
        wide = h.api("GET", f"schedules/{schedule_id}/handoffs/", params={"end": "2028-01-01T00:00:00Z"})
        assert wide.status_code == 422 and wide.json()["field"] == "end"


def test_export_ics_parses_back_and_accepts_a_token_parameter(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        h.clock.set(datetime(2026, 2, 20, 12, tzinfo=UTC))
        response = h.api("GET", f"schedules/{schedule_id}/export.ics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.text)
        assert str(calendar["X-WR-CALNAME"]) == "Primary On-Call"
        events = [
            (str(e["X-TOCSIN-USER-ID"]), e["DTSTART"].dt, e["DTEND"].dt) for e in calendar.walk("VEVENT")
        ]
        start, end = h.clock.now() - timedelta(days=30), h.clock.now() + timedelta(days=90)
        expected = h.ok(
            "GET",
            f"schedules/{schedule_id}/final_shifts/",
            params={"start_date": "2026-01-21", "end_date": "2026-05-21", "page_size": 500},
        )["results"]
        inside = [
            (
                s["user_pk"],
                max(datetime.fromisoformat(s["shift_start"]), start),
                min(datetime.fromisoformat(s["shift_end"]), end),
            )
            for s in expected
            if datetime.fromisoformat(s["shift_end"]) > start
            and datetime.fromisoformat(s["shift_start"]) < end
        ]
        assert events == inside
        assert events[0] == ("U001", datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 2, 17, tzinfo=UTC))
        assert str(next(iter(calendar.walk("VEVENT")))["SUMMARY"]) == "On call: User 1"

        # Calendar apps cannot send headers: the same token works as ?token=.
        by_query = h.client.get(f"/api/v1/schedules/{schedule_id}/export.ics", params={"token": ADMIN_TOKEN})
        assert by_query.status_code == 200 and by_query.text == response.text
        wrong = h.client.get(f"/api/v1/schedules/{schedule_id}/export.ics", params={"token": "nope"})
        assert wrong.status_code == 401
        assert h.client.get(f"/api/v1/schedules/{schedule_id}/export.ics").status_code == 401
        # Only the feeds take a token in the URL.
        assert (
            h.client.get(f"/api/v1/schedules/{schedule_id}/", params={"token": ADMIN_TOKEN}).status_code
            == 401
        )


def test_user_feed_has_that_users_shifts_across_schedules(database_url: str) -> None:
    with harness(database_url) as h:
        schedule_id = spec_schedule(h)
        h.ok(
            "POST",
            "schedules/",
            {
                "id": "S-backup",
                "name": "Backup",
                "shifts": [
                    {
                        "type": "single_event",
                        "users": ["U002"],
                        "rotation_start": "2026-02-11T00:00:00Z",
                        "duration": 3600,
                    }
                ],
            },
        )
        response = h.client.get("/api/v1/users/U002/schedule.ics", params={"token": ADMIN_TOKEN})
        assert response.status_code == 200
        calendar = icalendar.Calendar.from_ical(response.text)
        events = list(calendar.walk("VEVENT"))
        assert {str(e["X-TOCSIN-USER-ID"]) for e in events} == {"U002"}
        assert [(str(e["SUMMARY"]), e["DTSTART"].dt) for e in events][:2] == [
            ("On call: Backup", datetime(2026, 2, 11, tzinfo=UTC)),
            ("On call: Primary On-Call", datetime(2026, 2, 16, 14, tzinfo=UTC)),
        ]
        assert len({str(e["UID"]) for e in events}) == len(events)
        assert schedule_id
        assert (
            h.client.get("/api/v1/users/U404/schedule.ics", params={"token": ADMIN_TOKEN}).status_code == 404
        )
