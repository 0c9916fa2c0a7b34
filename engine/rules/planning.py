"""Personal notification planning: one page to one user becomes a timed list of channel sends.

A plan is relative: offsets count from the moment the page reached the user (``started_at``). The
caller stores ``started_at`` and the plan, sends whatever ``due_between(last_run, now)`` returns (so
a late or jumping clock sends every rule exactly once), and after a failed or unanswered send asks
``next_after_failure`` for the re-timed plan. A later escalation step's page to the same user
replaces that user's pending plan; the caller drops the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine.model.notification import (
    ChannelType,
    NotificationChannel,
    NotificationSettings,
    NotifyBy,
    Rule,
    WaitRule,
)


@dataclass(frozen=True)
class PlannedNotification:
    """Send over every channel of type ``channel`` at ``offset``; ``rule_index`` points into ``rules_for``."""

    offset: timedelta
    channel: ChannelType
    rule_index: int

    @property
    def offset_seconds(self) -> float:
        return self.offset.total_seconds()


Plan = tuple[PlannedNotification, ...]


def rules_for(settings: NotificationSettings, important: bool) -> tuple[Rule, ...]:
    """The rule list a page follows: the explicit list, else one built from the channels and timing.

    Built lists fire every channel of the page's kind together after that kind's delay. A user with
    no important channel gets the default notification for important pages; one with only important
    channels gets those for default pages, since a page that reaches nobody is the worst outcome.
    """
    explicit = settings.important_rules if important else settings.default_rules
    if explicit is not None:
        return explicit
    timing = settings.timing
    own = [c for c in settings.channels if c.important == important]
    if important:
        if not own:
            return rules_for(settings, important=False)
        return _together(own, timing.important_notification_delay)
    return _together(own or list(settings.channels), timing.default_notification_delay)


def _together(channels: list[NotificationChannel], delay: timedelta) -> tuple[Rule, ...]:
    types = dict.fromkeys(c.type for c in channels)  # one send per type, in the order first listed
    wait: tuple[Rule, ...] = (WaitRule(delay),) if delay > timedelta(0) else ()
    return wait + tuple(NotifyBy(t) for t in types)


def plan_notifications(settings: NotificationSettings, important: bool) -> Plan:
    """The ordered plan of one page; rules naming a channel the user lacks fall through at once."""
    offset = timedelta(0)
    plan: list[PlannedNotification] = []
    for index, rule in enumerate(rules_for(settings, important)):
        if isinstance(rule, WaitRule):
            offset += rule.duration
        else:
            plan.append(PlannedNotification(offset, rule.channel, index))
    result = tuple(plan)
    reachable = {c.type for c in settings.channels}
    for entry in plan:
        if entry.channel not in reachable:
            current = next(e for e in result if e.rule_index == entry.rule_index)
            result = next_after_failure(result, entry.rule_index, current.offset)
            result = tuple(e for e in result if e.rule_index != entry.rule_index)
    return result


def next_after_failure(plan: Plan, failed_rule_index: int, elapsed: timedelta) -> Plan:
    """The plan after rule ``failed_rule_index`` failed or went unanswered, ``elapsed`` after the start.

    The rule after it fires at ``elapsed`` instead of waiting, and every later rule moves up by the
    same amount, keeping its spacing. If that next rule is already due (it shares the failed rule's
    moment, or its time has passed) the plan is unchanged: the fall-through has happened already.
    Offsets stay relative to the same start, so ``due_between`` keeps working with the same
    ``last_run``.
    """
    following = [e for e in plan if e.rule_index > failed_rule_index]
    if not following:
        return plan
    successor = min(following, key=lambda e: e.rule_index)
    if successor.offset <= elapsed:
        return plan
    shift = successor.offset - elapsed
    return tuple(
        replace(e, offset=e.offset - shift) if e.rule_index >= successor.rule_index else e for e in plan
    )


def due_between(
    plan: Plan, started_at: datetime, last_run: datetime | None, now: datetime
) -> tuple[PlannedNotification, ...]:
    """Entries due in (``last_run``, ``now``]: every rule once, however far the clock jumped."""
    return tuple(
        e
        for e in plan
        if (last_run is None or started_at + e.offset > last_run) and started_at + e.offset <= now
    )


def next_due_at(plan: Plan, started_at: datetime, after: datetime) -> datetime | None:
    """When the first entry after ``after`` falls due, for the caller's next wake-up; None when done."""
    upcoming = [started_at + e.offset for e in plan if started_at + e.offset > after]
    return min(upcoming, default=None)
