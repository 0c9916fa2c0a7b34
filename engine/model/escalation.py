"""Escalation chains as frozen snapshots, and the state of one incident's escalation.

A chain is copied into the incident when it opens (``parse_chain_steps`` on the stored JSON), so editing
the chain later never changes an escalation that is already running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import ValidationFailed

CURRENT_ONCALL = "current_oncall"
MAX_REPEATS = 5
# Far beyond any sane wait, and far below what would overflow datetime arithmetic.
MAX_WAIT = timedelta(days=7)


class StepType(StrEnum):
    NOTIFY_PERSONS = "notify_persons"
    NOTIFY_SCHEDULE = "notify_schedule"
    NOTIFY_TEAM_MEMBERS = "notify_team_members"
    WAIT = "wait"
    NOTIFY_WHOLE_CHANNEL = "notify_whole_channel"
    TRIGGER_WEBHOOK = "trigger_webhook"
    REPEAT_ESCALATION = "repeat_escalation"
    RESOLVE = "resolve"
    NOTIFY_IF_TIME_FROM_TO = "notify_if_time_from_to"


@dataclass(frozen=True)
class NotifyPersons:
    """Page these users; ``current_oncall`` stands for whoever the team's primary schedule has on call."""

    persons: tuple[str, ...]
    important: bool = False
    type: ClassVar[StepType] = StepType.NOTIFY_PERSONS


@dataclass(frozen=True)
class NotifySchedule:
    schedule_id: str
    important: bool = False
    type: ClassVar[StepType] = StepType.NOTIFY_SCHEDULE


@dataclass(frozen=True)
class NotifyTeamMembers:
    team_id: str
    important: bool = False
    type: ClassVar[StepType] = StepType.NOTIFY_TEAM_MEMBERS


@dataclass(frozen=True)
class NotifyWholeChannel:
    """Post to the incident's chat channel(s); ``important`` lets an adapter mention everyone."""

    important: bool = False
    type: ClassVar[StepType] = StepType.NOTIFY_WHOLE_CHANNEL


@dataclass(frozen=True)
class Wait:
    duration: timedelta
    type: ClassVar[StepType] = StepType.WAIT


@dataclass(frozen=True)
class TriggerWebhookStep:
    webhook_id: str
    type: ClassVar[StepType] = StepType.TRIGGER_WEBHOOK


@dataclass(frozen=True)
class RepeatEscalation:
    times: int = MAX_REPEATS
    type: ClassVar[StepType] = StepType.REPEAT_ESCALATION


@dataclass(frozen=True)
class ResolveStep:
    type: ClassVar[StepType] = StepType.RESOLVE


@dataclass(frozen=True)
class NotifyIfTimeFromTo:
    """A gate: the chain goes on only while the local wall clock is inside [from_time, to_time).

    Read in ``time_zone`` at each instant, so it follows DST (see ``engine.rules.escalation``).
    ``to_time`` before ``from_time`` runs past midnight; equal times mean the window never closes.
    """

    from_time: time
    to_time: time
    time_zone: str = "UTC"
    type: ClassVar[StepType] = StepType.NOTIFY_IF_TIME_FROM_TO


NotifyStep = NotifyPersons | NotifySchedule | NotifyTeamMembers | NotifyWholeChannel
Step = NotifyStep | Wait | TriggerWebhookStep | RepeatEscalation | ResolveStep | NotifyIfTimeFromTo
Chain = tuple[Step, ...]


class EscalationStatus(StrEnum):
    IDLE = "idle"  # not started: opened during maintenance, or not opened yet
    RUNNING = "running"  # following the chain; ``next_at`` is when its next step is due
    WAITING = "waiting"  # silenced until ``next_at``, then the chain starts again from step 1
    EXHAUSTED = "exhausted"  # the last step ran; nothing pages until someone acts
    STOPPED = "stopped"  # acknowledged or resolved; ``stopped_by`` says which


