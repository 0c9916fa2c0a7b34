"""The escalation state machine: ``advance(state, chain, event, now) -> (state, effects)``.

Pure: no clock, no I/O. The caller (``engine.services``) loads the state under a row lock, calls
``advance`` and carries out the effects after commit: pages, webhooks, and a wake-up job for
``WakeAt`` that comes back as ``Tick(token)``. Every change of state gets a new token, so any
wake-up scheduled before the change finds a token that no longer matches and does nothing.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from engine.model.escalation import EscalationState as State
from engine.model.escalation import EscalationStatus as Status
from engine.model.escalation import (
    NotifyIfTimeFromTo,
    NotifyPersons,
    NotifySchedule,
    NotifyStep,
    NotifyTeamMembers,
    NotifyWholeChannel,
    RepeatEscalation,
    ResolveStep,
    Step,
    TriggerWebhookStep,
    Wait,
)
from engine.model.escalation import StopReason as Stop


class Action(StrEnum):
    """What happened to the incident; ``Tick`` and ``Silence`` carry data and are classes of their own."""

    OPEN = "open"  # opened outside maintenance: start at step 1 (a repeat changes nothing)
    NEW_ALERT = "new_alert"  # starts an escalation that maintenance held back, nothing more
    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    RESOLVE = "resolve"
    UNRESOLVE = "unresolve"
    UNSILENCE = "unsilence"
    ESCALATE_NOW = "escalate_now"


@dataclass(frozen=True)
class Tick:
    """A wake-up carrying the token of the ``WakeAt`` that scheduled it."""

    token: str


@dataclass(frozen=True)
class Silence:
    until: datetime


Event = Action | Tick | Silence


class TargetKind(StrEnum):
    PERSONS = "persons"
    SCHEDULE = "schedule"
    TEAM = "team"
    WHOLE_CHANNEL = "whole_channel"


@dataclass(frozen=True)
class NotifyTargets:
    """Page these targets; the caller resolves ids (and ``current_oncall``) to people at this moment.

    ``step_run`` numbers this run of the step within the incident, for the delivery key: a repeated
    chain runs the same ``step_index`` again under a new ``step_run``.
    """

    kind: TargetKind
    ids: tuple[str, ...]
    important: bool
    step_index: int
    step_run: int


@dataclass(frozen=True)
class TriggerWebhook:
    webhook_id: str
    step_index: int
    step_run: int


@dataclass(frozen=True)
class ResolveIncident:
    """The chain's ``resolve`` step ran; the escalation is already stopped as resolved."""

    step_index: int


@dataclass(frozen=True)
class WakeAt:
    """Schedule ``Tick(token)`` at ``when``; the state's ``next_at`` holds the same time."""

    when: datetime
    token: str


@dataclass(frozen=True)
class EscalationExhausted:
    """The last step ran and nobody acted; emitted once, then nothing pages until someone acts."""


@dataclass(frozen=True)
class StepSkipped:
    step_index: int
    reason: str


Effect = NotifyTargets | TriggerWebhook | ResolveIncident | WakeAt | EscalationExhausted | StepSkipped
Result = tuple[State, tuple[Effect, ...]]
TokenFactory = Callable[[str], str]
Steps = Sequence[Step]


def derive_token(previous: str) -> str:
    """The default next token: a digest of the previous one, so runs are reproducible in tests.

    Seed each incident's first token with something unique to it (its id, or random bytes) and the
    tokens of different incidents never meet. Hex, so it is safe inside a queue job id.
    """
    return hashlib.sha256(previous.encode()).hexdigest()[:16]


def advance(
    state: State,
    chain: Steps,
    event: Event,
    now: datetime,
    *,
    new_token: TokenFactory = derive_token,
) -> Result:
    """Apply ``event`` at ``now``; events that do not apply in this state return it unchanged, no effects.

    ``new_token`` is called at most once, and only when the state changes.
    """
    status, stopped_by = state.status, state.stopped_by

    def run(start: int, *, restart: bool = True, by_hand: bool = False) -> Result:
        return _run(state, chain, now, new_token(state.token), start, restart, by_hand)

    def stop(reason: Stop) -> Result:
        token = new_token(state.token)
        return replace(state, status=Status.STOPPED, stopped_by=reason, next_at=None, token=token), ()

    match event:
        case Action.OPEN | Action.NEW_ALERT if status is Status.IDLE:
            return run(0)
        case Tick(token=token) if token == state.token and status in (Status.RUNNING, Status.WAITING):
            if state.next_at is not None and now < state.next_at:
                # Early delivery (queues schedule in whole seconds): re-arm the same wake-up.
                return state, (WakeAt(state.next_at, state.token),)
            return run(0) if status is Status.WAITING else run(state.step_index, restart=False)
        case Action.ACKNOWLEDGE if status is not Status.STOPPED:
            return stop(Stop.ACKNOWLEDGED)
        case Action.RESOLVE if stopped_by is not Stop.RESOLVED:
            return stop(Stop.RESOLVED)
        case Action.UNACKNOWLEDGE if stopped_by is Stop.ACKNOWLEDGED:
            return run(0)
        case Action.UNRESOLVE if stopped_by is Stop.RESOLVED:
            return run(0)
        case Silence(until=until) if until > now and status not in (Status.IDLE, Status.STOPPED):
            token = new_token(state.token)
            silenced = replace(state, status=Status.WAITING, step_index=0, repeats_done=0, next_at=until)
            return replace(silenced, token=token), (WakeAt(until, token),)
        case Action.UNSILENCE if status is Status.WAITING:
            return run(0)
        case Action.ESCALATE_NOW if stopped_by is not Stop.RESOLVED:
            if status in (Status.IDLE, Status.WAITING) or state.step_index >= len(chain):
                return run(0, by_hand=True)
            return run(state.step_index, restart=False, by_hand=True)
    return state, ()


