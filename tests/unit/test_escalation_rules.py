"""The escalation state machine and chain parsing, in virtual time: no clock, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ValidationFailed
from engine.model.escalation import (
    Chain,
    EscalationState,
    EscalationStatus,
    NotifyIfTimeFromTo,
    NotifyPersons,
    NotifySchedule,
    NotifyTeamMembers,
    RepeatEscalation,
    StopReason,
    Wait,
    chain_to_raw,
    parse_chain_steps,
)
from engine.rules.escalation import (
    Action,
    Effect,
    EscalationExhausted,
    Event,
    NotifyTargets,
    ResolveIncident,
    Silence,
    StepSkipped,
    TargetKind,
    Tick,
    TriggerWebhook,
    WakeAt,
    advance,
    window_is_open,
    window_opens_at,
)

T0 = datetime(2026, 2, 9, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)

SPEC_CHAIN = [
    {"type": "notify_persons", "persons": ["current_oncall"], "important": False},
    {"type": "wait", "duration": 300},
    {"type": "notify_persons", "persons": ["current_oncall"], "important": True},
    {"type": "wait", "duration": 300},
    {"type": "notify_schedule", "schedule_id": "S002", "important": True},
    {"type": "wait", "duration": 600},
    {"type": "notify_team_members", "team_id": "T001"},
]


def chain(*steps: dict[str, object]) -> Chain:
    return parse_chain_steps(list(steps))


def persons(*ids: str) -> dict[str, object]:
    return {"type": "notify_persons", "persons": list(ids)}


def wait(seconds: float) -> dict[str, object]:
    return {"type": "wait", "duration": seconds}


@dataclass
class World:
    """Feeds events to the machine and delivers every wake-up it asked for, stale ones included."""

    chain: Chain
    start: datetime = T0
    state: EscalationState = field(default_factory=lambda: EscalationState(token="seed"))
    log: list[tuple[timedelta, Effect]] = field(default_factory=list)  # offsets from ``start``
    queue: list[tuple[datetime, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.now = self.start

    def send(self, event: Event) -> tuple[Effect, ...]:
        self.state, effects = advance(self.state, self.chain, event, self.now)
        for effect in effects:
            self.log.append((self.now - self.start, effect))
            if isinstance(effect, WakeAt):
                self.queue.append((effect.when, effect.token))
        return effects

    def at(self, offset: timedelta, event: Event | None = None) -> None:
        """Run every wake-up due up to ``start + offset``, then send ``event`` there."""
        until = self.start + offset
        while due := sorted(w for w in self.queue if w[0] <= until):
            self.queue.remove(due[0])
            self.now = max(self.now, due[0][0])
            self.send(Tick(due[0][1]))
        self.now = until
        if event is not None:
            self.send(event)

    def pages(self) -> list[tuple[timedelta, tuple[str, ...], bool]]:
        return [(t, e.ids, e.important) for t, e in self.log if isinstance(e, NotifyTargets)]

    def exhausted_at(self) -> list[timedelta]:
        return [t for t, e in self.log if isinstance(e, EscalationExhausted)]


def opened(steps: Chain) -> World:
    world = World(steps)
    world.send(Action.OPEN)
    return world


def test_notify_wait_notify_pages_twice_then_is_exhausted() -> None:
    world = opened(chain(persons("A"), wait(1800), persons("B")))
    world.at(timedelta(days=2))
    assert world.pages() == [(timedelta(0), ("A",), False), (30 * MIN, ("B",), False)]
    assert world.exhausted_at() == [30 * MIN]
    assert world.state.status is EscalationStatus.EXHAUSTED


def test_acknowledge_before_the_wait_ends_stops_the_next_page() -> None:
    world = opened(chain(persons("A"), wait(1800), persons("B")))
    world.at(10 * MIN, Action.ACKNOWLEDGE)
    world.at(timedelta(days=2))
    assert world.pages() == [(timedelta(0), ("A",), False)]
    assert world.state.status is EscalationStatus.STOPPED
    assert world.state.stopped_by is StopReason.ACKNOWLEDGED
    assert not any(isinstance(e, WakeAt) for t, e in world.log if t >= 10 * MIN)


def test_a_tick_with_an_old_token_does_nothing() -> None:
    steps = chain(persons("A"), wait(1800), persons("B"))
    state, effects = advance(EscalationState(token="seed"), steps, Action.OPEN, T0)
    old = next(e for e in effects if isinstance(e, WakeAt))
    acked, _ = advance(state, steps, Action.ACKNOWLEDGE, T0 + MIN)
    assert acked.token != old.token
    assert advance(acked, steps, Tick(old.token), T0 + 30 * MIN) == (acked, ())


def test_a_tick_before_next_at_changes_nothing_and_only_rearms() -> None:
    steps = chain(persons("A"), wait(1800), persons("B"))
    state, _ = advance(EscalationState(token="seed"), steps, Action.OPEN, T0)
    early = T0 + 30 * MIN - timedelta(seconds=1)
    assert advance(state, steps, Tick(state.token), early) == (state, (WakeAt(T0 + 30 * MIN, state.token),))


def test_the_spec_example_chain_end_to_end() -> None:
    world = opened(parse_chain_steps(SPEC_CHAIN))
    world.at(timedelta(days=1))
    kinds = [(t, e.kind, e.ids, e.important) for t, e in world.log if isinstance(e, NotifyTargets)]
    assert kinds == [
        (timedelta(0), TargetKind.PERSONS, ("current_oncall",), False),
        (5 * MIN, TargetKind.PERSONS, ("current_oncall",), True),
        (10 * MIN, TargetKind.SCHEDULE, ("S002",), True),
        (20 * MIN, TargetKind.TEAM, ("T001",), False),
    ]
    assert world.exhausted_at() == [20 * MIN]
    assert world.state.escalated


def test_the_spec_chain_acknowledged_at_once_never_escalates() -> None:
    world = opened(parse_chain_steps(SPEC_CHAIN))
    world.at(MIN, Action.ACKNOWLEDGE)
    world.at(timedelta(days=1))
    assert len(world.pages()) == 1
    assert world.state.paged and not world.state.escalated


def test_repeat_twice_pages_the_chain_three_times_then_is_exhausted() -> None:
    world = opened(chain(persons("A"), wait(600), {"type": "repeat_escalation", "times": 2}))
    world.at(timedelta(days=1))
    assert [t for t, _, _ in world.pages()] == [timedelta(0), 10 * MIN, 20 * MIN]
    assert world.exhausted_at() == [30 * MIN]
    runs = [e.step_run for _, e in world.log if isinstance(e, NotifyTargets)]
    assert len(set(runs)) == 3  # a repeated step gets a fresh delivery key each time


def test_an_empty_chain_is_exhausted_at_once() -> None:
    world = opened(())
    assert world.log == [(timedelta(0), EscalationExhausted())]
    assert world.state.status is EscalationStatus.EXHAUSTED


def test_consecutive_steps_run_in_one_tick_until_a_wait() -> None:
    steps = chain(
        persons("A"),
        {"type": "trigger_webhook", "webhook_id": "W1"},
        {"type": "notify_whole_channel"},
        wait(60),
    )
    state, effects = advance(EscalationState(token="seed"), steps, Action.OPEN, T0)
    assert [type(e) for e in effects] == [NotifyTargets, TriggerWebhook, NotifyTargets, WakeAt]
    assert effects[-1] == WakeAt(T0 + MIN, state.token)
    assert state.next_at == T0 + MIN and state.step_index == 4


def test_exhausted_is_said_once_and_nothing_pages_until_someone_acts() -> None:
    world = opened(chain(persons("A"), wait(60)))
    world.at(timedelta(days=1), Action.NEW_ALERT)
    world.at(timedelta(days=2))
    assert world.exhausted_at() == [MIN]
    assert len(world.pages()) == 1
    world.send(Action.ESCALATE_NOW)  # someone acts: the chain runs again from step 1
    assert len(world.pages()) == 2


def test_unacknowledge_restarts_from_step_one() -> None:
    world = opened(chain(persons("A"), wait(600), persons("B"), wait(600), persons("C")))
    world.at(15 * MIN, Action.ACKNOWLEDGE)
    world.at(20 * MIN, Action.UNACKNOWLEDGE)
    world.at(timedelta(days=1))
    assert [(t, ids) for t, ids, _ in world.pages()] == [
        (timedelta(0), ("A",)),
        (10 * MIN, ("B",)),
        (20 * MIN, ("A",)),
        (30 * MIN, ("B",)),
        (40 * MIN, ("C",)),
    ]


def test_escalate_now_on_an_acknowledged_incident_runs_the_next_step_at_once() -> None:
    world = opened(chain(persons("A"), wait(1800), persons("B"), wait(1800), persons("C")))
    world.at(5 * MIN, Action.ACKNOWLEDGE)
    world.at(10 * MIN, Action.ESCALATE_NOW)
    world.at(timedelta(days=1))
    assert [(t, ids) for t, ids, _ in world.pages()] == [
        (timedelta(0), ("A",)),
        (10 * MIN, ("B",)),
        (40 * MIN, ("C",)),
    ]
    assert world.state.escalated


def test_escalate_now_while_waiting_skips_the_wait() -> None:
    world = opened(chain(persons("A"), wait(1800), wait(600), persons("B")))
    world.at(MIN, Action.ESCALATE_NOW)
    world.at(timedelta(days=1))
    assert [(t, ids) for t, ids, _ in world.pages()] == [(timedelta(0), ("A",)), (MIN, ("B",))]
    assert (MIN, StepSkipped(2, "escalated by hand: not waiting")) in world.log


def test_escalate_now_does_nothing_on_a_resolved_incident() -> None:
    world = opened(chain(persons("A"), wait(60), persons("B")))
    world.send(Action.RESOLVE)
    before = world.state
    assert world.send(Action.ESCALATE_NOW) == ()
    assert world.state == before


def test_silence_stops_until_it_ends_then_resumes_from_step_one() -> None:
    world = opened(chain(persons("A"), wait(1800), persons("B")))
    world.at(5 * MIN, Silence(until=T0 + 65 * MIN))
    assert world.state.status is EscalationStatus.WAITING
    world.at(timedelta(days=1))
    assert [(t, ids) for t, ids, _ in world.pages()] == [
        (timedelta(0), ("A",)),
        (65 * MIN, ("A",)),
        (95 * MIN, ("B",)),
    ]


def test_unsilence_resumes_from_step_one_at_once_and_the_silence_wakeup_goes_stale() -> None:
    world = opened(chain(persons("A"), wait(1800), persons("B")))
    world.at(5 * MIN, Silence(until=T0 + 65 * MIN))
    world.at(10 * MIN, Action.UNSILENCE)
    world.at(timedelta(days=1))
    assert [(t, ids) for t, ids, _ in world.pages()] == [
        (timedelta(0), ("A",)),
        (10 * MIN, ("A",)),
        (40 * MIN, ("B",)),
    ]


def test_silencing_an_acknowledged_incident_never_wakes_it() -> None:
    world = opened(chain(persons("A"), wait(60), persons("B")))
    world.at(MIN / 2, Action.ACKNOWLEDGE)
    world.at(MIN, Silence(until=T0 + 10 * MIN))
    world.at(timedelta(days=1))
    assert len(world.pages()) == 1
    assert world.state.stopped_by is StopReason.ACKNOWLEDGED


def test_a_resolve_step_resolves_and_stops() -> None:
    world = opened(chain(persons("A"), wait(60), {"type": "resolve"}, persons("never")))
    world.at(timedelta(days=1))
    assert world.pages() == [(timedelta(0), ("A",), False)]
    assert (MIN, ResolveIncident(2)) in world.log
    assert world.state.stopped_by is StopReason.RESOLVED


def test_open_twice_pages_once_and_maintenance_waits_for_an_alert() -> None:
    steps = chain(persons("A"), wait(60))
    world = opened(steps)
    assert world.send(Action.OPEN) == ()
    held = World(steps)  # opened during maintenance: the service never sent Open
    held.at(timedelta(hours=3), Action.NEW_ALERT)
    assert held.pages() == [(timedelta(hours=3), ("A",), False)]


def test_the_machine_does_not_stop_on_steps_with_no_targets() -> None:
    steps = (NotifyPersons(()), Wait(MIN), NotifyTeamMembers("T-gone"))
    world = opened(steps)
    world.at(timedelta(days=1))
    assert world.log[0] == (timedelta(0), StepSkipped(0, "nobody to notify"))
    assert world.pages() == [(MIN, ("T-gone",), False)]


# notify_if_time_from_to: the wall clock in its zone, across DST (New York: 2026-03-08, 2026-11-01).
NY = "America/New_York"


@pytest.mark.parametrize(
    ("start", "end", "after", "opens"),
    [
        # Saturday evening before spring-forward: 09:00 on Sunday is EDT already, 13:00 UTC, not 14:00.
        ("09:00", "17:00", datetime(2026, 3, 7, 23, 0, tzinfo=UTC), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        # Saturday before fall-back: 09:00 on Sunday is EST again, 14:00 UTC.
        (
            "09:00",
            "17:00",
            datetime(2026, 10, 31, 22, 0, tzinfo=UTC),
            datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
        ),
        # 02:30 does not exist on 2026-03-08: the window opens when the clocks jump to 03:00 EDT.
        ("02:30", "04:00", datetime(2026, 3, 8, 5, 0, tzinfo=UTC), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # A window inside the skipped hour never opens that day; the next day it does.
        ("02:10", "02:50", datetime(2026, 3, 8, 5, 0, tzinfo=UTC), datetime(2026, 3, 9, 6, 10, tzinfo=UTC)),
        # 01:00-01:30 happens twice on 2026-11-01: closed at 01:45 EDT, open again at 01:00 EST.
        ("01:00", "01:30", datetime(2026, 11, 1, 5, 45, tzinfo=UTC), datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),
        # Past midnight: 22:00-06:00 seen at noon opens at 22:00 the same evening (EST, 03:00 UTC).
        ("22:00", "06:00", datetime(2026, 1, 15, 17, 0, tzinfo=UTC), datetime(2026, 1, 16, 3, 0, tzinfo=UTC)),
    ],
)
def test_time_window_opening(start: str, end: str, after: datetime, opens: datetime) -> None:
    (window,) = chain({"type": "notify_if_time_from_to", "from": start, "to": end, "time_zone": NY})
    assert isinstance(window, NotifyIfTimeFromTo)
    assert not window_is_open(window, after)
    assert window_opens_at(window, after) == opens
    assert window_is_open(window, opens)
    assert not window_is_open(window, opens - timedelta(seconds=1))


def test_a_chain_waits_for_its_time_window_across_dst() -> None:
    steps = chain(
        persons("night"),
        {"type": "notify_if_time_from_to", "from": "09:00", "to": "17:00", "time_zone": NY},
        persons("day"),
    )
    saturday_evening = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    world = World(steps, start=saturday_evening)
    world.send(Action.OPEN)
    world.at(timedelta(days=3))
    pages = [(saturday_evening + t, ids) for t, ids, _ in world.pages()]
    assert pages == [(saturday_evening, ("night",)), (datetime(2026, 3, 8, 13, 0, tzinfo=UTC), ("day",))]


def test_a_window_that_is_open_lets_the_chain_through_at_once() -> None:
    steps = chain({"type": "notify_if_time_from_to", "from": "00:00", "to": "00:00"}, persons("A"))
    _, effects = advance(EscalationState(token="seed"), steps, Action.OPEN, T0)
    assert [type(e) for e in effects] == [NotifyTargets, EscalationExhausted]


# Parsing.


def test_grafana_oncall_spellings_are_accepted() -> None:
    steps = chain(
        {"type": "notify_persons", "persons_to_notify": ["U1"], "important": True},
        {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": "S1"},
        {"type": "notify_schedule", "notify_on_call_from_schedule": "S2"},
        {
            "type": "notify_if_time_from_to",
            "notify_if_time_from": "09:00:00Z",
            "notify_if_time_to": "17:00:00Z",
        },
        {"type": "repeat_escalation"},
    )
    assert steps == (
        NotifyPersons(("U1",), important=True),
        NotifySchedule("S1"),
        NotifySchedule("S2"),
        NotifyIfTimeFromTo(time(9), time(17), "UTC"),
        RepeatEscalation(5),
    )


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ({"type": "wait"}, "steps[2].duration"),
        ({"type": "wait", "duration": 0}, "steps[2].duration"),
        ({"type": "wait", "duration": "300"}, "steps[2].duration"),
        ({"type": "wait", "duration": True}, "steps[2].duration"),
        ({"type": "wait", "duration": 10**9}, "steps[2].duration"),
        ({"type": "teleport"}, "steps[2].type"),
        ({}, "steps[2].type"),
        ("wait", "steps[2]"),
        ({"type": "notify_persons", "persons": []}, "steps[2].persons"),
        ({"type": "notify_persons", "persons": "U1"}, "steps[2].persons"),
        ({"type": "notify_persons", "persons": ["U1"], "important": "yes"}, "steps[2].important"),
        ({"type": "notify_schedule"}, "steps[2].schedule_id"),
        ({"type": "notify_team_members", "team_id": ""}, "steps[2].team_id"),
        ({"type": "trigger_webhook"}, "steps[2].webhook_id"),
        ({"type": "repeat_escalation", "times": 6}, "steps[2].times"),
        ({"type": "repeat_escalation", "times": 0}, "steps[2].times"),
        ({"type": "notify_if_time_from_to", "from": "9am", "to": "17:00"}, "steps[2].from"),
        ({"type": "notify_if_time_from_to", "from": "09:00", "to": "25:00"}, "steps[2].to"),
        (
            {"type": "notify_if_time_from_to", "from": "09:00", "to": "17:00", "time_zone": "Mars/Base"},
            "steps[2].time_zone",
        ),
        (
            {"type": "notify_if_time_from_to", "from": "09:00", "to": "17:00", "time_zone": "Europe"},
            "steps[2].time_zone",
        ),
        (
            {"type": "notify_if_time_from_to", "from": "09:00", "to": "17:00", "time_zone": "x" * 300},
            "steps[2].time_zone",
        ),
        (
            {"type": "notify_if_time_from_to", "from": "09:00Z", "to": "17:00", "time_zone": NY},
            "steps[2].from",
        ),
    ],
)
def test_invalid_steps_name_the_field(steps: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_chain_steps([persons("A"), wait(60), steps])
    assert caught.value.field == field


def test_steps_must_be_a_list() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_chain_steps({"type": "wait"})
    assert caught.value.field == "steps"


def test_a_chain_snapshot_survives_json_storage() -> None:
    raw = [
        *SPEC_CHAIN,
        {"type": "wait", "duration": 1.5},
        {"type": "notify_whole_channel", "important": True},
        {"type": "trigger_webhook", "webhook_id": "W1"},
        {"type": "notify_if_time_from_to", "from": "22:00", "to": "06:30:15", "time_zone": NY},
        {"type": "repeat_escalation", "times": 2},
        {"type": "resolve"},
    ]
    steps = parse_chain_steps(raw)
    assert parse_chain_steps(json.loads(json.dumps(chain_to_raw(steps)))) == steps


def test_the_state_survives_json_storage() -> None:
    world = opened(parse_chain_steps(SPEC_CHAIN))
    world.at(7 * MIN)
    stored = json.loads(json.dumps(world.state.to_raw()))
    assert EscalationState.from_raw(stored) == world.state


def test_a_token_factory_is_called_once_per_change_and_never_for_a_no_op() -> None:
    steps = chain(persons("A"), wait(60))
    calls: list[str] = []

    def token(previous: str) -> str:
        calls.append(previous)
        return f"{previous}+"

    state, _ = advance(EscalationState(token="t"), steps, Action.OPEN, T0, new_token=token)
    advance(state, steps, Action.UNSILENCE, T0, new_token=token)
    advance(state, steps, Tick("wrong"), T0, new_token=token)
    assert calls == ["t"] and state.token == "t+"


# Property: after an acknowledge or resolve, nothing pages until an unacknowledge, unresolve or
# escalate-now comes in between, whatever the chain and whatever else happens.

STEP_JSON = st.one_of(
    st.builds(
        lambda p, i: {"type": "notify_persons", "persons": [p], "important": i},
        st.sampled_from("ABC"),
        st.booleans(),
    ),
    st.builds(lambda s: {"type": "wait", "duration": s}, st.integers(1, 3600)),
    st.just({"type": "notify_schedule", "schedule_id": "S1"}),
    st.just({"type": "notify_whole_channel"}),
    st.builds(lambda n: {"type": "repeat_escalation", "times": n}, st.integers(1, 5)),
    st.just({"type": "trigger_webhook", "webhook_id": "W1"}),
    st.just({"type": "resolve"}),
    st.builds(
        lambda a, b: {
            "type": "notify_if_time_from_to",
            "from": f"{a:02d}:00",
            "to": f"{b:02d}:00",
            "time_zone": NY,
        },
        st.integers(0, 23),
        st.integers(0, 23),
    ),
)
# Ticks are the wake-ups the machine asked for, at their time; "stale" ones carry the first token.
EVENTS = st.sampled_from([*Action, "tick", "tick", "tick", "tick", "stale", "silence"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(STEP_JSON, max_size=8),
    st.booleans(),
    st.lists(st.tuples(EVENTS, st.integers(0, 7200)), max_size=30),
)
def test_nothing_pages_after_acknowledge_or_resolve_until_reopened(
    raw_steps: list[dict[str, object]], maintenance: bool, script: list[tuple[object, int]]
) -> None:
    steps = parse_chain_steps(raw_steps)
    if not maintenance:
        script = [(Action.OPEN, 0), *script]
    state = EscalationState(token="seed")
    now = T0
    held = False  # an acknowledge or resolve is in force
    exhausted = 0  # EscalationExhausted effects since the chain last started again
    tokens = [state.token]
    for item, gap in script:
        now += timedelta(seconds=gap)
        event: Event
        if item == "tick":
            if state.next_at is None:
                continue
            now = max(now, state.next_at)
            event = Tick(state.token)
        elif item == "stale":
            event = Tick(tokens[0])
        elif item == "silence":
            event = Silence(until=now + timedelta(seconds=gap * 5))
        else:
            assert isinstance(item, Action)
            event = item
        before = state
        state, effects = advance(state, steps, event, now)

        if isinstance(event, Tick) and event.token != before.token:
            assert (state, effects) == (before, ())
        if event in (Action.ACKNOWLEDGE, Action.RESOLVE):
            held = True
        elif event in (Action.UNACKNOWLEDGE, Action.UNRESOLVE, Action.ESCALATE_NOW):
            held = held and state == before  # reopened unless the event did not apply
        if held:
            assert not any(isinstance(e, NotifyTargets) for e in effects), (event, effects)
            assert state.next_at is None
        held = held or any(isinstance(e, ResolveIncident) for e in effects)  # the chain's own resolve step

        if not isinstance(event, Tick) or before.status is EscalationStatus.WAITING:
            exhausted = 0
        exhausted += sum(isinstance(e, EscalationExhausted) for e in effects)
        assert exhausted <= 1

        wakes = [e for e in effects if isinstance(e, WakeAt)]
        if state == before:
            assert wakes in ([], [WakeAt(before.next_at, before.token)])
        else:
            assert state.token not in tokens
            tokens.append(state.token)
            assert wakes == ([WakeAt(state.next_at, state.token)] if state.next_at else [])
