"""Rendering final shifts to .ics: one VEVENT per shift, stable UIDs, CRLF, and a clean round trip."""

from __future__ import annotations

from datetime import UTC, datetime, time

import icalendar

from adapters.ical import directory_matcher, parse_ical_shifts, render_ics, shift_uid
from engine.model.schedule import FinalShift, Frequency, Override, Schedule, Shift, ShiftType, Weekday
from engine.rules.oncall import final_shifts

STAMP = datetime(2026, 3, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule() -> Schedule:
    days = Shift(
        ShiftType.ROLLING_USERS,
        (("U001",), ("U002",)),
        utc("2026-03-02T00:00"),
        Frequency.DAILY,
        by_day=(Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR),
        start_time=time(9),
        end_time=time(17),
        time_zone="Europe/Paris",
    )
    cover = Override("U003", utc("2026-03-03T10:00"), utc("2026-03-03T12:00"))
    return Schedule(shifts=(days,), overrides=(cover,))


def test_one_vevent_per_final_shift_with_crlf_and_utc_times() -> None:
    shifts = final_shifts(schedule(), utc("2026-03-02T00:00"), utc("2026-03-05T00:00"))
    text = render_ics(
        shifts, calendar_id="S001", generated_at=STAMP, calendar_name="Primary", user_labels={"U001": "Ana"}
    )
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(shifts) == 5  # Tue is cut in three by the override
    assert [(e["DTSTART"].dt, e["DTEND"].dt) for e in events] == [(s.start, s.end) for s in shifts]
    assert str(events[0]["SUMMARY"]) == "On call: Ana"
    assert str(events[1]["SUMMARY"]) == "On call: U002"
    assert [str(e["X-TOCSIN-USER-ID"]) for e in events] == [s.user_id for s in shifts]
    assert "DTSTART:20260302T080000Z" in text
    assert str(calendar["X-WR-CALNAME"]) == "Primary"


def test_uids_are_stable_and_distinct() -> None:
    shifts = final_shifts(schedule(), utc("2026-03-02T00:00"), utc("2026-03-05T00:00"))
    first = render_ics(shifts, calendar_id="S001", generated_at=STAMP)
    again = render_ics(list(reversed(shifts)), calendar_id="S001", generated_at=STAMP)
    assert first == again
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(first).walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert uids[0] == shift_uid("S001", shifts[0])
    assert shift_uid("S002", shifts[0]) != uids[0]
    moved = FinalShift(shifts[0].user_id, shifts[0].start, utc("2026-03-02T12:00"))
    assert shift_uid("S001", moved) != uids[0]


def test_an_exported_feed_imports_back_to_the_same_shifts() -> None:
    start, end = utc("2026-03-02T00:00"), utc("2026-03-09T00:00")
    shifts = final_shifts(schedule(), start, end)
    text = render_ics(shifts, calendar_id="S001", generated_at=STAMP)
    match = directory_matcher({u: [] for u in ("U001", "U002", "U003")})
    parsed = parse_ical_shifts(text, start, end, match)
    assert [(i.users, i.start, i.end) for i in parsed.intervals] == [
        ((s.user_id,), s.start, s.end) for s in shifts
    ]


def test_an_empty_schedule_is_an_empty_calendar() -> None:
    text = render_ics([], calendar_id="S001", generated_at=STAMP)
    assert list(icalendar.Calendar.from_ical(text).walk("VEVENT")) == []
