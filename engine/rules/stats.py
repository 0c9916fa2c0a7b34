"""Incident statistics (SPEC 4.9): response times, volume per day and escalation frequency.

Choices, as Grafana OnCall's insights make them:

- An incident belongs to the period, and to the day, on which it was opened, read in the period's
  time zone. Its acknowledgement or resolution may come after the period ends and still counts.
- MTTA is the mean time from opening to the first acknowledgement, over acknowledged incidents
  only. One resolved without an acknowledgement (auto-resolved noise, or fixed without a word)
  is left out rather than counted as acknowledged at resolution: resolving is not responding
  to a page, and counting it would let self-healing alerts flatter the response time.
- MTTR is the mean time from opening to resolution, over resolved incidents; open ones have no
  end yet and are left out.
- ``escalation_frequency`` is the share of incidents that escalated (paged beyond their first
  notify step), as a fraction from 0 to 1.
- A mean over nothing is ``None``, not 0: "no data" must not read as "instant".
- A duration that comes out negative (an acknowledgement stamped before the opening by a
  skewed clock) counts as 0 rather than pulling the mean down.
- Seconds are rounded to milliseconds and frequencies to four decimals.
- ``by_team`` and ``by_integration`` are lists of the same four metrics with ``team_id`` or
  ``integration_id``, sorted by id with incidents that have none (``null``) last. Lists rather
  than objects keyed by id because JSON keys cannot be ``null`` and a list keeps its order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from engine.errors import ValidationFailed

# Two years of days; longer ranges are a slip of the keyboard, and the per-day list grows with them.
MAX_DAYS = 731


@dataclass(frozen=True)
class IncidentFacts:
    """What the statistics need of one incident. Times are aware; ``acknowledged_at`` is the first ack."""

    id: str
    team_id: str | None
    integration_id: str | None
    created_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated: bool = False

    def __post_init__(self) -> None:
        for moment in (self.created_at, self.acknowledged_at, self.resolved_at):
            if moment is not None and moment.utcoffset() is None:
                # A naive time would be read in the server's zone and land on the wrong day.
                raise ValueError(f"incident {self.id}: times must be timezone-aware, got {moment}")


@dataclass(frozen=True)
class StatsPeriod:
    """The days ``first_day`` to ``last_day``, both included, in ``time_zone``."""

    first_day: date
    last_day: date
    time_zone: tzinfo

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValidationFailed(f"to ({self.last_day}) is before from ({self.first_day})", field="to")
        if self.day_count > MAX_DAYS:
            raise ValidationFailed(f"a period may span at most {MAX_DAYS} days", field="to")

    @property
    def day_count(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.day_count)]

    def day_of(self, moment: datetime) -> date:
        """The local calendar day of ``moment``."""
        return moment.astimezone(self.time_zone).date()

    def contains(self, moment: datetime) -> bool:
        return self.first_day <= self.day_of(moment) <= self.last_day

    def bounds(self) -> tuple[datetime, datetime]:
        """UTC ``[start, end)`` covering the period, for the database query.

        Where DST skips or repeats a local midnight, the start is its earliest reading and the end
        its latest, so the bounds may cover an hour more, never less; :func:`incident_stats` then
        keeps exactly the incidents whose local day is in the period.
        """
        start = min(self._midnight(self.first_day, fold) for fold in (0, 1))
        end = max(self._midnight(self.last_day + timedelta(days=1), fold) for fold in (0, 1))
        return start, end

    def _midnight(self, day: date, fold: int) -> datetime:
        return datetime.combine(day, time(0, fold=fold), tzinfo=self.time_zone).astimezone(UTC)


@dataclass(frozen=True)
class Metrics:
    incidents_total: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    escalation_frequency: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "mtta_seconds": self.mtta_seconds,
            "mttr_seconds": self.mttr_seconds,
            "incidents_total": self.incidents_total,
            "escalation_frequency": self.escalation_frequency,
        }


@dataclass(frozen=True)
class IncidentStats:
    overall: Metrics
    per_day: tuple[tuple[date, int], ...]
    by_team: tuple[tuple[str | None, Metrics], ...]
    by_integration: tuple[tuple[str | None, Metrics], ...]

    def as_dict(self) -> dict[str, object]:
        """The SPEC 4.9 response body."""
        return {
            **self.overall.as_dict(),
            "incidents_per_day": [{"date": day.isoformat(), "count": count} for day, count in self.per_day],
            "by_team": [{"team_id": key, **metrics.as_dict()} for key, metrics in self.by_team],
            "by_integration": [
                {"integration_id": key, **metrics.as_dict()} for key, metrics in self.by_integration
            ],
        }


def incident_stats(incidents: Iterable[IncidentFacts], period: StatsPeriod) -> IncidentStats:
    """Statistics of the incidents opened within ``period``; others in ``incidents`` are ignored."""
    chosen = [incident for incident in incidents if period.contains(incident.created_at)]
    per_day = dict.fromkeys(period.days(), 0)
    for incident in chosen:
        per_day[period.day_of(incident.created_at)] += 1
    return IncidentStats(
        overall=metrics(chosen),
        per_day=tuple(per_day.items()),
        by_team=_grouped(chosen, lambda incident: incident.team_id),
        by_integration=_grouped(chosen, lambda incident: incident.integration_id),
    )


def metrics(incidents: Sequence[IncidentFacts]) -> Metrics:
    """MTTA, MTTR and escalation frequency of ``incidents`` (see the module notes for the rules)."""
    to_ack = [
        incident.acknowledged_at - incident.created_at
        for incident in incidents
        if incident.acknowledged_at is not None
    ]
    to_resolve = [
        incident.resolved_at - incident.created_at
        for incident in incidents
        if incident.resolved_at is not None
    ]
    escalated = sum(1 for incident in incidents if incident.escalated)
    return Metrics(
        incidents_total=len(incidents),
        mtta_seconds=_mean_seconds(to_ack),
        mttr_seconds=_mean_seconds(to_resolve),
        escalation_frequency=round(escalated / len(incidents), 4) if incidents else None,
    )


def _mean_seconds(durations: Sequence[timedelta]) -> float | None:
    if not durations:
        return None
    # timedelta arithmetic is exact to the microsecond; summing floats would not be.
    total = sum((max(duration, timedelta(0)) for duration in durations), timedelta(0))
    return round((total / len(durations)).total_seconds(), 3)


def _grouped(
    incidents: Sequence[IncidentFacts], key: Callable[[IncidentFacts], str | None]
) -> tuple[tuple[str | None, Metrics], ...]:
    groups: dict[str | None, list[IncidentFacts]] = {}
    for incident in incidents:
        groups.setdefault(key(incident), []).append(incident)
    ordered = sorted(groups, key=lambda name: (name is None, name or ""))
    return tuple((name, metrics(groups[name])) for name in ordered)
