"""Schedules in `tocsin apply`: the API's fields in YAML, idempotent, teams pointing at them."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.config.apply import ApplyError, apply_text
from tests.support.harness import harness

# Unquoted YAML on purpose: rotation_start reads as a timestamp and 09:00:00 as the number 32400.
CONFIG = """
teams:
  - id: T001
    name: Platform
    primary_schedule_id: S001
users:
  - {id: U001, name: Ana, username: ana, team_ids: [T001]}
  - {id: U002, name: Bob, username: bob, team_ids: [T001]}
  - {id: U003, name: Cy, username: cy, team_ids: [T001]}
schedules:
  - id: S001
    name: Primary On-Call
    team_id: T001
    type: calendar
    ical_url_primary: null
    time_zone: America/New_York
    shifts:
      - name: Weekday Daytime
        type: rolling_users
        users: [U001, U002, U003]
        rotation_start: 2026-02-10T09:00:00Z
        duration: 86400
        frequency: weekly
        week_start: monday
        by_day: [MO, TU, WE, TH, FR]
        start_time: 09:00:00
        end_time: 17:00:00
      - name: 24/7 Coverage
        type: rolling_users
        users: [U001, U002, U003]
        rotation_start: 2026-02-10T00:00:00Z
        duration: 604800
        frequency: weekly
  - id: S002
    name: Backup
    team_id: T001
    shifts:
      - {type: rolling_users, users: [U003], rotation_start: 2026-02-01T00:00:00Z, frequency: daily}
escalation_chains:
  - id: E001
    name: Production Escalation
    team_id: T001
    steps:
      - {type: notify_schedule, schedule_id: S002, important: true}
"""


def test_schedules_apply_idempotently_and_teams_point_at_them(database_url: str) -> None:
    with harness(database_url) as h:
        first = apply_text(h.runtime, CONFIG)
        assert [c.line() for c in first] == [
            "+ team T001",
            "+ user U001",
            "+ user U002",
            "+ user U003",
            "+ schedule S001",
            "+ schedule S002",
            "+ escalation_chain E001",
        ]
        assert h.ok("GET", "teams/T001/")["primary_schedule_id"] == "S001"
        stored = h.ok("GET", "schedules/S001/")
        assert stored["shifts"][0]["start_time"] == "09:00:00"
        assert stored["shifts"][0]["rotation_start"] == "2026-02-10T09:00:00Z"
        answer = h.ok("GET", "schedules/S001/oncall/", params={"at": "2026-02-16T15:00:00Z"})
        assert [u["id"] for u in answer["users"]] == ["U001", "U002"]

        h.clock.advance(days=3)  # who is on call changes; the configuration does not
        again = apply_text(h.runtime, CONFIG)
        assert {c.line()[0] for c in again} == {"="}

        changed = apply_text(h.runtime, CONFIG.replace("end_time: 17:00:00", "end_time: 18:00:00"))
        assert [c.line() for c in changed if c.action != "unchanged"] == ["~ schedule S001 (shifts)"]
        moved = apply_text(
            h.runtime, CONFIG.replace("primary_schedule_id: S001", "primary_schedule_id: S002")
        )
        assert [c.line() for c in moved if c.action != "unchanged"] == [
            "~ team T001 (primary_schedule_id)",
            "~ schedule S001 (shifts)",
        ]

        kept = CONFIG.split("  - id: S002")[0] + "escalation_chains: []\n"
        pruned = apply_text(
            h.runtime, kept.replace("primary_schedule_id: S002", "primary_schedule_id: S001"), prune=True
        )
        assert [c.line() for c in pruned if c.action == "delete"] == [
            "- escalation_chain E001",
            "- schedule S002",
        ]
        assert h.api("GET", "schedules/S002/").status_code == 404


def test_ical_schedules_in_yaml_fetch_only_new_locations(
    database_url: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "rota.ics"
    path.write_bytes(
        (fixtures_dir / "ical" / "oncall_allday_events_daily_rrule_with_override.ics").read_bytes()
    )
    text = f"schedules:\n  - id: S-ical\n    name: Imported\n    type: ical\n    ical_url_primary: {path}\n"
    with harness(database_url) as h:
        assert [c.line() for c in apply_text(h.runtime, text)] == ["+ schedule S-ical"]
        path.write_text("broken")  # an unchanged location is the refresher's business, not apply's
        assert [c.line() for c in apply_text(h.runtime, text)] == ["= schedule S-ical"]
        with pytest.raises(ApplyError, match=r"line 5: schedules\[0\]\.ical_url_primary: cannot fetch"):
            apply_text(h.runtime, text.replace("rota.ics", "other.ics"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("users: [U001, U002, U003]", "users: [U001, U009, U003]"),
            "line 20: schedules[0].shifts[0].users[1]: user 'U009'",
        ),
        (("end_time: 17:00:00", "end_time: 09:00:00"), "line 27: schedules[0].shifts[0].end_time"),
        (("time_zone: America/New_York", "time_zone: America/Gotham"), "line 16: schedules[0].time_zone"),
        (
            ("primary_schedule_id: S001", "primary_schedule_id: S404"),
            "line 5: teams[0].primary_schedule_id: schedule 'S404'",
        ),
        (("    type: calendar\n", "    type: paper\n"), "line 14: schedules[0].type"),
    ],
)
def test_invalid_schedules_apply_nothing(sqlite_url: str, change: tuple[str, str], expected: str) -> None:
    with harness(sqlite_url) as h:
        with pytest.raises(ApplyError) as error:
            apply_text(h.runtime, CONFIG.replace(*change))
        assert expected in str(error.value)
        assert h.ok("GET", "teams/")["count"] == 0
        assert h.ok("GET", "schedules/")["count"] == 0
