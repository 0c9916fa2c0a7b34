"""Personal notification planning (SPEC 4.5), in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ValidationFailed
from engine.model.notification import (
    ChannelType,
    NotificationChannel,
    NotificationSettings,
    NotificationTiming,
    NotifyBy,
    WaitRule,
    parse_notification_settings,
)
from engine.rules.planning import (
    Plan,
    due_between,
    next_after_failure,
    next_due_at,
    plan_notifications,
)

START = datetime(2026, 2, 9, 14, 0, tzinfo=UTC)
SLACK, TELEGRAM, SMS, CALL = ChannelType.SLACK, ChannelType.TELEGRAM, ChannelType.SMS, ChannelType.PHONE_CALL

SPEC_BODY = {
    "user_id": "U001",
    "notification_channels": [
        {"type": "slack", "slack_user_id": "U123456", "important": False},
        {"type": "sms", "phone_number": "+1234567890", "important": True},
        {"type": "phone_call", "phone_number": "+1234567890", "important": True},
    ],
    "notification_timing": {"default_notification_delay": 0, "important_notification_delay": 0},
}


def entries(plan: Plan) -> list[tuple[float, ChannelType, int]]:
    return [(e.offset_seconds, e.channel, e.rule_index) for e in plan]


def with_rules(
    *rules: dict[str, object], channels: list[dict[str, object]] | None = None
) -> NotificationSettings:
    body = {**SPEC_BODY, "default_rules": list(rules)}
    if channels is not None:
        body["notification_channels"] = channels
    return parse_notification_settings(body)


def channel(kind: str, important: bool = False) -> dict[str, object]:
    return {"type": kind, "important": important}


def test_the_spec_body_parses() -> None:
    parsed = parse_notification_settings(SPEC_BODY)
    assert parsed.user_id == "U001"
    assert parsed.channels == (
        NotificationChannel(SLACK, False, "U123456"),
        NotificationChannel(SMS, True, "+1234567890"),
        NotificationChannel(CALL, True, "+1234567890"),
    )
    assert parsed.timing == NotificationTiming(timedelta(0), timedelta(0))
    assert parsed.default_rules is None and parsed.important_rules is None


@pytest.mark.parametrize(
    ("channels", "timing", "important", "expected"),
    [
        # The SPEC body: default pages go to Slack, important ones to SMS and a call together.
        (SPEC_BODY["notification_channels"], {}, False, [(0, SLACK, 0)]),
        (SPEC_BODY["notification_channels"], {}, True, [(0, SMS, 0), (0, CALL, 1)]),
        # Delays: a wait first, so the channels are rule 1 on.
        (
            SPEC_BODY["notification_channels"],
            {"default_notification_delay": 60, "important_notification_delay": 30},
            True,
            [(30, SMS, 1), (30, CALL, 2)],
        ),
        (
            SPEC_BODY["notification_channels"],
            {"default_notification_delay": 60, "important_notification_delay": 30},
            False,
            [(60, SLACK, 1)],
        ),
        # No important channel: an important page gets the default notification.
        (
            [channel("slack"), channel("telegram")],
            {"default_notification_delay": 60, "important_notification_delay": 0},
            True,
            [(60, SLACK, 1), (60, TELEGRAM, 2)],
        ),
        # Only important channels: a default page still reaches the user, after the default delay.
        ([channel("phone_call", True)], {"default_notification_delay": 120}, False, [(120, CALL, 1)]),
        # Two numbers for SMS are one rule; the caller sends to each.
        ([channel("sms"), channel("sms")], {}, False, [(0, SMS, 0)]),
        ([], {}, True, []),
    ],
)
def test_plans_from_channels_and_timing(
    channels: object, timing: dict[str, int], important: bool, expected: list[tuple[float, ChannelType, int]]
) -> None:
    parsed = parse_notification_settings({"notification_channels": channels, "notification_timing": timing})
    assert entries(plan_notifications(parsed, important)) == expected


def by(kind: str) -> dict[str, object]:
    return {"type": f"notify_by_{kind}"}


def pause(seconds: int) -> dict[str, object]:
    return {"type": "wait", "duration": seconds}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # SMS now, call now, SMS again after 30 minutes.
        ([by("sms"), by("phone_call"), pause(1800), by("sms")], [(0, SMS, 0), (0, CALL, 1), (1800, SMS, 3)]),
        # Call, wait 60 s, SMS.
        ([by("phone_call"), pause(60), by("sms")], [(0, CALL, 0), (60, SMS, 2)]),
        # The SPEC's example: Slack, wait 60 s, SMS, wait 300 s, phone call.
        (
            [by("slack"), pause(60), by("sms"), pause(300), by("phone_call")],
            [(0, SLACK, 0), (60, SMS, 2), (360, CALL, 4)],
        ),
        # A rule for a channel the user lacks fails at once and falls through to the next.
        ([by("telegram"), pause(60), by("sms"), pause(300), by("slack")], [(0, SMS, 2), (300, SLACK, 4)]),
    ],
)
def test_plans_from_explicit_rules(
    rules: list[dict[str, object]], expected: list[tuple[float, ChannelType, int]]
) -> None:
    assert entries(plan_notifications(with_rules(*rules), important=False)) == expected


def test_explicit_rules_apply_to_their_kind_of_page_only() -> None:
    parsed = parse_notification_settings(
        {**SPEC_BODY, "important_rules": [{"type": "wait", "duration": 10}, {"type": "notify_by_phone_call"}]}
    )
    assert entries(plan_notifications(parsed, important=True)) == [(10, CALL, 1)]
    assert entries(plan_notifications(parsed, important=False)) == [(0, SLACK, 0)]
    assert parsed.important_rules == (WaitRule(timedelta(seconds=10)), NotifyBy(CALL))


SLACK_SMS_CALL = plan_notifications(
    with_rules(by("slack"), pause(60), by("sms"), pause(300), by("phone_call")), important=False
)
SMS_CALL_SMS = plan_notifications(
    with_rules(by("sms"), by("phone_call"), pause(1800), by("sms")), important=False
)


@pytest.mark.parametrize(
    ("plan", "failed", "elapsed", "expected"),
    [
        # Slack fails 5 s in: SMS goes now instead of at 60 s, the call keeps its 300 s spacing.
        (SLACK_SMS_CALL, 0, 5, [(0, SLACK, 0), (5, SMS, 2), (305, CALL, 4)]),
        # The SMS fails 70 s in: the call goes now.
        (SLACK_SMS_CALL, 2, 70, [(0, SLACK, 0), (60, SMS, 2), (70, CALL, 4)]),
        # The last rule fails: nothing is left to fall through to.
        (SLACK_SMS_CALL, 4, 400, [(0, SLACK, 0), (60, SMS, 2), (360, CALL, 4)]),
        # Slack's failure is reported after the SMS went out anyway: nothing changes.
        (SLACK_SMS_CALL, 0, 90, [(0, SLACK, 0), (60, SMS, 2), (360, CALL, 4)]),
        # The first SMS fails while the call (the next rule) is already ringing: nothing changes.
        (SMS_CALL_SMS, 0, 2, [(0, SMS, 0), (0, CALL, 1), (1800, SMS, 3)]),
        # The call goes unanswered 40 s in: the second SMS goes now instead of at 30 min.
        (SMS_CALL_SMS, 1, 40, [(0, SMS, 0), (0, CALL, 1), (40, SMS, 3)]),
    ],
)
def test_a_failed_or_unanswered_channel_falls_through_to_the_next_rule(
    plan: Plan, failed: int, elapsed: int, expected: list[tuple[float, ChannelType, int]]
) -> None:
    assert entries(next_after_failure(plan, failed, timedelta(seconds=elapsed))) == expected


def test_a_fall_through_is_due_at_once_for_the_same_last_run() -> None:
    last_run = START + timedelta(seconds=1)
    failed_at = START + timedelta(seconds=5)
    plan = next_after_failure(SLACK_SMS_CALL, 0, failed_at - START)
    assert entries(due_between(plan, START, last_run, failed_at)) == [(5, SMS, 2)]


def test_a_clock_jump_over_two_rules_sends_each_exactly_once() -> None:
    plan = plan_notifications(
        with_rules(by("slack"), pause(60), by("sms"), pause(60), by("phone_call")), False
    )
    first = due_between(plan, START, None, START)
    assert entries(first) == [(0, SLACK, 0)]
    jumped = due_between(plan, START, START, START + timedelta(minutes=3))
    assert entries(jumped) == [(60, SMS, 2), (120, CALL, 4)]
    assert due_between(plan, START, START + timedelta(minutes=3), START + timedelta(minutes=4)) == ()


def test_next_due_at_says_when_to_wake_up() -> None:
    assert next_due_at(SLACK_SMS_CALL, START, START) == START + timedelta(seconds=60)
    assert next_due_at(SLACK_SMS_CALL, START, START + timedelta(seconds=60)) == START + timedelta(seconds=360)
    assert next_due_at(SLACK_SMS_CALL, START, START + timedelta(hours=1)) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 900), max_size=12))
def test_any_sequence_of_runs_sends_every_rule_exactly_once(gaps: list[int]) -> None:
    now, last_run, sent = START, None, []
    for gap in [*gaps, 3600]:
        now += timedelta(seconds=gap)
        sent.extend(due_between(SLACK_SMS_CALL, START, last_run, now))
        last_run = now
    assert sent == list(SLACK_SMS_CALL)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notification_channels": {}}, "notification_channels"),
        ({"notification_channels": [{"type": "pigeon"}]}, "notification_channels[0].type"),
        ({"notification_channels": ["sms"]}, "notification_channels[0]"),
        (
            {"notification_channels": [{"type": "sms", "phone_number": "555-1234"}]},
            "notification_channels[0].phone_number",
        ),
        ({"notification_channels": [{"type": "sms", "important": 1}]}, "notification_channels[0].important"),
        (
            {"notification_channels": [{"type": "slack", "slack_user_id": ""}]},
            "notification_channels[0].slack_user_id",
        ),
        (
            {"notification_timing": {"default_notification_delay": -1}},
            "notification_timing.default_notification_delay",
        ),
        (
            {"notification_timing": {"important_notification_delay": "5"}},
            "notification_timing.important_notification_delay",
        ),
        ({"notification_timing": []}, "notification_timing"),
        ({"default_rules": {}}, "default_rules"),
        ({"default_rules": [{"type": "notify_by_fax"}]}, "default_rules[0].type"),
        ({"default_rules": [{"type": "wait", "duration": 0}]}, "default_rules[0].duration"),
        ({"important_rules": [{"type": "notify_by_sms"}, {"type": "wait"}]}, "important_rules[1].duration"),
        ({"important_rules": [{"type": "wait", "duration": 60}]}, "important_rules"),
        ({"important_rules": [5]}, "important_rules[0]"),
        ({"user_id": 7}, "user_id"),
    ],
)
def test_invalid_settings_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_notification_settings(body)
    assert caught.value.field == field


def test_telegram_chat_ids_may_be_numbers() -> None:
    parsed = parse_notification_settings(
        {"notification_channels": [{"type": "telegram", "telegram_chat_id": -100}]}
    )
    assert parsed.channels == (NotificationChannel(TELEGRAM, False, "-100"),)
