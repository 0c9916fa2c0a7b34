"""A channel-neutral card as a Telegram message: HTML text within 4,096 units and an inline keyboard."""

from __future__ import annotations

import urllib.parse
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.templating.channel import render_channel
from bot.actions import ActionKind, encode
from bot.cards import Button, Card, page_card
from bot.text import cut_html
from engine.ports import Page

MAX_TEXT = 4096  # UTF-16 code units after entity parsing
SILENCE_SECONDS = 3600  # SPEC 5: the Telegram card offers "Silence 1 h"
# Buttons a Telegram card shows; notes and extra pages need typed input, which commands cover.
_KEYBOARD_KINDS = {
    ActionKind.ACKNOWLEDGE,
    ActionKind.UNACKNOWLEDGE,
    ActionKind.RESOLVE,
    ActionKind.UNRESOLVE,
    ActionKind.UNSILENCE,
    ActionKind.TRIGGER_WEBHOOK,
}


def fits(html: str, limit: int = MAX_TEXT) -> bool:
    return cut_html(html, limit) == html


def button_url_ok(url: str) -> bool:
    """Whether Telegram takes ``url`` for an inline URL button.

    It refuses the whole message (400 BUTTON_URL_INVALID) for a host without a dot, such as
    ``http://wiki/…`` or ``http://localhost:8080/…``, which intranet runbook links often are.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and "." in host.strip(".")
        and not any(char.isspace() or ord(char) < 32 for char in url)
    )


def card_html(card: Card, limit: int = MAX_TEXT) -> str:
    """The card as Telegram HTML; a long alert list becomes "…and N more" before anything is cut."""
    titles = list(card.alert_titles) if card.alerts_count > 1 else []
    shown = len(titles)
    # Links Telegram would refuse as buttons are shown as text, so they are still there to copy.
    unbuttoned = [(b.label, b.url) for b in card.buttons if b.url and not button_url_ok(b.url)]
    while True:
        html = render_channel(
            "telegram",
            "card.j2",
            card=card,
            titles=titles[:shown],
            more=max(0, card.alerts_count - shown),
            unbuttoned=unbuttoned,
        )
        if fits(html, limit) or shown == 0:
            break
        shown = max(0, shown - max(1, shown // 8))
    # A huge summary or title can still be too long: cut it cleanly, with a link to the rest.
    return cut_html(html, limit, link=card.web_link)


def keyboard(card: Card) -> InlineKeyboardMarkup | None:
    """Acknowledge/Unacknowledge and Resolve, then Silence 1 h/Unsilence, then Runbook and webhooks."""
    first: list[InlineKeyboardButton] = []
    second: list[InlineKeyboardButton] = []
    third: list[InlineKeyboardButton] = []
    for button in card.buttons:
        if button.url:
            if button_url_ok(button.url):
                third.append(InlineKeyboardButton(button.label, url=button.url))
        elif button.action is not None and button.action.kind in _KEYBOARD_KINDS:
            row = {ActionKind.UNSILENCE: second, ActionKind.TRIGGER_WEBHOOK: third}.get(
                button.action.kind, first
            )
            row.append(_callback(button))
    for choice in card.silence_choices:
        if choice.action is not None and choice.action.seconds == SILENCE_SECONDS:
            second.insert(0, _callback(Button("Silence 1 h", choice.action)))
    rows = [row for row in (first, second, third) if row]
    return InlineKeyboardMarkup(rows) if rows else None


def _callback(button: Button) -> InlineKeyboardButton:
    assert button.action is not None
    return InlineKeyboardButton(button.label, callback_data=encode(button.action))


def page_html(page: Page, limit: int = MAX_TEXT) -> str:
    """A personal page or update: heading, incident title and text, link; cut cleanly when long."""
    html = render_channel(
        "telegram",
        "page.j2",
        kind=page.kind,
        important=page.important,
        number=page.incident_number,
        title=page.title,
        text=page.text,
        link=page.link,
    )
    return cut_html(html, limit, link=page.link)


def page_keyboard(page: Page, now: datetime) -> InlineKeyboardMarkup | None:
    """A page goes out only while its incident fires: the firing card's keyboard. Updates have none."""
    return keyboard(page_card(page, now)) if page.kind == "page" else None
