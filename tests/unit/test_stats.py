"""Incident statistics against numbers worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ValidationFailed
from engine.rules.stats import IncidentFacts, Metrics, StatsPeriod, incident_stats, metrics

NEW_YORK = ZoneInfo("America/New_York")  # EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(
    id: str,
    created: str,
    *,
    team: str | None = "T1",
    integration: str | None = "I1",
    ack_after: int | None = None,
    resolve_after: int | None = None,
    escalated: bool = False,
) -> IncidentFacts:
    opened = at(created)
    return IncidentFacts(
        id=id,
        team_id=team,
        integration_id=integration,
        created_at=opened,
        acknowledged_at=None if ack_after is None else opened + timedelta(seconds=ack_after),
        resolved_at=None if resolve_after is None else opened + timedelta(seconds=resolve_after),
        escalated=escalated,
    )


# Local days in New York, across the spring-forward night of 2026-03-08.
INCIDENTS = [
    # Sat 7 Mar 09:00 EST.
    incident("A", "2026-03-07T14:00:00", team="T1", integration="I1", ack_after=300, resolve_after=1800),
    # Sat 7 Mar 23:30 EST, although Sunday in UTC.
    incident(
        "B",
        "2026-03-08T04:30:00",
        team="T1",
        integration="I2",
        ack_after=600,
        resolve_after=3600,
        escalated=True,
    ),
    # Sun 8 Mar 03:30 EDT (after the jump; 02:00 EST = 07:00Z). Resolved without an acknowledgement.
    incident("C", "2026-03-08T07:30:00", team="T2", integration="I1", resolve_after=900),
    # Mon 9 Mar 09:00 EDT, no team, acknowledged and still open.
    incident("D", "2026-03-09T13:00:00", team=None, integration="I1", ack_after=120, escalated=True),
    # Mon 9 Mar 23:30 EDT, although Tuesday in UTC. Acknowledged and resolved at once.
    incident("E", "2026-03-10T03:30:00", team="T2", integration="I2", ack_after=60, resolve_after=60),
    # Fri 6 Mar 23:00 EST: before the period, although Saturday in UTC.
    incident("F", "2026-03-07T04:00:00", team="T1", integration="I1", ack_after=1, resolve_after=1),
    # Wed 11 Mar 00:30 EDT: after the period.
    incident("G", "2026-03-11T04:30:00", team="T1", integration="I1", ack_after=1, resolve_after=1),
]
PERIOD = StatsPeriod(date(2026, 3, 7), date(2026, 3, 10), NEW_YORK)


def test_overall_numbers() -> None:
    result = incident_stats(INCIDENTS, PERIOD).as_dict()

    # In the period: A, B, C, D, E (F and G fall outside in New York time).
    assert result["incidents_total"] == 5
    # Acknowledged: A 300, B 600, D 120, E 60 -> (300 + 600 + 120 + 60) / 4 = 1080 / 4 = 270.
    # C was resolved without an acknowledgement and does not count.
    assert result["mtta_seconds"] == 270.0
    # Resolved: A 1800, B 3600, C 900, E 60 -> 6360 / 4 = 1590. D is still open.
    assert result["mttr_seconds"] == 1590.0
    # Escalated: B and D -> 2 / 5 = 0.4.
    assert result["escalation_frequency"] == 0.4


def test_days_are_local_and_empty_days_are_listed() -> None:
    result = incident_stats(INCIDENTS, PERIOD).as_dict()

    assert result["incidents_per_day"] == [
        {"date": "2026-03-07", "count": 2},  # A, B
        {"date": "2026-03-08", "count": 1},  # C
        {"date": "2026-03-09", "count": 2},  # D, E
        {"date": "2026-03-10", "count": 0},
    ]


def test_by_team() -> None:
    result = incident_stats(INCIDENTS, PERIOD).as_dict()

    assert result["by_team"] == [
        # A, B: MTTA (300 + 600) / 2 = 450; MTTR (1800 + 3600) / 2 = 2700; escalated 1 / 2.
        {
            "team_id": "T1",
            "mtta_seconds": 450.0,
            "mttr_seconds": 2700.0,
            "incidents_total": 2,
            "escalation_frequency": 0.5,
        },
        # C, E: MTTA only E = 60; MTTR (900 + 60) / 2 = 480; escalated 0 / 2.
        {
            "team_id": "T2",
            "mtta_seconds": 60.0,
            "mttr_seconds": 480.0,
            "incidents_total": 2,
            "escalation_frequency": 0.0,
        },
        # D alone, listed last: MTTA 120; never resolved; escalated 1 / 1.
        {
            "team_id": None,
            "mtta_seconds": 120.0,
            "mttr_seconds": None,
            "incidents_total": 1,
            "escalation_frequency": 1.0,
        },
    ]


def test_by_integration() -> None:
    result = incident_stats(INCIDENTS, PERIOD).as_dict()

    assert result["by_integration"] == [
        # A, C, D: MTTA (300 + 120) / 2 = 210; MTTR (1800 + 900) / 2 = 1350; escalated 1 / 3 = 0.3333.
        {
            "integration_id": "I1",
            "mtta_seconds": 210.0,
            "mttr_seconds": 1350.0,
            "incidents_total": 3,
            "escalation_frequency": 0.3333,
        },
        # B, E: MTTA (600 + 60) / 2 = 330; MTTR (3600 + 60) / 2 = 1830; escalated 1 / 2.
        {
            "integration_id": "I2",
            "mtta_seconds": 330.0,
            "mttr_seconds": 1830.0,
            "incidents_total": 2,
            "escalation_frequency": 0.5,
        },
    ]


def test_nothing_to_average_is_none() -> None:
    result = incident_stats([], StatsPeriod(date(2026, 2, 1), date(2026, 2, 2), UTC)).as_dict()

    assert result == {
        "mtta_seconds": None,
        "mttr_seconds": None,
        "incidents_total": 0,
        "escalation_frequency": None,
        "incidents_per_day": [{"date": "2026-02-01", "count": 0}, {"date": "2026-02-02", "count": 0}],
        "by_team": [],
        "by_integration": [],
    }


def test_open_unacknowledged_incidents_count_only_in_the_total() -> None:
    assert metrics([incident("A", "2026-02-01T10:00:00")]) == Metrics(
        incidents_total=1, mtta_seconds=None, mttr_seconds=None, escalation_frequency=0.0
    )


def test_means_are_exact_to_the_millisecond() -> None:
    # (1 + 1 + 2) / 3 = 1.3333... s -> 1.333; (0.5 + 0.25) / 2 = 0.375 s exactly.
    thirds = [incident(str(n), "2026-02-01T10:00:00", ack_after=n) for n in (1, 1, 2)]
    opened = at("2026-02-01T10:00:00")
    halves = [
        IncidentFacts("H", "T1", "I1", opened, resolved_at=opened + timedelta(milliseconds=500)),
        IncidentFacts("Q", "T1", "I1", opened, resolved_at=opened + timedelta(milliseconds=250)),
    ]

    assert metrics(thirds).mtta_seconds == 1.333
    assert metrics(halves).mttr_seconds == 0.375


def test_a_negative_duration_counts_as_zero() -> None:
    # Acknowledged 30 s "before" opening (skewed clocks) and 90 s after: (0 + 90) / 2 = 45.
    skewed = [
        incident("A", "2026-02-01T10:00:00", ack_after=-30),
        incident("B", "2026-02-01T10:00:00", ack_after=90),
    ]

    assert metrics(skewed).mtta_seconds == 45.0


def test_bounds_are_local_midnights_in_utc() -> None:
    # 7 Mar 00:00 EST = 05:00Z; the end is 11 Mar 00:00 EDT = 04:00Z (the clocks moved in between).
    assert PERIOD.bounds() == (at("2026-03-07T05:00:00"), at("2026-03-11T04:00:00"))


def test_bounds_cover_a_skipped_midnight() -> None:
    # Santiago springs forward at midnight on 6 Sep 2026: 00:00 -04 becomes 01:00 -03 (04:00Z).
    # The day of 5 Sep therefore ends at 04:00Z; its start, 00:00 -04, is 04:00Z on 5 Sep.
    santiago = StatsPeriod(date(2026, 9, 5), date(2026, 9, 5), ZoneInfo("America/Santiago"))

    start, end = santiago.bounds()

    assert start == at("2026-09-05T04:00:00")
    assert end == at("2026-09-06T04:00:00")
    assert santiago.contains(at("2026-09-06T03:59:59"))
    assert not santiago.contains(at("2026-09-06T04:00:00"))


def test_period_validation() -> None:
    with pytest.raises(ValidationFailed) as reversed_range:
        StatsPeriod(date(2026, 2, 9), date(2026, 2, 1), UTC)
    with pytest.raises(ValidationFailed, match="at most 731 days"):
        StatsPeriod(date(2024, 1, 1), date(2026, 1, 1), UTC)

    assert reversed_range.value.field == "to"
    assert StatsPeriod(date(2024, 1, 1), date(2025, 12, 31), UTC).day_count == 731


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        IncidentFacts("A", None, None, datetime(2026, 2, 1, 10, 0))
