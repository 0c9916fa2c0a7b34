"""A user's personal notification settings (SPEC 4.5): channels, timing and explicit rule lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from engine.errors import ValidationFailed

# A day is beyond any sane personal delay and keeps arithmetic far from overflow.
MAX_DELAY = timedelta(days=1)


class ChannelType(StrEnum):
    SLACK = "slack"
    TELEGRAM = "telegram"
    SMS = "sms"
    PHONE_CALL = "phone_call"


ADDRESS_FIELDS = {
    ChannelType.SLACK: "slack_user_id",
    ChannelType.TELEGRAM: "telegram_chat_id",
    ChannelType.SMS: "phone_number",
    ChannelType.PHONE_CALL: "phone_number",
}
_CHANNELS = {c.value: c for c in ChannelType}
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class NotificationChannel:
    """One way to reach the user; ``address`` None means "the one on the user's profile"."""

    type: ChannelType
    important: bool = False
    address: str | None = None


@dataclass(frozen=True)
class NotifyBy:
    channel: ChannelType


@dataclass(frozen=True)
class WaitRule:
    duration: timedelta


Rule = NotifyBy | WaitRule


@dataclass(frozen=True)
class NotificationTiming:
    default_notification_delay: timedelta = timedelta(0)
    important_notification_delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class NotificationSettings:
    """Explicit rule lists, when given, replace the timing for their kind of page."""

    channels: tuple[NotificationChannel, ...] = ()
    timing: NotificationTiming = NotificationTiming()
    default_rules: tuple[Rule, ...] | None = None
    important_rules: tuple[Rule, ...] | None = None
    user_id: str | None = None


def parse_notification_settings(raw: object) -> NotificationSettings:
    """Validate the body of ``PUT users/<id>/notification_channels/``; errors name the field."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("the body must be an object")
    user_id = raw.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise ValidationFailed("user_id must be a non-empty id", field="user_id")
    channels = raw.get("notification_channels", [])
    if not isinstance(channels, list):
        raise ValidationFailed("notification_channels must be a list", field="notification_channels")
    timing = raw.get("notification_timing", {})
    if not isinstance(timing, Mapping):
        raise ValidationFailed("notification_timing must be an object", field="notification_timing")
    return NotificationSettings(
        channels=tuple(_channel(c, f"notification_channels[{i}]") for i, c in enumerate(channels)),
        timing=NotificationTiming(
            _seconds(timing, "default_notification_delay", "notification_timing", minimum=0),
            _seconds(timing, "important_notification_delay", "notification_timing", minimum=0),
        ),
        default_rules=_rules(raw, "default_rules"),
        important_rules=_rules(raw, "important_rules"),
        user_id=user_id,
    )


def _channel(raw: object, where: str) -> NotificationChannel:
    if not isinstance(raw, Mapping):
        raise ValidationFailed("a channel must be an object", field=where)
    kind = raw.get("type")
    channel_type = _CHANNELS.get(kind) if isinstance(kind, str) else None
    if channel_type is None:
        known = ", ".join(ChannelType)
        raise ValidationFailed(
            f"unknown channel type {kind!r}; expected one of {known}", field=f"{where}.type"
        )
    important = raw.get("important", False)
    if not isinstance(important, bool):
        raise ValidationFailed("important must be true or false", field=f"{where}.important")
    name = ADDRESS_FIELDS[channel_type]
    address = raw.get(name)
    if isinstance(address, int) and not isinstance(address, bool) and channel_type is ChannelType.TELEGRAM:
        address = str(address)  # Telegram chat ids are numbers on the wire
    if address is not None and (not isinstance(address, str) or not address):
        raise ValidationFailed(f"{name} must be a non-empty string", field=f"{where}.{name}")
    if address is not None and name == "phone_number" and not _PHONE.match(address):
        raise ValidationFailed("phone_number must be E.164, like +14155550123", field=f"{where}.{name}")
    return NotificationChannel(channel_type, important, address)


def _rules(raw: Mapping[str, Any], name: str) -> tuple[Rule, ...] | None:
    steps = raw.get(name)
    if steps is None:
        return None
    if not isinstance(steps, list):
        raise ValidationFailed(f"{name} must be a list", field=name)
    rules: list[Rule] = []
    for i, step in enumerate(steps):
        where = f"{name}[{i}]"
        kind = step.get("type") if isinstance(step, Mapping) else None
        if not isinstance(step, Mapping) or not isinstance(kind, str):
            raise ValidationFailed("a rule must be an object with a type", field=where)
        if kind == "wait":
            rules.append(WaitRule(_seconds(step, "duration", where, minimum=1, required=True)))
        elif kind.startswith("notify_by_") and kind.removeprefix("notify_by_") in _CHANNELS:
            rules.append(NotifyBy(_CHANNELS[kind.removeprefix("notify_by_")]))
        else:
            known = ", ".join(f"notify_by_{c}" for c in ChannelType)
            raise ValidationFailed(f"unknown rule {kind!r}; expected wait or {known}", field=f"{where}.type")
    if not any(isinstance(rule, NotifyBy) for rule in rules):
        raise ValidationFailed(f"{name} must notify by at least one channel", field=name)
    return tuple(rules)


def _seconds(
    raw: Mapping[str, Any], name: str, where: str, *, minimum: int, required: bool = False
) -> timedelta:
    value = raw.get(name)
    if value is None and not required:
        return timedelta(0)
    limit = int(MAX_DELAY.total_seconds())
    if not isinstance(value, int | float) or isinstance(value, bool) or not minimum <= value <= limit:
        raise ValidationFailed(
            f"{name} must be a number of seconds from {minimum} to {limit}", field=f"{where}.{name}"
        )
    return timedelta(seconds=value)
