"""iCal import against every calendar in the shared fixtures, with the occurrences its README lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.ical import UnmatchedEvent, directory_matcher, parse_ical_shifts
from engine.errors import ValidationFailed
from engine.model.schedule import Override, Schedule, ShiftInterval
from engine.rules.oncall import on_call_at
from tests.support.fixtures import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "ical"
CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def spans(intervals: tuple[ShiftInterval, ...]) -> list[tuple[tuple[str, ...], datetime, datetime]]:
    return [(i.users, i.start, i.end) for i in intervals]


def test_every_fixture_calendar_is_covered_here() -> None:
    tested = {
        "oncall_allday_events_daily_rrule_with_override.ics",
        "weekly_count8_exdate_utc_europe_berlin_dst.ics",
        "weekly_byday_exdates_america_chicago.ics",
        "daily_moved_occurrences_recurrence_id_europe_berlin.ics",
        "goalert_oncall_shifts_export.ics",
    }
    assert {p.name for p in FIXTURES.glob("*.ics")} == tested


def test_grafana_calendar_with_all_day_events_and_a_recurrence_id_override() -> None:
    match = directory_matcher({"UA": ["user_a"], "UB": ["user_b"], "UC": ["user_c"], "UD": ["user_d"]})
    parsed = parse_ical_shifts(
        fixture("oncall_allday_events_daily_rrule_with_override.ics"),
        utc("2021-01-26T00:00"),
        utc("2021-01-29T00:00"),
        match,
    )
    assert spans(parsed.intervals) == [
        (("UD",), utc("2021-01-26T08:00"), utc("2021-01-26T17:00")),
        (("UA",), utc("2021-01-27T00:00"), utc("2021-01-28T00:00")),  # all-day: a UTC day
        (("UB",), utc("2021-01-27T00:00"), utc("2021-01-29T00:00")),  # DTEND is exclusive
        (("UC",), utc("2021-01-27T08:00"), utc("2021-01-27T17:00")),  # RECURRENCE-ID replaced user_d
        (("UD",), utc("2021-01-28T08:00"), utc("2021-01-28T17:00")),
    ]
    assert parsed.unmatched == ()
    schedule = Schedule(intervals=parsed.intervals)
    assert on_call_at(schedule, utc("2021-01-27T10:00")) == ("UA", "UB", "UC")
    assert on_call_at(schedule, utc("2021-01-28T20:00")) == ("UB",)
    assert on_call_at(schedule, utc("2021-01-29T00:00")) == ()


def test_weekly_count_with_utc_exdates_against_a_berlin_start_across_dst() -> None:
    parsed = parse_ical_shifts(
        fixture("weekly_count8_exdate_utc_europe_berlin_dst.ics"),
        utc("2019-01-01T00:00"),
        utc("2020-01-01T00:00"),
        directory_matcher({"U6": ["test6"]}),
    )
    starts = [i.start for i in parsed.intervals]
    assert starts == [
        utc("2019-03-03T23:30"),
        utc("2019-03-17T23:30"),
        utc("2019-03-31T22:30"),
        utc("2019-04-07T22:30"),
        utc("2019-04-14T22:30"),
        utc("2019-04-21T22:30"),
    ]
    assert {(s.astimezone(BERLIN).hour, s.astimezone(BERLIN).minute) for s in starts} == {(0, 30)}
    assert {i.end - i.start for i in parsed.intervals} == {timedelta(minutes=30)}


def test_weekly_byday_chicago_calendar_with_thanksgiving_exdates() -> None:
    match = directory_matcher({f"E{n}": [f"Event#{n}"] for n in range(1, 5)})
    ics = fixture("weekly_byday_exdates_america_chicago.ics")
    friday = parse_ical_shifts(
        ics,
        datetime(2020, 12, 11, 10, tzinfo=CHICAGO),
        datetime(2020, 12, 11, 15, tzinfo=CHICAGO),
        match,
    )
    assert [i.users for i in friday.intervals] == [("E2",), ("E3",), ("E4",)]  # the upstream test's 3 events

    event1 = [
        i.start
        for i in parse_ical_shifts(ics, utc("2020-11-20T00:00"), utc("2021-03-20T00:00"), match).intervals
        if i.users == ("E1",)
    ]
    assert all(s.astimezone(CHICAGO).strftime("%H:%M") == "08:15" for s in event1)
    assert utc("2021-03-12T14:15") in event1
    assert utc("2021-03-15T13:15") in event1  # DST began on 2021-03-14
    thanksgiving_week = [
        s.date().isoformat() for s in event1 if utc("2020-11-22T00:00") < s < utc("2020-11-30T00:00")
    ]
    assert thanksgiving_week == ["2020-11-23", "2020-11-24"]  # 26th and 27th are EXDATEs


def test_recurrence_ids_that_move_occurrences() -> None:
    match = directory_matcher({"NEW": ["New Event"], "T7": ["test7"]})
    parsed = parse_ical_shifts(
        fixture("daily_moved_occurrences_recurrence_id_europe_berlin.ics"),
        utc("2019-03-01T00:00"),
        utc("2019-04-01T00:00"),
        match,
    )
    new_event = [i for i in parsed.intervals if i.users == ("NEW",)]
    assert [(i.start.astimezone(BERLIN).day, i.start.astimezone(BERLIN).hour) for i in new_event] == [
        (7, 2),
        (8, 1),
        (9, 3),
        (10, 2),
    ]
    assert {i.end - i.start for i in new_event} == {timedelta(hours=1)}  # DTEND wins over DURATION:PT0S
    test7 = [i.start for i in parsed.intervals if i.users == ("T7",)]
    assert [s.astimezone(BERLIN).day for s in test7] == [18, 19, 20]  # "test7 - edited" still names test7


def test_an_exported_on_call_feed_and_events_that_name_nobody() -> None:
    ics = fixture("goalert_oncall_shifts_export.ics")
    expected = [
        (utc("2020-01-01T08:00"), utc("2020-01-15T08:00")),
        (utc("2020-02-01T08:00"), utc("2020-02-15T08:00")),
    ]
    nobody = parse_ical_shifts(ics, utc("2019-12-01T00:00"), utc("2020-03-01T00:00"), lambda _: None)
    assert nobody.intervals == ()
    assert nobody.unmatched == (
        UnmatchedEvent("On-Call (GoAlert: Sched)", *expected[0]),
        UnmatchedEvent("On-Call (GoAlert: Sched) Begins*", *expected[1]),
    )
    named = parse_ical_shifts(
        ics, utc("2019-12-01T00:00"), utc("2020-03-01T00:00"), directory_matcher({"S": ["Sched"]})
    )
    assert spans(named.intervals) == [(("S",), *span) for span in expected]


CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
X-WR-TIMEZONE:Europe/Berlin\r
{events}END:VCALENDAR\r
"""