def _run(
    state: State, chain: Steps, now: datetime, token: str, start: int, restart: bool, by_hand: bool
) -> Result:
    """Run steps from ``start`` until a wait, a closed time window, the end, or a resolve step.

    ``restart`` begins a fresh pass (repeat count back to zero). ``by_hand`` (escalate now) passes
    over the waits and the closed window the chain stands at: someone asked for the next page now.
    """
    effects: list[Effect] = []
    repeats = 0 if restart else state.repeats_done
    runs = state.step_runs
    i = start
    while by_hand and i < len(chain) and _holds(chain[i], now):
        effects.append(StepSkipped(i, "escalated by hand: not waiting"))
        i += 1
    paged = state.paged
    state = replace(state, status=Status.RUNNING, token=token, stopped_by=None, next_at=None)
    while i < len(chain):
        step = chain[i]
        if isinstance(step, Wait | NotifyIfTimeFromTo):
            if isinstance(step, Wait):
                when, resume = now + step.duration, i + 1
            elif window_is_open(step, now):
                i += 1
                continue
            else:  # looked at again when it opens, in case the wake-up comes late and it closed again
                when, resume = window_opens_at(step, now), i
            effects.append(WakeAt(when, token))
            state = replace(state, step_index=resume, next_at=when)
            break
        if isinstance(step, ResolveStep):
            effects.append(ResolveIncident(i))
            state = replace(state, status=Status.STOPPED, stopped_by=Stop.RESOLVED, step_index=i + 1)
            break
        if isinstance(step, RepeatEscalation) and repeats < step.times:
            repeats += 1
            i = 0
            continue
        effect = _run_step(step, i, runs + 1)
        runs += not isinstance(effect, StepSkipped)
        effects.append(effect)
        i += 1
    else:
        effects.append(EscalationExhausted())
        state = replace(state, status=Status.EXHAUSTED, step_index=len(chain))
    notified = any(isinstance(e, NotifyTargets) for e in effects)
    escalated = state.escalated or (notified and paged)
    state = replace(state, repeats_done=repeats, step_runs=runs, paged=paged or notified, escalated=escalated)
    return state, tuple(effects)


_Doing = NotifyStep | TriggerWebhookStep | RepeatEscalation


def _holds(step: Step, now: datetime) -> bool:
    return isinstance(step, Wait) or (isinstance(step, NotifyIfTimeFromTo) and not window_is_open(step, now))


def _run_step(step: _Doing, index: int, run: int) -> NotifyTargets | TriggerWebhook | StepSkipped:
    match step:
        case RepeatEscalation(times=times):
            return StepSkipped(index, f"already went back to step 1 {times} times")
        case TriggerWebhookStep(webhook_id=webhook_id):
            return TriggerWebhook(webhook_id, index, run)
        case NotifyPersons(persons=()):
            return StepSkipped(index, "nobody to notify")
        case NotifyPersons(persons=persons):
            return NotifyTargets(TargetKind.PERSONS, persons, step.important, index, run)
        case NotifySchedule(schedule_id=schedule_id):
            return NotifyTargets(TargetKind.SCHEDULE, (schedule_id,), step.important, index, run)
        case NotifyTeamMembers(team_id=team_id):
            return NotifyTargets(TargetKind.TEAM, (team_id,), step.important, index, run)
        case NotifyWholeChannel():
            return NotifyTargets(TargetKind.WHOLE_CHANNEL, (), step.important, index, run)


def window_is_open(window: NotifyIfTimeFromTo, at: datetime) -> bool:
    """Whether the wall clock in the window's zone reads inside [from, to) at ``at``."""
    wall = at.astimezone(ZoneInfo(window.time_zone)).time()
    start, end = window.from_time, window.to_time
    if start == end:
        return True
    return start <= wall < end if start < end else (wall >= start or wall < end)


def window_opens_at(window: NotifyIfTimeFromTo, after: datetime) -> datetime:
    """The first instant at or after ``after`` when the window is open."""
    if window_is_open(window, after):
        return after
    zone = ZoneInfo(window.time_zone)
    day = after.astimezone(zone).date()
    # Eight days always hold an opening: a window swallowed by a spring-forward gap opens the next day.
    for offset in range(8):
        local = datetime.combine(day + timedelta(days=offset), window.from_time, tzinfo=zone)
        # fold=1 adds the second reading of a time that the autumn change repeats.
        for instant in sorted((_first_reading(local), local.replace(fold=1).astimezone(UTC))):
            if instant > after and window_is_open(window, instant):
                return instant
    raise AssertionError(f"{window} never opens")


def _first_reading(local: datetime) -> datetime:
    """The first instant whose wall clock reads ``local`` or later, even when DST skips ``local``."""
    instant = local.astimezone(UTC)
    wall = local.replace(tzinfo=None)
    if instant.astimezone(local.tzinfo).replace(tzinfo=None) == wall:
        return instant
    # Skipped: fold=1 reads it with the offset after the jump (an instant before the jump), fold=0 with
    # the offset before (an instant after it); the jump is the first second in between that reads later.
    seconds = range(int(local.replace(fold=1).timestamp()), int(instant.timestamp()) + 1)
    first = bisect_left(
        seconds, wall, key=lambda t: datetime.fromtimestamp(t, local.tzinfo).replace(tzinfo=None)
    )
    return datetime.fromtimestamp(seconds[first], UTC)
