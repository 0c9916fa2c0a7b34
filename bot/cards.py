"""The channel-neutral incident card: what every chat shows, and which buttons its state allows.

Adapters turn a :class:`Card` into Block Kit or a Telegram message; buttons come only from
``actions`` here, so a chat can never offer what the incident's state forbids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.actions import Action, ActionKind, fits
from engine.model.snapshot import IncidentSnapshot, Link
from engine.ports import Page

SILENCE_CHOICES = (("30 min", 1800), ("1 h", 3600), ("4 h", 14400), ("24 h", 86400))
KEY_LABELS = ("alertname", "severity", "service", "job", "instance", "namespace", "cluster", "team", "env")
MAX_KEY_LABELS = 8
STATE_COLOURS = {"firing": "#D0021B", "acknowledged": "#F5A623", "silenced": "#9B9B9B", "resolved": "#2EB67D"}
STATE_ICONS = {"firing": "🔴", "acknowledged": "🟠", "silenced": "🔕", "resolved": "✅"}


@dataclass(frozen=True)
class Button:
    label: str
    action: Action | None = None  # None for a plain link button
    url: str | None = None
    style: str | None = None  # "primary" / "danger" where the chat has such styles


@dataclass(frozen=True)
class Card:
    incident_id: str
    number: int
    title: str
    state: str
    status_line: str
    colour: str
    icon: str
    severity: str | None
    summary: str
    labels: tuple[tuple[str, str], ...]
    links: tuple[Link, ...]
    alert_titles: tuple[str, ...]
    alerts_count: int
    web_link: str
    buttons: tuple[Button, ...]
    silence_choices: tuple[Button, ...] = field(default_factory=tuple)
    notices: tuple[str, ...] = ()
    # When the incident entered its state, for "acknowledged by Ana at 14:03" (None while firing).
    state_at: datetime | None = None


def status_line(snap: IncidentSnapshot) -> str:
    state = snap.state.upper()
    if snap.state == "acknowledged" and snap.acknowledged_by:
        return f"{state} by {snap.acknowledged_by}"
    if snap.state == "resolved" and snap.resolved_by:
        return f"{state} by {snap.resolved_by}"
    if snap.state == "silenced" and snap.silenced_until:
        return f"{state} until {snap.silenced_until.strftime('%Y-%m-%d %H:%M UTC')}"
    return state


def key_labels(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The labels a responder scans first, then the rest, up to a handful."""
    first = [(k, labels[k]) for k in KEY_LABELS if labels.get(k)]
    rest = sorted((k, v) for k, v in labels.items() if k not in KEY_LABELS and v)
    return tuple((first + rest)[:MAX_KEY_LABELS])


def allowed_actions(snap: IncidentSnapshot) -> list[Action]:
    """What a responder may do from this state; a resolved incident offers only to reopen."""
    act = snap.id
    state = snap.state
    if state == "resolved":
        return [Action(ActionKind.UNRESOLVE, act)]
    actions: list[Action] = []
    if state == "acknowledged":
        actions.append(Action(ActionKind.UNACKNOWLEDGE, act))
    else:
        actions.append(Action(ActionKind.ACKNOWLEDGE, act))
    actions.append(Action(ActionKind.RESOLVE, act))
    if state == "silenced":
        actions.append(Action(ActionKind.UNSILENCE, act))
    actions.append(Action(ActionKind.ADD_NOTE, act))
    actions.append(Action(ActionKind.PAGE_MORE, act))
    return [a for a in actions if fits(a)]


_LABELS = {
    ActionKind.ACKNOWLEDGE: ("Acknowledge", "primary"),
    ActionKind.UNACKNOWLEDGE: ("Unacknowledge", None),
    ActionKind.RESOLVE: ("Resolve", "primary"),
    ActionKind.UNRESOLVE: ("Unresolve", None),
    ActionKind.UNSILENCE: ("Unsilence", None),
    ActionKind.ADD_NOTE: ("Add note", None),
    ActionKind.PAGE_MORE: ("Page more", None),
}


def build_card(snap: IncidentSnapshot) -> Card:
    buttons = [Button(_LABELS[a.kind][0], a, style=_LABELS[a.kind][1]) for a in allowed_actions(snap)]
    silence: list[Button] = []
    if snap.state in ("firing", "acknowledged"):
        silence = [
            Button(label, Action(ActionKind.SILENCE, snap.id, seconds=seconds))
            for label, seconds in SILENCE_CHOICES
            if fits(Action(ActionKind.SILENCE, snap.id, seconds=seconds))
        ]
    if snap.runbook_url:
        buttons.append(Button("Runbook", url=snap.runbook_url))
    if snap.state != "resolved":
        for webhook_id, name in snap.manual_webhooks:
            action = Action(ActionKind.TRIGGER_WEBHOOK, snap.id, webhook_id=webhook_id)
            if fits(action):
                buttons.append(Button(name, action))
    notices = []
    if snap.in_maintenance:
        notices.append("Arrived during maintenance: nobody was paged.")
    if snap.is_test:
        notices.append("This is a test alert.")
    if snap.template_error:
        notices.append(f"Template error (defaults used): {snap.template_error}")
    return Card(
        incident_id=snap.id,
        number=snap.number,
        title=snap.title,
        state=snap.state,
        status_line=status_line(snap),
        colour=STATE_COLOURS.get(snap.state, "#9B9B9B"),
        icon=STATE_ICONS.get(snap.state, "•"),
        severity=snap.severity,
        summary=snap.message,
        labels=key_labels(snap.labels),
        links=((Link("Source", snap.source_link),) if snap.source_link else ())
        + tuple(link for link in snap.links if link.url != snap.source_link),
        alert_titles=snap.alert_titles,
        alerts_count=snap.alerts_count,
        web_link=snap.web_link,
        buttons=tuple(buttons),
        silence_choices=tuple(silence),
        notices=tuple(notices),
        state_at=state_time(snap),
    )


def state_time(snap: IncidentSnapshot) -> datetime | None:
    if snap.state == "acknowledged":
        return snap.acknowledged_at
    if snap.state == "resolved":
        return snap.resolved_at
    return None


def page_card(page: Page, now: datetime) -> Card:
    """The card for a personal page, from the page alone.

    A page goes out only while its incident fires, and the notifier runs inside the delivery's
    transaction (reading the incident again from another connection would wait on itself), so the card
    is the firing card of the page's title and text.
    """
    snap = IncidentSnapshot(
        id=page.incident_id,
        number=page.incident_number,
        title=page.title,
        message=page.text,
        state="firing",
        severity=None,
        labels={},
        alerts_count=1,
        alerts_resolved=0,
        created_at=now,
        web_link=page.link,
    )
    return build_card(snap)
