"""Block Kit for an incident card, built in code from the channel-neutral card, within Slack's limits.

Limits (SPEC §6, Slack's Block Kit reference): header text 150, section text 3,000, 10 fields of
2,000, 50 blocks, button text 75 and value 2,000, option text 75 and value 150. Long text is cut with
"…" and a link to the incident, never rejected. Alert text is mrkdwn-escaped (``&``, ``<``, ``>``).
"""

from __future__ import annotations

from typing import Any

from adapters.templating.channel import render_channel
from bot.actions import encode
from bot.cards import Button, Card
from bot.text import ELLIPSIS, cut, escape_slack_mrkdwn

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
BUTTONS_PER_BLOCK = 5
ALERT_LINES_PER_SECTION = 10
ALERT_SECTIONS_MAX = 2
# Escaped, these stay within SECTION_MAX together: at most 5 × 400 + 5 × 150 + the icon and number.
FALLBACK_TITLE_MAX = 400
FALLBACK_STATUS_MAX = 150

ACTION_PREFIX = "tocsin."
SILENCE_ACTION_ID = "tocsin.silence"
RUNBOOK_ACTION_ID = "tocsin.runbook"

Block = dict[str, Any]


def fit_mrkdwn(raw: str, limit: int, link: str | None = None) -> str:
    """``raw`` escaped for mrkdwn in at most ``limit`` characters, cut with "…" and a link when long."""
    escaped = escape_slack_mrkdwn(raw)
    if len(escaped) <= limit:
        return escaped
    suffix = f" <{link}|full text>" if link and len(link) < limit // 2 else ""
    room = limit - len(suffix)
    budget = min(len(raw), room)
    while budget >= 1:
        # Escaping lengthens the text, so cut the raw text until its escaped form fits.
        text = escape_slack_mrkdwn(cut(raw, budget))
        if len(text) <= room:
            return text + suffix
        budget = min(budget - 1, budget * room // len(text))
    return ELLIPSIS


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def fallback_text(card: Card) -> str:
    """The notification and accessibility text shown where blocks are not.

    The template escapes its values itself, so the rendered text is not escaped again (a phone would show
    ``&amp;lt;`` for ``<``); the values are cut first, so that even escaped five times over (``&`` is
    ``&amp;``) the text stays within a section's 3,000 characters.
    """
    return render_channel(
        "slack",
        "card_fallback.j2",
        icon=card.icon,
        number=card.number,
        title=cut(card.title, FALLBACK_TITLE_MAX),
        status=cut(card.status_line, FALLBACK_STATUS_MAX),
    )


def card_blocks(card: Card) -> list[Block]:
    """The card's blocks, at most 50; a resolved card carries no action buttons (the card says so)."""
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{card.icon} #{card.number} {card.title}", HEADER_MAX)}
    ]
    status = render_channel(
        "slack",
        "card_status.j2",
        status=card.status_line,
        state_at=card.state_at,
        severity=card.severity,
        alerts_count=card.alerts_count,
    )
    blocks.append(_section(status))
    if card.summary.strip():
        blocks.append(_section(fit_mrkdwn(card.summary, SECTION_MAX, card.web_link)))
    if card.labels:
        fields = [
            {"type": "mrkdwn", "text": f"*{fit_mrkdwn(key, 100)}*\n{fit_mrkdwn(value, FIELD_MAX - 110)}"}
            for key, value in card.labels[:FIELDS_MAX]
        ]
        blocks.append({"type": "section", "fields": fields})
    blocks.extend(_alert_blocks(card))
    if card.links:
        links = " · ".join(f"<{link.url}|{escape_slack_mrkdwn(link.label)}>" for link in card.links)
        blocks.append(_context(_fit_links(links)))
    for notice in card.notices[: CONTEXT_ELEMENTS_MAX - 1]:
        blocks.append(_context(fit_mrkdwn(notice, SECTION_MAX)))
    tail = [*_action_blocks(card), _context(f"<{card.web_link}|Open #{card.number} in Tocsin>")]
    return _capped(blocks, tail)


def _fit_links(text: str) -> str:
    # Links are built by Tocsin, not cut mid-markup: keep whole links while they fit.
    if len(text) <= SECTION_MAX:
        return text
    kept = ""
    for part in text.split(" · "):
        candidate = f"{kept} · {part}" if kept else part
        if len(candidate) > SECTION_MAX - 2:
            break
        kept = candidate
    return kept + " …"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _alert_blocks(card: Card) -> list[Block]:
    """A grouped incident lists its first alerts and "…and N more"."""
    if card.alerts_count <= 1 or not card.alert_titles:
        return []
    shown = list(card.alert_titles[: ALERT_LINES_PER_SECTION * ALERT_SECTIONS_MAX])
    blocks: list[Block] = []
    for start in range(0, len(shown), ALERT_LINES_PER_SECTION):
        lines = shown[start : start + ALERT_LINES_PER_SECTION]
        # Each line is "• " and the title, joined by newlines: all of it within one section's limit.
        per_line = (SECTION_MAX - (ALERT_LINES_PER_SECTION - 1)) // ALERT_LINES_PER_SECTION - 2
        blocks.append(_section("\n".join("• " + fit_mrkdwn(line, per_line) for line in lines)))
    more = card.alerts_count - len(shown)
    if more > 0:
        blocks.append(_context(f"…and {more} more"))
    return blocks


def _capped(blocks: list[Block], tail: list[Block]) -> list[Block]:
    """At most 50 blocks: the buttons and footer always stay, the middle gives way."""
    room = BLOCKS_MAX - len(tail)
    if len(blocks) > room:
        dropped = len(blocks) - (room - 1)
        blocks = [*blocks[: room - 1], _context(f"…and {dropped} more")]
    return blocks + tail


def button_element(button: Button, index: int) -> Block | None:
    element: Block = {"type": "button", "text": plain(button.label, BUTTON_TEXT_MAX)}
    if button.action is not None:
        value = encode(button.action)
        if len(value) > BUTTON_VALUE_MAX:
            return None
        element["action_id"] = f"{ACTION_PREFIX}{index}"
        element["value"] = value
    elif button.url:
        element["action_id"] = f"{RUNBOOK_ACTION_ID}.{index}"
        element["url"] = button.url[:3000]
    else:
        return None
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def _action_blocks(card: Card) -> list[Block]:
    elements = [e for i, b in enumerate(card.buttons) if (e := button_element(b, i)) is not None]
    options = [
        {"text": plain(choice.label, OPTION_TEXT_MAX), "value": encode(choice.action)}
        for choice in card.silence_choices
        if choice.action is not None and len(encode(choice.action)) <= OPTION_VALUE_MAX
    ]
    if options:
        elements.insert(
            min(2, len(elements)),
            {
                "type": "static_select",
                "action_id": SILENCE_ACTION_ID,
                "placeholder": plain("Silence…", OPTION_TEXT_MAX),
                "options": options,
            },
        )
    return [
        {
            "type": "actions",
            "block_id": f"tocsin-actions-{n}",
            "elements": elements[start : start + BUTTONS_PER_BLOCK],
        }
        for n, start in enumerate(range(0, len(elements), BUTTONS_PER_BLOCK))
    ]
