"""The button codec: one string per button, at most 64 bytes, and nothing but our own strings decode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.actions import (
    KEYPAD_SILENCE_SECONDS,
    MAX_BYTES,
    Action,
    ActionKind,
    ButtonDataTooLong,
    decode,
    encode,
    fits,
    keypad_action,
)
from bot.duration import MAX_SECONDS

INCIDENT = "IKX3M9Q2PRT7W"  # the shape engine.db.base.new_id mints


@pytest.mark.parametrize(
    ("action", "data"),
    [
        (Action(ActionKind.ACKNOWLEDGE, INCIDENT), "v1:ack:IKX3M9Q2PRT7W"),
        (Action(ActionKind.UNACKNOWLEDGE, INCIDENT), "v1:unack:IKX3M9Q2PRT7W"),
        (Action(ActionKind.RESOLVE, INCIDENT), "v1:res:IKX3M9Q2PRT7W"),
        (Action(ActionKind.UNRESOLVE, INCIDENT), "v1:unres:IKX3M9Q2PRT7W"),
        (Action(ActionKind.SILENCE, INCIDENT, seconds=3600), "v1:sil:IKX3M9Q2PRT7W:3600"),
        (Action(ActionKind.UNSILENCE, INCIDENT), "v1:unsil:IKX3M9Q2PRT7W"),
        (Action(ActionKind.ADD_NOTE, INCIDENT), "v1:note:IKX3M9Q2PRT7W"),
        (Action(ActionKind.PAGE_MORE, INCIDENT), "v1:more:IKX3M9Q2PRT7W"),
        (Action(ActionKind.RUNBOOK, INCIDENT), "v1:rb:IKX3M9Q2PRT7W"),
        (Action(ActionKind.TRIGGER_WEBHOOK, INCIDENT, webhook_id="W001"), "v1:wh:IKX3M9Q2PRT7W:W001"),
    ],
)
def test_wire_format_is_stable(action: Action, data: str) -> None:
    # Buttons already posted carry these strings; changing them breaks old cards.
    assert encode(action) == data
    assert decode(data) == action


def test_every_kind_has_a_code() -> None:
    for kind in ActionKind:
        action = Action(
            kind,
            INCIDENT,
            seconds=60 if kind is ActionKind.SILENCE else None,
            webhook_id="W1" if kind is ActionKind.TRIGGER_WEBHOOK else None,
        )
        assert decode(encode(action)) == action


def test_worst_case_with_minted_ids_fits() -> None:
    silence = Action(ActionKind.SILENCE, INCIDENT, seconds=MAX_SECONDS)
    assert len(encode(silence).encode()) <= MAX_BYTES
    # Room left for a webhook id next to a minted incident id: 64 - len("v1:wh:") - 13 - 1 = 44 bytes.
    webhook = Action(ActionKind.TRIGGER_WEBHOOK, INCIDENT, webhook_id="W" * 44)
    assert len(encode(webhook).encode()) == MAX_BYTES


def test_too_long_ids_raise_a_clear_error_instead_of_being_shortened() -> None:
    action = Action(ActionKind.ACKNOWLEDGE, "I" * 64)  # legal in the database, too long for a button
    assert not fits(action)
    with pytest.raises(ButtonDataTooLong, match="71 bytes; Telegram allows 64"):
        encode(action)
    webhook = Action(ActionKind.TRIGGER_WEBHOOK, INCIDENT, webhook_id="W" * 45)
    assert not fits(webhook)
    assert isinstance(ButtonDataTooLong("x"), ValueError)


def test_limit_is_bytes_not_characters() -> None:
    # 20 three-byte characters are 20 characters but 60 bytes.
    action = Action(ActionKind.ACKNOWLEDGE, "事" * 20)
    assert not fits(action)
    assert fits(Action(ActionKind.ACKNOWLEDGE, "事" * 19))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Action(ActionKind.SILENCE, INCIDENT),
        lambda: Action(ActionKind.SILENCE, INCIDENT, seconds=0),
        lambda: Action(ActionKind.SILENCE, INCIDENT, seconds=MAX_SECONDS + 1),
        lambda: Action(ActionKind.ACKNOWLEDGE, INCIDENT, seconds=60),
        lambda: Action(ActionKind.TRIGGER_WEBHOOK, INCIDENT),
        lambda: Action(ActionKind.RESOLVE, INCIDENT, webhook_id="W1"),
        lambda: Action(ActionKind.ACKNOWLEDGE, ""),
        lambda: Action(ActionKind.ACKNOWLEDGE, "I:1"),
        lambda: Action(ActionKind.ACKNOWLEDGE, "I 1"),
        lambda: Action(ActionKind.ACKNOWLEDGE, "I\n1"),
        lambda: Action(ActionKind.ACKNOWLEDGE, "I\ud8001"),
        lambda: Action(ActionKind.TRIGGER_WEBHOOK, INCIDENT, webhook_id="W:1"),
    ],
)
def test_invalid_actions_are_refused_when_built(bad: Callable[[], Action]) -> None:
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "click_me_123",  # the Slack fixture's button value
        "/ack 123",
        "v1",
        "v1:ack",
        "v1:ack:",
        "v2:ack:IKX3M9Q2PRT7W",
        "V1:ack:IKX3M9Q2PRT7W",
        "v1:ACK:IKX3M9Q2PRT7W",
        "v1:bogus:IKX3M9Q2PRT7W",
        "v1:ack:IKX3M9Q2PRT7W:extra",
        "v1:sil:IKX3M9Q2PRT7W",
        "v1:sil:IKX3M9Q2PRT7W:",
        "v1:sil:IKX3M9Q2PRT7W:0",
        "v1:sil:IKX3M9Q2PRT7W:03600",
        "v1:sil:IKX3M9Q2PRT7W:+3600",
        "v1:sil:IKX3M9Q2PRT7W:٣٦٠٠",
        "v1:sil:IKX3M9Q2PRT7W:1_000",
        "v1:sil:IKX3M9Q2PRT7W:2592001",
        "v1:sil:IKX3M9Q2PRT7W:99999999999999999999",
        "v1:wh:IKX3M9Q2PRT7W",
        "v1:wh:IKX3M9Q2PRT7W:",
        "v1:wh:IKX3M9Q2PRT7W:W1:more",
        "v1:ack:I KX",
        "v1:ack:" + "I" * 60,
        "v1:ack:\ud800",
    ],
)
def test_decode_returns_none_for_anything_not_ours(data: str | None) -> None:
    assert decode(data) is None


def test_other_bots_callback_data_in_fixtures_is_not_ours(fixtures_dir: Path) -> None:
    for name in ("tg_update_callback_query_group_ack.json", "tg_update_callback_query_group_close.json"):
        update = json.loads((fixtures_dir / "telegram" / name).read_text())
        assert decode(update["callback_query"]["data"]) is None
    slack = json.loads((fixtures_dir / "slack" / "slack_block_actions_button.json").read_text())
    assert decode(slack["actions"][0]["value"]) is None


def test_keypad_digits() -> None:
    assert keypad_action("1", INCIDENT) == Action(ActionKind.ACKNOWLEDGE, INCIDENT)
    assert keypad_action("2", INCIDENT) == Action(ActionKind.RESOLVE, INCIDENT)
    assert keypad_action(" 3 ", INCIDENT) == Action(
        ActionKind.SILENCE, INCIDENT, seconds=KEYPAD_SILENCE_SECONDS
    )
    assert KEYPAD_SILENCE_SECONDS == 30 * 60
    for digits in ("", "0", "4", "9", "12", "*", "#"):
        assert keypad_action(digits, INCIDENT) is None


_ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=":\x85"),
    min_size=1,
    max_size=20,
)
_actions = st.builds(
    lambda kind, incident, seconds, webhook: Action(
        kind,
        incident,
        seconds=seconds if kind is ActionKind.SILENCE else None,
        webhook_id=webhook if kind is ActionKind.TRIGGER_WEBHOOK else None,
    ),
    st.sampled_from(ActionKind),
    _ids,
    st.integers(1, MAX_SECONDS),
    _ids,
)


@settings(max_examples=200)
@given(_actions)
def test_round_trip(action: Action) -> None:
    if not fits(action):
        with pytest.raises(ButtonDataTooLong):
            encode(action)
        return
    data = encode(action)
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == action


@settings(max_examples=200)
@given(
    st.one_of(
        st.text(max_size=80), st.from_regex(r"v1:(ack|sil|wh|rb):[^:]{0,20}(:[^:]{0,10})?", fullmatch=True)
    )
)
def test_decode_never_raises_and_accepts_only_canonical_strings(data: str) -> None:
    action = decode(data)
    if action is not None:
        assert encode(action) == data
