"""Cutting text to each channel's limit without breaking it, and escaping for each channel's markup.

SPEC 6: long content is cut with a marker and a link, never rejected. Every ``cut*`` returns the text
unchanged when it fits, and otherwise a prefix plus ``marker`` (plus the link when that fits too) whose
size, measured the channel's way, is at most ``limit``. A cut never splits a character the channel would
mangle: no half surrogate pair, no emoji torn from its skin tone or ZWJ partner, no half flag, no half
HTML tag or entity.

Cut text first, escape second for plain text (an escape like ``&amp;`` must not be split); ``cut_html``
exists for markup that is already built.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from html import unescape

ELLIPSIS = "…"
_ZWJ = "\u200d"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the way Telegram counts its 4,096 (an emoji like 😀 is 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut(text: str, limit: int, marker: str = ELLIPSIS, link: str | None = None) -> str:
    """At most ``limit`` characters (code points): Slack texts (section 3,000, header 150), console lines."""
    return _cut(text, limit, marker, link, lambda char: 1)


def cut_utf16(text: str, limit: int, marker: str = ELLIPSIS, link: str | None = None) -> str:
    """At most ``limit`` UTF-16 code units, for Telegram plain text."""
    return _cut(text, limit, marker, link, _utf16_units)


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _cut(text: str, limit: int, marker: str, link: str | None, units: Callable[[str], int]) -> str:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if sum(units(char) for char in text) <= limit:
        return text
    return _truncate(text, limit, marker, link, units)


def _truncate(text: str, limit: int, marker: str, link: str | None, units: Callable[[str], int]) -> str:
    """The longest clean prefix of ``text`` that fits in ``limit`` together with the marker (and link)."""

    def size(value: str) -> int:
        return sum(units(char) for char in value)

    # Prefer marker and link, then the marker alone, then a bare cut: never more than the limit.
    candidates = ([f"{marker} {link}"] if link else []) + [marker]
    suffix = next((option for option in candidates if size(option) < limit), "")
    budget = limit - size(suffix)
    keep = used = 0
    while keep < len(text) and used + units(text[keep]) <= budget:
        used += units(text[keep])
        keep += 1
    keep = _grapheme_boundary(text, keep)
    return text[:keep].rstrip() + suffix


def _grapheme_boundary(text: str, index: int) -> int:
    """Move ``index`` back until cutting there keeps whole emoji, flags and accented letters."""
    while 0 < index < len(text) and (
        _extends(text[index]) or text[index - 1] == _ZWJ or _mid_flag(text, index)
    ):
        index -= 1
    return index


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        char == _ZWJ
        or unicodedata.combining(char) != 0
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji presentation)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters in subdivision flags
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _mid_flag(text: str, index: int) -> bool:
    """Whether ``index`` falls between the two regional indicators of one flag (🇩🇪 is two code points)."""
    if not _is_regional(text[index]):
        return False
    run = 0
    while index - run - 1 >= 0 and _is_regional(text[index - run - 1]):
        run += 1
    return run % 2 == 1


# Telegram's HTML: tags with optional attributes, named or numeric entities; anything else is text.
_TOKEN = re.compile(
    r"(?P<tag></?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
)


def cut_html(html: str, limit: int, marker: str = ELLIPSIS, link: str | None = None) -> str:
    """Telegram HTML whose visible text is at most ``limit`` UTF-16 units, with every kept tag closed.

    The limit counts text after entity parsing, as Telegram does: tags cost nothing, ``&amp;`` costs one.
    With ``link``, the marker is followed by the word "more" linking to it.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    tokens = _tokenize(html)
    if sum(cost for _, _, cost in tokens) <= limit:
        return html
    suffix_html, suffix_size = escape_html(marker), utf16_len(marker)
    if link and utf16_len(marker) + 5 < limit:
        suffix_html = f'{escape_html(marker)} <a href="{escape_html(link)}">more</a>'
        suffix_size = utf16_len(marker) + 5
    elif suffix_size >= limit:
        suffix_html, suffix_size = "", 0
    budget = limit - suffix_size

    # The visible total exceeds the budget, so some visible token is the first that does not fit.
    used = stop = 0
    while tokens[stop][0] == "tag" or used + tokens[stop][2] <= budget:
        used += tokens[stop][2]
        stop += 1
    kept = tokens[:stop]
    # Back off over plain characters so an emoji sequence is not split (tags and entities are whole).
    tail = ""
    for kind, text, _ in reversed(kept):
        if kind != "text":
            break
        tail = text + tail
    following = tokens[stop][1] if tokens[stop][0] == "text" else ""
    del kept[len(kept) - (len(tail) - _grapheme_boundary(tail + following, len(tail))) :]
    # Then drop what would end the cut text with nothing to show: trailing spaces, tags opened just now.
    while kept and (kept[-1][1].isspace() or (kept[-1][0] == "tag" and not kept[-1][1].startswith("</"))):
        kept.pop()
    return "".join(text for _, text, _ in kept) + _closing_tags(kept) + suffix_html


