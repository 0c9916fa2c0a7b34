"""Request bodies of the REST API, shared with ``tocsin apply`` (same names, same checks)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

_ZONES = available_timezones()
Id = str


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


_SLACK_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


def _slack_channel(value: str | None) -> str | None:
    """A channel's ID, not its name: Slack answers a post to ``#ops`` with the ID, and edits need the ID,
    so a name would make every card update post a new card."""
    if value is None or value == "":
        return None
    if not _SLACK_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Slack channel ID; use the ID (like C0123ABCD, from the channel's "
            "details in Slack), not its name"
        )
    return value


SlackChannelId = Annotated[str | None, AfterValidator(_slack_channel)]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(value: str | None) -> str | None:
    """Loosely checked: `/oncall link` and iCal matching compare it with what Slack and calendars say."""
    if value is None or value == "":
        return None
    if not _EMAIL.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not an e-mail address (like ana@example.com)")
    return value.strip()


Email = Annotated[str | None, AfterValidator(_email)]


class TeamIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None
    primary_schedule_id: str | None = None


class TeamPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None
    primary_schedule_id: str | None = None


def _zone(value: str | None) -> str | None:
    if value is not None and value not in _ZONES:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)")
    return value


class UserIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    username: str = Field(min_length=1, max_length=100)
    email: Email = Field(default=None, max_length=254)
    team_ids: list[str] = Field(default_factory=list)
    time_zone: str = "UTC"
    slack_user_id: str | None = None
    telegram_chat_id: str | None = None
    phone_number: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    phone_verified: bool | None = None

    _tz = field_validator("time_zone")(_zone)


class UserPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    username: str | None = Field(default=None, min_length=1, max_length=100)
    email: Email = Field(default=None, max_length=254)
    team_ids: list[str] | None = None
    time_zone: str | None = None
    slack_user_id: str | None = None
    telegram_chat_id: str | None = None
    phone_number: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    phone_verified: bool | None = None

    _tz = field_validator("time_zone")(_zone)


ChannelType = Literal["slack", "telegram", "sms", "phone_call"]


class NotificationChannel(Body):
    type: ChannelType
    important: bool = False
    slack_user_id: str | None = None
    telegram_chat_id: str | int | None = None
    phone_number: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")


class NotificationTiming(Body):
    default_notification_delay: int = Field(default=0, ge=0, le=86400)
    important_notification_delay: int = Field(default=0, ge=0, le=86400)


class RuleStep(Body):
    type: Literal["notify_by_slack", "notify_by_telegram", "notify_by_sms", "notify_by_phone_call", "wait"]
    duration: int | None = Field(default=None, ge=1, le=86400)


class NotificationChannelsIn(Body):
    user_id: str | None = None
    notification_channels: list[NotificationChannel] = Field(default_factory=list)
    notification_timing: NotificationTiming = Field(default_factory=NotificationTiming)
    default_rules: list[RuleStep] | None = None
    important_rules: list[RuleStep] | None = None


IntegrationType = Literal[
    "grafana_alerting", "alertmanager", "grafana", "webhook", "formatted_webhook", "pagerduty"
]


class RouteTarget(Body):
    escalation_chain_id: str | None = None
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None


class IntegrationIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    type: IntegrationType
    name: str | None = Field(default=None, max_length=200)
    team_id: str | None = None
    templates: dict[str, Any] | None = None
    grouping: dict[str, Any] | None = None
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None
    heartbeat_interval: int | None = Field(default=None, ge=10)
    default_route: RouteTarget | None = None


class IntegrationPatch(Body):
    type: IntegrationType | None = None
    name: str | None = Field(default=None, max_length=200)
    team_id: str | None = None
    templates: dict[str, Any] | None = None
    grouping: dict[str, Any] | None = None
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None
    heartbeat_interval: int | None = Field(default=None, ge=10)
    default_route: RouteTarget | None = None


class RouteIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    integration_id: str
    routing_type: Literal["regex", "jinja2"] = "regex"
    routing_regex: str | None = None
    position: int | None = Field(default=None, ge=0)
    escalation_chain_id: str | None = None
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None


class RoutePatch(Body):
    routing_type: Literal["regex", "jinja2"] | None = None
    routing_regex: str | None = None
    position: int | None = Field(default=None, ge=0)
    escalation_chain_id: str | None = None
    slack_channel_id: SlackChannelId = None
    telegram_chat_id: str | None = None


class EscalationChainIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    team_id: str | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)


class EscalationChainPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    team_id: str | None = None
    steps: list[dict[str, Any]] | None = None


WebhookTrigger = Literal[
    "manual", "escalation_step", "incident_created", "acknowledged", "resolved", "silenced"
]


class WebhookIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    webhook_url: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, min_length=1, description="Grafana OnCall's name for webhook_url")
    trigger_type: WebhookTrigger = "manual"
    http_method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    data: str | None = None
    secret: str | None = Field(default=None, max_length=200)
    team_id: str | None = None


class WebhookPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    webhook_url: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, min_length=1)
    trigger_type: WebhookTrigger | None = None
    http_method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    headers: dict[str, str] | None = None
    data: str | None = None
    secret: str | None = Field(default=None, max_length=200)
    team_id: str | None = None


class WebhookTriggerIn(Body):
    incident_id: str


class MaintenanceIn(Body):
    id: Id | None = Field(default=None, min_length=1, max_length=64)
    integration_ids: list[str]
    start_time: AwareDatetime
    end_time: AwareDatetime


class MaintenancePatch(Body):
    integration_ids: list[str] | None = None
    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None


class MaintenanceStart(Body):
    duration: int = Field(default=3600, ge=1, le=30 * 86400, description="seconds")


class GroupingIn(Body):
    enabled: bool = True
    fields: list[str] = Field(default_factory=list)
    timeout: int | None = Field(default=None, ge=1)


ScheduleType = Literal["calendar", "ical", "web"]


class ScheduleIn(Body):
    """SPEC 4.2; shifts are checked field by field by the schedule service (names like shifts[0].users[1])."""

    id: Id | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    team_id: str | None = None
    type: ScheduleType = "calendar"
    time_zone: str = "UTC"
    ical_url_primary: str | None = Field(default=None, max_length=2000)
    ical_url_overrides: str | None = Field(default=None, max_length=2000)
    shifts: list[dict[str, Any]] = Field(default_factory=list)


class SchedulePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    team_id: str | None = None
    type: ScheduleType | None = None
    time_zone: str | None = None
    ical_url_primary: str | None = Field(default=None, max_length=2000)
    ical_url_overrides: str | None = Field(default=None, max_length=2000)
    shifts: list[dict[str, Any]] | None = None


class OverrideIn(Body):
    """A naive ``start``/``end`` is wall-clock time in the schedule's zone."""

    id: Id | None = Field(default=None, min_length=1, max_length=64)
    user_id: str = Field(min_length=1)
    start: datetime
    end: datetime
    replaces_user_id: str | None = None
