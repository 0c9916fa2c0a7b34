"""Cutting text to channel limits without breaking characters, emoji, tags or entities; escaping."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import (
    cut,
    cut_html,
    cut_sms,
    cut_utf16,
    escape_html,
    escape_slack_mrkdwn,
    sms_segments,
    utf16_len,
)

# --- plain text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("hello", 5, "hello"),  # fits exactly: untouched
        ("hello world", 8, "hello w…"),
        ("hello world", 7, "hello…"),  # the space before the marker is dropped
        ("hello", 1, "h"),  # no room for text and marker: a bare cut, still within the limit
        ("ab👍🏽cd", 4, "ab…"),  # skin tone stays with its emoji
        ("ab👨‍👩‍👧xyz", 7, "ab…"),  # a ZWJ family is one picture
        ("ab🇩🇪🇫🇷xyz", 5, "ab🇩🇪…"),  # two whole flags' worth of regional indicators
        ("ab🇩🇪🇫🇷xyz", 4, "ab…"),  # never half a flag
        ("cafe\u0301 bar", 5, "caf…"),  # e + combining accent stays whole
        ("❤\ufe0f love", 2, "…"),  # variation selector stays with its heart
    ],
)
def test_cut(text: str, limit: int, expected: str) -> None:
    assert cut(text, limit) == expected
    assert len(cut(text, limit)) <= limit


def test_cut_adds_the_link_when_it_fits_and_drops_it_when_not() -> None:
    text = "The disk on db-1 is 97% full and growing"
    assert cut(text, 30, link="https://t.example/i/12") == "The di… https://t.example/i/12"
    assert cut(text, 20, link="https://t.example/i/12") == "The disk on db-1 is…"


def test_cut_custom_marker_and_bad_limit() -> None:
    assert cut("abcdefghij", 8, marker="[...]") == "abc[...]"
    with pytest.raises(ValueError):
        cut("abc", 0)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("ab😀cd", 6, "ab😀cd"),  # 6 UTF-16 units: fits
        ("ab😀cd", 5, "ab😀…"),
        ("ab😀cd", 4, "ab…"),  # the emoji's two units would straddle the limit: left out whole
        ("ab😀cd", 3, "ab…"),
        ("😀😀😀", 5, "😀😀…"),
    ],
)
def test_cut_utf16_counts_like_telegram(text: str, limit: int, expected: str) -> None:
    assert cut_utf16(text, limit) == expected
    assert utf16_len(cut_utf16(text, limit)) <= limit


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1
    assert utf16_len("a" * 4096) == 4096


@settings(max_examples=200)
@given(st.text(max_size=60), st.integers(1, 40), st.sampled_from(["…", "...", ""]))
def test_cut_properties(text: str, limit: int, marker: str) -> None:
    for result, size in ((cut(text, limit, marker), len), (cut_utf16(text, limit, marker), utf16_len)):
        assert size(result) <= limit
        if size(text) <= limit:
            assert result == text
        else:
            kept = result[: len(result) - len(marker)] if marker and result.endswith(marker) else result
            assert text.startswith(kept)
            assert not any(0xD800 <= ord(char) <= 0xDFFF for char in result)


# --- Telegram HTML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "limit", "expected"),
    [
        ("<b>short</b>", 5, "<b>short</b>"),  # tags cost nothing: 5 visible characters fit
        (
            '<b>hello</b> <a href="http://x?a=1&amp;b=2">world wide</a>',
            10,
            '<b>hello</b> <a href="http://x?a=1&amp;b=2">wor</a>…',
        ),
        ("<b>hello</b> &amp;&amp;&amp; world", 9, "<b>hello</b> &amp;&amp;…"),  # entities stay whole
        ("x&lt;y&gt;z and more text", 5, "x&lt;y&gt;…"),
        (
            '<pre><code class="language-py">print(1)</code></pre> and more',
            8,
            '<pre><code class="language-py">print(1</code></pre>…',
        ),
        ("abc<b>def</b>ghi", 4, "abc…"),  # the tag straddling the limit is left out, not left empty
        ("abc <i><b>def</b></i>", 5, "abc…"),
        ("<b>ab😀cd</b>", 4, "<b>ab</b>…"),  # the emoji would straddle the UTF-16 limit
        ("<s>a👍🏽 b</s>", 4, "<s>a</s>…"),
        ("a < b and c > d", 5, "a <…"),  # a stray "<" is one character, not a tag
        ("&#128512;&#128512;&#128512;", 5, "&#128512;&#128512;…"),  # numeric entity: 2 units each
    ],
)
def test_cut_html(html: str, limit: int, expected: str) -> None:
    assert cut_html(html, limit) == expected


def test_cut_html_link_and_marker_are_escaped() -> None:
    result = cut_html("abcdefgh<b>ijk</b>", 8, link='https://t.example/i?a=1&b="2"')
    assert result == 'ab… <a href="https://t.example/i?a=1&amp;b=&quot;2&quot;">more</a>'
    assert cut_html("abcdefghijklm", 8, marker="<cut>") == "abc&lt;cut&gt;"


def test_cut_html_telegram_message_limit() -> None:
    body = "<b>DiskFull</b> " + escape_html("free < 3% & falling ") * 400
    result = cut_html(body, 4096, link="https://t.example/i/12")
    assert _visible_utf16(result) <= 4096
    assert result.startswith("<b>DiskFull</b> free &lt; 3% &amp; falling")
    assert result.endswith('… <a href="https://t.example/i/12">more</a>')


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ok = self.ok and bool(self.stack) and self.stack.pop() == tag


def _visible_utf16(html: str) -> int:
    return utf16_len(unescape(re.sub(r"<[^<>]*>", "", html)))


_fragment = st.recursive(
    st.sampled_from(["a", "word ", "&amp;", "&lt;", "😀", "👍🏽", "é", " ", "&#128512;", "x"]),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["b", "i", "u", "s", "code", "pre"]), st.lists(inner, max_size=4)).map(
            lambda pair: f"<{pair[0]}>{''.join(pair[1])}</{pair[0]}>"
        ),
        st.lists(inner, max_size=4).map(
            lambda parts: f'<a href="https://x/?a=1&amp;b=2">{"".join(parts)}</a>'
        ),
        st.lists(inner, min_size=2, max_size=4).map("".join),
    ),
    max_leaves=25,
)


@settings(max_examples=200)
@given(_fragment, st.integers(1, 30))
def test_cut_html_properties(html: str, limit: int) -> None:
    result = cut_html(html, limit)
    assert _visible_utf16(result) <= limit
    checker = _Balance()
    checker.feed(result)
    checker.close()
    assert checker.ok and not checker.stack, result
    # Every "&" still starts a whole entity.
    assert all(re.match(r"&(#[0-9]+|[a-z]+);", result[m.start() :]) for m in re.finditer("&", result))
    if _visible_utf16(html) <= limit:
        assert result == html


# --- escaping --------------------------------------------------------------------------------------------


def test_escape_html() -> None:
    assert escape_html('a < b && c > "d"') == "a &lt; b &amp;&amp; c &gt; &quot;d&quot;"
    assert escape_html("it's") == "it's"
    assert escape_html("&amp;") == "&amp;amp;"  # escaping is not idempotent: escape once, at the edge


def test_escape_slack_mrkdwn() -> None:
    assert escape_slack_mrkdwn("<!channel> & <@U1> > x") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; x"
    assert escape_slack_mrkdwn('*bold* "q"') == '*bold* "q"'


# --- SMS ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),  # concatenated: 153 per segment
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),  # extension characters cost two septets
        ("{" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM basic set
        ("ç" * 70, 1),  # ç is not (only Ç is): UCS-2, 70 per segment
        ("ç" * 71, 2),
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("😀" * 36, 2),
        ("…" + "a" * 69, 1),
        ("…" + "a" * 70, 2),  # one typographic ellipsis makes the whole message UCS-2
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_cut_sms_prefers_gsm_and_an_ascii_marker() -> None:
    result = cut_sms("a" * 400)
    assert len(result) == 306 and result.endswith("...") and sms_segments(result) == 2
    # GSM-7 on the text before the emoji keeps more than UCS-2 on everything.
    mixed = cut_sms("a" * 200 + "😀" + "b" * 200)
    assert mixed == "a" * 200 + "..."
    # An emoji up front forces UCS-2: 2 × 67 units.
    unicode_first = cut_sms("😀" + "b" * 400)
    assert utf16_len(unicode_first) <= 134 and sms_segments(unicode_first) == 2
    assert cut_sms("ack 12") == "ack 12"
    linked = cut_sms("x" * 500, segments=1, link="https://t.example/i/12")
    assert linked.endswith("... https://t.example/i/12") and sms_segments(linked) == 1


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from("ab {€é😀ç\n"), max_size=500), st.integers(1, 3))
def test_cut_sms_never_exceeds_segments(text: str, segments: int) -> None:
    result = cut_sms(text, segments)
    assert sms_segments(result) <= segments
    if sms_segments(text) <= segments:
        assert result == text