class StopReason(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class EscalationState:
    """Where one incident's escalation stands; stored beside the incident row.

    ``step_index`` is the next step to run when ``next_at`` comes (kept while stopped, so "escalate
    now" knows what comes next). ``step_runs`` counts steps run so far and numbers each run, which
    makes delivery keys unique even when a repeat runs the same step again. ``escalated`` says the
    incident was paged again after its first page went out (the 4.9 ``escalation_frequency``).
    """

    token: str
    status: EscalationStatus = EscalationStatus.IDLE
    step_index: int = 0
    repeats_done: int = 0
    next_at: datetime | None = None
    stopped_by: StopReason | None = None
    paged: bool = False
    escalated: bool = False
    step_runs: int = 0

    def to_raw(self) -> dict[str, Any]:
        """A JSON-ready dict for storage; ``from_raw`` reads it back."""
        return asdict(self) | {"next_at": self.next_at.isoformat() if self.next_at else None}

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> EscalationState:
        values = dict(raw)
        values["status"] = EscalationStatus(raw["status"])
        values["next_at"] = datetime.fromisoformat(raw["next_at"]) if raw.get("next_at") else None
        values["stopped_by"] = StopReason(raw["stopped_by"]) if raw.get("stopped_by") else None
        return cls(**values)


def chain_to_raw(chain: Sequence[Step]) -> list[dict[str, Any]]:
    """The SPEC 4.3 JSON of a chain, so a snapshot can be stored and parsed back unchanged."""
    out: list[dict[str, Any]] = []
    for step in chain:
        raw: dict[str, Any] = {"type": step.type.value}
        for name, value in asdict(step).items():
            if isinstance(value, timedelta):
                seconds = value.total_seconds()
                value = int(seconds) if seconds.is_integer() else seconds
            elif isinstance(value, time | tuple):
                value = value.isoformat() if isinstance(value, time) else list(value)
            raw[name.removesuffix("_time") if name in ("from_time", "to_time") else name] = value
        out.append(raw)
    return out


_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?(Z)?$")
# Grafana OnCall's spellings, accepted so its scripts move over unchanged.
_STEP_TYPES = {t.value: t for t in StepType} | {"notify_on_call_from_schedule": StepType.NOTIFY_SCHEDULE}
_FIELD_ALIASES = {
    "persons": ("persons_to_notify",),
    "schedule_id": ("notify_on_call_from_schedule",),
    "team_id": ("notify_to_team_members",),
    "webhook_id": ("action_to_trigger",),
    "from": ("notify_if_time_from",),
    "to": ("notify_if_time_to",),
}


def parse_chain_steps(raw_steps: object) -> Chain:
    """Validate the ``steps`` list of SPEC 4.3; errors name the field, e.g. ``steps[2].duration``."""
    if not isinstance(raw_steps, list):
        raise ValidationFailed("steps must be a list", field="steps")
    return tuple(_parse_step(raw, f"steps[{i}]") for i, raw in enumerate(raw_steps))


def _parse_step(raw: object, where: str) -> Step:
    if not isinstance(raw, Mapping):
        raise ValidationFailed("a step must be an object", field=where)
    kind = raw.get("type")
    step_type = _STEP_TYPES.get(kind) if isinstance(kind, str) else None
    if step_type is None:
        known = ", ".join(t.value for t in StepType)
        raise ValidationFailed(f"unknown step type {kind!r}; expected one of {known}", field=f"{where}.type")

    def important() -> bool:
        value = raw.get("important", False)
        if not isinstance(value, bool):
            raise ValidationFailed("important must be true or false", field=f"{where}.important")
        return value

    match step_type:
        case StepType.NOTIFY_PERSONS:
            persons = _field(raw, "persons", where)
            if not isinstance(persons, list) or not all(isinstance(p, str) and p for p in persons):
                raise ValidationFailed("persons must be a list of user ids", field=f"{where}.persons")
            if not persons:
                raise ValidationFailed("persons must name at least one user", field=f"{where}.persons")
            return NotifyPersons(tuple(persons), important())
        case StepType.NOTIFY_SCHEDULE:
            return NotifySchedule(_id(raw, "schedule_id", where), important())
        case StepType.NOTIFY_TEAM_MEMBERS:
            return NotifyTeamMembers(_id(raw, "team_id", where), important())
        case StepType.NOTIFY_WHOLE_CHANNEL:
            return NotifyWholeChannel(important())
        case StepType.WAIT:
            seconds = _field(raw, "duration", where)
            if not _is_number(seconds) or not 1 <= seconds <= MAX_WAIT.total_seconds():
                limit = int(MAX_WAIT.total_seconds())
                raise ValidationFailed(
                    f"duration must be a number of seconds from 1 to {limit}", field=f"{where}.duration"
                )
            return Wait(timedelta(seconds=seconds))
        case StepType.TRIGGER_WEBHOOK:
            return TriggerWebhookStep(_id(raw, "webhook_id", where))
        case StepType.REPEAT_ESCALATION:
            times = raw.get("times", MAX_REPEATS)
            if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_REPEATS:
                raise ValidationFailed(f"times must be from 1 to {MAX_REPEATS}", field=f"{where}.times")
            return RepeatEscalation(times)
        case StepType.RESOLVE:
            return ResolveStep()
        case StepType.NOTIFY_IF_TIME_FROM_TO:
            return _parse_window(raw, where)


def _parse_window(raw: Mapping[str, Any], where: str) -> NotifyIfTimeFromTo:
    zone = raw.get("time_zone")
    if zone is not None and not isinstance(zone, str):
        raise ValidationFailed("time_zone must be an IANA zone name", field=f"{where}.time_zone")
    bounds: list[time] = []
    for name in ("from", "to"):
        text = _field(raw, name, where)
        match = _TIME.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValidationFailed(f"{name} must read HH:MM or HH:MM:SS", field=f"{where}.{name}")
        hour, minute, second, utc_mark = match.groups()
        if utc_mark and zone not in (None, "UTC"):
            raise ValidationFailed(f"{name} ends in Z but time_zone is {zone}", field=f"{where}.{name}")
        try:
            bounds.append(time(int(hour), int(minute), int(second or 0)))
        except ValueError:
            raise ValidationFailed(f"{name} is not a time of day", field=f"{where}.{name}") from None
    try:
        ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder such as "Europe"
        raise ValidationFailed(f"unknown time zone {zone!r}", field=f"{where}.time_zone") from None
    return NotifyIfTimeFromTo(bounds[0], bounds[1], zone or "UTC")


def _field(raw: Mapping[str, Any], name: str, where: str) -> Any:
    for key in (name, *_FIELD_ALIASES.get(name, ())):
        if key in raw:
            return raw[key]
    raise ValidationFailed(f"{name} is required", field=f"{where}.{name}")


def _id(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = _field(raw, name, where)
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"{name} must be a non-empty id", field=f"{where}.{name}")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
