"""ical schedules in virtual time: imported from a file or URL, refreshed when stale, and paging
from the last good copy when the feed breaks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from adapters.ical.fetch import IcalCalendarSource
from engine.services import calendar_sync, directory, oncall
from tests.support.harness import Harness, harness

ALLDAY = "oncall_allday_events_daily_rrule_with_override.ics"
START = datetime(2021, 1, 26, 12, tzinfo=UTC)

# The Grafana OnCall calendar names people as @user_a … @user_d in SUMMARY (fixtures README):
# user_d 08:00–17:00Z daily, replaced by user_c on the 27th; user_a all day on the 27th (UTC),
# user_b all day on the 27th and 28th.
ALLDAY_ANSWERS = [
    ("2021-01-26T10:00:00Z", ["UD"]),
    ("2021-01-27T10:00:00Z", ["UA", "UB", "UC"]),
    ("2021-01-27T20:00:00Z", ["UA", "UB"]),
    ("2021-01-28T10:00:00Z", ["UB", "UD"]),
    ("2021-01-28T20:00:00Z", ["UB"]),
    ("2021-01-29T10:00:00Z", ["UD"]),
]

OVERRIDES_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:cover-1\r
DTSTAMP:20210101T000000Z\r
DTSTART:20210126T100000Z\r
DTEND:20210126T110000Z\r
SUMMARY:Cover: user_c@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cover-2\r
DTSTAMP:20210101T000000Z\r
DTSTART:20210130T100000Z\r
DTEND:20210130T110000Z\r
SUMMARY:Someone we do not know\r
END:VEVENT\r
END:VCALENDAR\r
"""


@contextmanager
def ical_harness(database_url: str) -> Iterator[Harness]:
    with harness(database_url) as h:
        h.clock.set(START)
        h.ok("POST", "teams/", {"id": "T001", "name": "Platform"})
        for letter in "abcd":
            h.ok(
                "POST",
                "users/",
                {
                    "id": f"U{letter.upper()}",
                    "name": f"User {letter.upper()}",
                    "username": f"user_{letter}",
                    "email": f"user_{letter}@example.com",
                    "team_ids": ["T001"],
                },
            )
        yield h


def who(h: Harness, schedule_id: str, at: str) -> list[str]:
    answer = h.ok("GET", f"schedules/{schedule_id}/oncall/", params={"at": at})
    return [u["id"] for u in answer["users"]]


def create_from_file(h: Harness, path: Path) -> dict[str, Any]:
    body = {
        "id": "S-ical",
        "name": "Imported",
        "team_id": "T001",
        "type": "ical",
        "ical_url_primary": str(path),
    }
    created: dict[str, Any] = h.ok("POST", "schedules/", body)
    return created