def calendar(*events: str) -> str:
    return CALENDAR.format(events="".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events))


def test_attendees_descriptions_levels_floating_times_and_cancellations() -> None:
    ics = calendar(
        "UID:1\r\nDTSTART:20260301T090000\r\nDTEND:20260301T170000\r\nSUMMARY:[L2] primary\r\n"
        "ATTENDEE;CN=Ana:mailto:ana@example.com\r\nATTENDEE:mailto:bob@example.com",
        "UID:2\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nSUMMARY:handover\r\n"
        "DESCRIPTION:covering for @carol\\, thanks!",
        "UID:3\r\nDTSTART:20260303T090000Z\r\nDTEND:20260303T100000Z\r\nSUMMARY:@carol\r\nSTATUS:CANCELLED",
    )
    match = directory_matcher({"UA": ["ana@example.com"], "UB": ["bob@example.com"], "UC": ["carol"]})
    parsed = parse_ical_shifts(ics, utc("2026-03-01T00:00"), utc("2026-03-05T00:00"), match)
    assert parsed.intervals == (
        # Floating times are read in X-WR-TIMEZONE (Berlin, UTC+1 in March).
        ShiftInterval(("UA", "UB"), utc("2026-03-01T08:00"), utc("2026-03-01T16:00"), priority_level=2),
        ShiftInterval(("UC",), utc("2026-03-02T09:00"), utc("2026-03-02T10:00")),
    )


def test_window_edges_and_default_level() -> None:
    ics = calendar("UID:1\r\nDTSTART;VALUE=DATE:20260301\r\nSUMMARY:ana\r\nRRULE:FREQ=DAILY;COUNT=5")
    parsed = parse_ical_shifts(
        ics,
        utc("2026-03-02T23:00"),
        utc("2026-03-04T00:00"),
        directory_matcher({"UA": ["ana"]}),
        priority_level=1,
    )
    # A DTEND-less all-day event lasts its one day.
    assert parsed.intervals == (
        ShiftInterval(("UA",), utc("2026-03-02T00:00"), utc("2026-03-03T00:00"), 1),
        ShiftInterval(("UA",), utc("2026-03-03T00:00"), utc("2026-03-04T00:00"), 1),
    )


@pytest.mark.parametrize("bad", [b"", b"not a calendar", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"])
def test_unreadable_calendars_are_validation_errors(bad: bytes | str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_ical_shifts(bad, utc("2026-03-01T00:00"), utc("2026-03-02T00:00"), lambda _: None)
    assert raised.value.field == "ical"


def test_imported_calendar_combines_with_overrides() -> None:
    ics = calendar("UID:1\r\nDTSTART:20260301T000000Z\r\nDTEND:20260308T000000Z\r\nSUMMARY:ana")
    parsed = parse_ical_shifts(
        ics, utc("2026-03-01T00:00"), utc("2026-03-08T00:00"), directory_matcher({"UA": ["ana"]})
    )
    schedule = Schedule(
        intervals=parsed.intervals,
        overrides=(Override("UB", utc("2026-03-03T00:00"), utc("2026-03-04T00:00"), replaces_user_id="UA"),),
    )
    assert on_call_at(schedule, utc("2026-03-02T12:00")) == ("UA",)
    assert on_call_at(schedule, utc("2026-03-03T12:00")) == ("UB",)