def _tokenize(html: str) -> list[tuple[str, str, int]]:
    """(kind, source text, visible UTF-16 size) for each tag, entity and character."""
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(html):
        match = _TOKEN.match(html, position)
        if match is None:
            char = html[position]
            tokens.append(("text", char, _utf16_units(char)))
            position += 1
        elif match.group("tag"):
            tokens.append(("tag", match.group(), 0))
            position = match.end()
        else:
            tokens.append(("entity", match.group(), utf16_len(unescape(match.group()))))
            position = match.end()
    return tokens


def _closing_tags(kept: list[tuple[str, str, int]]) -> str:
    """Close the tags still open at the end of ``kept``, innermost first."""
    open_tags: list[str] = []
    for kind, text, _ in kept:
        if kind != "tag" or text.endswith("/>"):
            continue
        name = _tag_name(text)
        if not text.startswith("</"):
            open_tags.append(name)
        elif name in open_tags:
            while open_tags.pop() != name:
                pass
    return "".join(f"</{name}>" for name in reversed(open_tags))


def _tag_name(tag: str) -> str:
    match = re.match(r"</?([a-zA-Z][a-zA-Z0-9-]*)", tag)
    return match.group(1).lower() if match else ""


def escape_html(text: str) -> str:
    """Escape for Telegram HTML text and attribute values (``&``, ``<``, ``>``, ``"``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def escape_slack_mrkdwn(text: str) -> str:
    """Escape the three characters Slack reserves in mrkdwn and plain text (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# GSM 03.38: the basic set costs one septet, the extension set two (escape + char). Anything else makes
# the whole message UCS-2, which halves what fits in a segment.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("\f^{}\\[~]|€")
SMS_MARKER = "..."  # "…" is not GSM-7 and would turn the whole message into UCS-2


def _gsm_units(char: str) -> int:
    return 1 if char in _GSM_BASIC else 2 if char in _GSM_EXTENDED else 0


def _is_gsm(text: str) -> bool:
    return all(_gsm_units(char) for char in text)


def _sms_capacity(gsm: bool, segments: int) -> int:
    # A concatenated message spends part of each segment on its header: 153 of 160, 67 of 70.
    if gsm:
        return 160 if segments == 1 else 153 * segments
    return 70 if segments == 1 else 67 * segments


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` is billed and sent as (GSM-7 or UCS-2), at least 1."""
    gsm = _is_gsm(text)
    size = sum(_gsm_units(char) for char in text) if gsm else utf16_len(text)
    if size <= _sms_capacity(gsm, 1):
        return 1
    per_segment = 153 if gsm else 67
    return -(-size // per_segment)


def cut_sms(text: str, segments: int = 2, marker: str = SMS_MARKER, link: str | None = None) -> str:
    """At most ``segments`` SMS segments, keeping as much text as either encoding allows."""
    if segments < 1:
        raise ValueError(f"segments must be at least 1, not {segments}")
    if sms_segments(text) <= segments:
        return text
    # GSM-7 fits more but only covers the text before its first non-GSM character; UCS-2 covers all of
    # it. Keep whichever keeps more.
    ucs2 = cut_utf16(text, _sms_capacity(False, segments), marker, link)
    first_other = next((index for index, char in enumerate(text) if not _gsm_units(char)), len(text))
    first_other = _grapheme_boundary(text, first_other)  # "é" as e + combining accent stays whole
    if first_other == 0 or not _is_gsm(marker + (link or "")):
        return ucs2
    gsm = _truncate(text[:first_other], _sms_capacity(True, segments), marker, link, _gsm_units)
    return max(ucs2, gsm, key=len)