def test_ical_schedule_from_a_fixture_file_matches_people_by_summary(
    database_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "rota.ics"
    shutil.copy(fixtures_dir / "ical" / ALLDAY, path)
    with ical_harness(database_url) as h:
        created = create_from_file(h, path)
        assert created["type"] == "ical" and created["shifts"] == []
        assert created["ical_error"] is None
        assert created["ical_fetched_at"] == "2021-01-26T12:00:00Z"
        assert created["on_call_now"] == ["UD"]
        for at, users in ALLDAY_ANSWERS:
            assert who(h, "S-ical", at) == users, at

        # The escalation engine's lookup reads the stored snapshot: no fetch, no iCal parser.
        with h.runtime.db.unit() as uow:
            assert oncall.oncall_user_ids(uow.session, "S-ical", START.replace(day=27, hour=10)) == [
                "UA",
                "UB",
                "UC",
            ]

        shifts = h.ok(
            "GET",
            "schedules/S-ical/final_shifts/",
            params={"start_date": "2021-01-27", "end_date": "2021-01-27"},
        )
        assert [(s["user_username"], s["shift_start"], s["shift_end"]) for s in shifts["results"]] == [
            ("user_a", "2021-01-27T00:00:00Z", "2021-01-28T00:00:00Z"),
            ("user_b", "2021-01-27T00:00:00Z", "2021-01-28T00:00:00Z"),
            ("user_c", "2021-01-27T08:00:00Z", "2021-01-27T17:00:00Z"),
        ]


def test_a_broken_feed_keeps_the_last_good_copy_and_says_why(
    database_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "rota.ics"
    shutil.copy(fixtures_dir / "ical" / ALLDAY, path)
    with ical_harness(database_url) as h:
        create_from_file(h, path)
        path.write_text("<html>502 Bad Gateway</html>")

        h.clock.advance(minutes=2)  # fresh enough: not fetched again
        assert h.ok("GET", "schedules/S-ical/")["ical_error"] is None

        h.clock.advance(minutes=4)  # stale: the read refreshes, the fetch fails, the copy stays
        stored = h.ok("GET", "schedules/S-ical/")
        assert stored["ical_error"].startswith(
            "ical_url_primary: not a usable calendar: not an iCalendar file"
        )
        assert "using the copy fetched at 2021-01-26T12:00:00Z" in stored["ical_error"]
        assert "502 Bad Gateway" not in stored["ical_error"]
        assert stored["ical_fetched_at"] == "2021-01-26T12:06:00Z"
        for at, users in ALLDAY_ANSWERS:
            assert who(h, "S-ical", at) == users, at

        path.unlink()
        h.clock.advance(minutes=5)
        assert calendar_sync.refresh_due_calendars(h.runtime.deps) == 1  # what the sweeper calls
        assert calendar_sync.refresh_due_calendars(h.runtime.deps) == 0
        assert "no such file" in h.ok("GET", "schedules/S-ical/")["ical_error"]
        assert who(h, "S-ical", "2021-01-27T10:00:00Z") == ["UA", "UB", "UC"]

        shutil.copy(fixtures_dir / "ical" / ALLDAY, path)
        h.clock.advance(minutes=5)
        healed = h.ok("GET", "schedules/S-ical/")
        assert healed["ical_error"] is None and healed["ical_fetched_at"] == "2021-01-26T12:16:00Z"

        # A new location is checked before it is accepted; the old one stays in place.
        refused = h.api("PATCH", "schedules/S-ical/", {"ical_url_primary": str(tmp_path / "missing.ics")})
        assert refused.status_code == 422 and refused.json()["field"] == "ical_url_primary"
        assert h.ok("GET", "schedules/S-ical/")["ical_url_primary"] == str(path)


def serve(feeds: dict[str, tuple[int, str]]) -> IcalCalendarSource:
    def handle(request: httpx.Request) -> httpx.Response:
        status, text = feeds.get(request.url.path, (404, "not found"))
        return httpx.Response(status, text=text, headers={"Content-Type": "text/calendar"})

    return IcalCalendarSource(transport=httpx.MockTransport(handle))


def test_feeds_over_http_with_an_overrides_calendar(database_url: str, fixtures_dir: Path) -> None:
    primary = (fixtures_dir / "ical" / ALLDAY).read_text()
    feeds = {"/primary.ics": (200, primary)}
    with ical_harness(database_url) as h:
        h.runtime.deps.calendars = serve(feeds)
        body = {
            "id": "S-web",
            "name": "From a URL",
            "type": "ical",
            "ical_url_primary": "https://cal.example/primary.ics",
            "ical_url_overrides": "webcal://cal.example/overrides.ics",
        }
        missing = h.api("POST", "schedules/", body)
        assert missing.status_code == 422
        assert missing.json()["field"] == "ical_url_overrides"
        assert "cal.example answered HTTP 404" in missing.json()["detail"]

        feeds["/overrides.ics"] = (200, OVERRIDES_ICS)
        created = h.ok("POST", "schedules/", body)
        assert created["ical_unmatched_events"] == [
            {
                "summary": "Someone we do not know",
                "start": "2021-01-30T10:00:00Z",
                "end": "2021-01-30T11:00:00Z",
                "calendar": "ical_url_overrides",
            }
        ]
        assert who(h, "S-web", "2021-01-26T10:30:00Z") == ["UC"]  # the override calendar beats user_d
        assert who(h, "S-web", "2021-01-26T11:30:00Z") == ["UD"]

        feeds["/primary.ics"] = (503, "try later")
        h.clock.advance(minutes=5)
        stored = h.ok("GET", "schedules/S-web/")
        assert stored["ical_error"].startswith("ical_url_primary: cal.example answered HTTP 503")
        assert "ical_url_overrides" not in stored["ical_error"]
        assert who(h, "S-web", "2021-01-26T11:30:00Z") == ["UD"]


def test_calendar_schedule_with_an_overrides_file_and_team_tokens(
    database_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    overrides = tmp_path / "overrides.ics"
    overrides.write_text(OVERRIDES_ICS)
    with ical_harness(database_url) as h:
        shift = {
            "type": "rolling_users",
            "users": ["UA"],
            "rotation_start": "2021-01-01T00:00:00Z",
            "frequency": "daily",
        }
        body = {"id": "S-cal", "name": "Calendar", "shifts": [shift], "ical_url_overrides": str(overrides)}
        h.ok("POST", "schedules/", body)
        assert who(h, "S-cal", "2021-01-26T10:30:00Z") == ["UC"]
        assert who(h, "S-cal", "2021-01-26T11:30:00Z") == ["UA"]
        cleared = h.ok("PATCH", "schedules/S-cal/", {"ical_url_overrides": None})
        assert cleared["ical_url_overrides"] is None
        assert who(h, "S-cal", "2021-01-26T10:30:00Z") == ["UA"]

        with h.runtime.db.unit() as uow:
            token = directory.create_token(uow.session, h.clock, "platform", "T001")
        scoped = {"Authorization": f"Bearer {token}"}
        by_path = {"name": "Sneaky", "type": "ical", "ical_url_primary": "/etc/hostname"}
        refused = h.api("POST", "schedules/", by_path, headers=scoped)
        assert refused.status_code == 403
        own = h.api("POST", "schedules/", {"name": "Ours", "shifts": [shift]}, headers=scoped)
        assert own.status_code == 201 and own.json()["team_id"] == "T001"
        assert h.api("GET", "schedules/S-cal/", headers=scoped).status_code == 404
        assert h.api("GET", "schedules/", headers=scoped).json()["count"] == 1
