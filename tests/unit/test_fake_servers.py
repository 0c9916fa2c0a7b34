"""The loopback fakes, driven through the real SDK clients over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import telegram
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply
from tests.fakes.slack_api import FakeSlackApi, sign_slack_request
from tests.fakes.telegram_api import (
    FakeTelegramApi,
    make_callback_query_update,
    make_message_update,
)
from tests.fakes.twilio_api import FakeTwilioApi, sign_twilio_request, twilio_http_client
from tests.support.fixtures import FIXTURES

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The async clients ignore NO_PROXY: a proxy from the environment would swallow loopback traffic.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- the shared base ---------------------------------------------------------------------------------


class EchoFake(HttpFake):
    def handle(self, request: RecordedRequest) -> Reply:
        return Reply.json({"path": request.path, "params": request.params})


def test_base_records_requests_and_replays_injected_failures() -> None:
    with EchoFake() as fake, httpx.Client(trust_env=False) as http:
        fake.fail_next(r"/things/\d+", Reply.json({"no": True}, status=503), times=2, method="POST")
        statuses = [http.post(f"{fake.origin}/things/7?x=1", data={"a": "b"}).status_code for _ in range(3)]
        http.post(f"{fake.origin}/other", json={"k": [1]})

        assert statuses == [503, 503, 200]
        first, *_, last = fake.requests
        assert (first.method, first.path, first.query, first.form) == (
            "POST",
            "/things/7",
            {"x": ["1"]},
            {"a": "b"},
        )
        assert first.injected and first.status == 503
        assert first.header("Content-Type") == "application/x-www-form-urlencoded"
        assert last.json == {"k": [1]} and last.body == b'{"k":[1]}'
        assert len(fake.requests_to(r"/things/\d+", method="POST")) == 3
        assert fake.pending_failures() == 0


def test_base_wait_for_wakes_on_a_request_from_another_thread() -> None:
    with EchoFake() as fake:
        sender = threading.Timer(0.05, lambda: httpx.post(f"{fake.origin}/late", trust_env=False))
        sender.start()
        request = fake.wait_for_request(lambda r: r.path == "/late", timeout=5)
        sender.join()
        assert request.status == 200
        with pytest.raises(AssertionError, match="not met"):
            fake.wait_for(lambda: len(fake.requests) > 5, timeout=0.05)


def test_base_failure_until_cleared_and_delayed_reply() -> None:
    with EchoFake() as fake, httpx.Client(trust_env=False) as http:
        fake.fail_next(r"/.*", Reply(status=500), times=None, when=lambda r: r.query.get("q") == ["bad"])
        assert http.get(f"{fake.origin}/a?q=bad").status_code == 500
        assert http.get(f"{fake.origin}/a?q=bad").status_code == 500
        assert http.get(f"{fake.origin}/a?q=good").status_code == 200
        fake.clear_failures()
        assert http.get(f"{fake.origin}/a?q=bad").status_code == 200

        fake.fail_next(r"/slow", Reply(status=200, delay=1.0))
        with pytest.raises(httpx.ReadTimeout):
            http.get(f"{fake.origin}/slow", timeout=0.2)


# -- Slack -------------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlackApi]:
    with FakeSlackApi(token="xoxb-test") as fake:
        yield fake


def slack_client(fake: FakeSlackApi, token: str = "xoxb-test") -> WebClient:
    return WebClient(token=token, base_url=fake.base_url)


def test_slack_posts_then_edits_one_card_in_place(slack: FakeSlackApi) -> None:
    client = slack_client(slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*#42* CPU high"}}]
    posted = client.chat_postMessage(channel="C1", text="#42 CPU high", blocks=blocks)
    client.chat_postMessage(channel="C1", text="Ana acknowledged", thread_ts=posted["ts"])
    acked = [{"type": "section", "text": {"type": "mrkdwn", "text": "*#42* acknowledged"}}]
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="#42 acknowledged", blocks=acked)

    assert re.fullmatch(r"\d{10}\.\d{6}", posted["ts"]) and posted["channel"] == "C1"
    assert posted["message"]["blocks"] == blocks and updated["ts"] == posted["ts"]
    card, reply = slack.messages("C1")
    assert reply.ts > card.ts and reply.thread_ts == card.ts
    assert (card.text, card.blocks, card.edits) == ("#42 acknowledged", acked, [("#42 CPU high", blocks)])
    assert slack.thread_replies("C1", card.ts) == [reply]
    assert slack.requests[0].header("authorization") == "Bearer xoxb-test"
    assert slack.requests[0].json["channel"] == "C1"  # slack_sdk sends chat.* as JSON


def test_slack_users_dms_and_form_encoded_methods(slack: FakeSlackApi) -> None:
    client = slack_client(slack)
    slack.add_user("U1", email="ana@example.com", real_name="Ana", tz="Europe/Berlin")

    assert client.users_lookupByEmail(email="ana@example.com")["user"]["id"] == "U1"
    assert client.users_info(user="U1")["user"]["tz"] == "Europe/Berlin"
    dm = client.conversations_open(users="U1")["channel"]["id"]
    posted = client.chat_postMessage(channel="U1", text="You are paged")
    client.reactions_add(channel=dm, timestamp=posted["ts"], name="eyes")
    link = client.chat_getPermalink(channel=dm, message_ts=posted["ts"])["permalink"]
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="Only you")

    assert posted["channel"] == dm == slack.dm_channel("U1")
    assert slack.message(dm, posted["ts"]).reactions == ["eyes"]
    assert link.endswith(posted["ts"].replace(".", ""))
    assert slack.ephemerals()[0].message_ts == ephemeral["message_ts"]
    reaction = slack.requests_to(r"/api/reactions\.add")[0]
    assert reaction.form["name"] == "eyes"  # form-encoded, unlike chat.*
    with pytest.raises(SlackApiError) as missing:
        client.users_lookupByEmail(email="nobody@example.com")
    assert missing.value.response["error"] == "users_not_found"


def test_slack_views_open_and_update(slack: FakeSlackApi) -> None:
    client = slack_client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Silence"}, "blocks": []}
    opened = client.views_open(trigger_id="111.222.valid", view=view)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view={**view, "blocks": [1]})

    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    assert slack.views()[opened["id"]]["blocks"] == [1]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)


def test_slack_checks_the_bot_token(slack: FakeSlackApi) -> None:
    assert slack_client(slack).auth_test()["user_id"] == slack.bot_user_id
    with pytest.raises(SlackApiError) as error:
        slack_client(slack, token="xoxb-wrong").chat_postMessage(channel="C1", text="hi")
    assert error.value.response["error"] == "invalid_auth"
    assert slack.messages() == []


def test_slack_bolt_app_constructor_reaches_the_fake(slack: FakeSlackApi) -> None:
    App(signing_secret="secret", client=slack_client(slack))
    assert [r.path for r in slack.requests] == ["/api/auth.test"]


def test_slack_429_raises_with_retry_after(slack: FakeSlackApi) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as error:
        slack_client(slack).chat_postMessage(channel="C1", text="hi")
    response = error.value.response
    assert (response.status_code, response["error"], response.headers["Retry-After"]) == (
        429,
        "ratelimited",
        "7",
    )


def test_slack_429_is_retried_by_the_rate_limit_handler(slack: FakeSlackApi) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=0)
    client = slack_client(slack)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [r.status for r in slack.requests] == [429, 200]
    assert len(slack.messages("C1")) == 1


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "message_limit_exceeded",
    ],
)
def test_slack_errors_per_channel(slack: FakeSlackApi, error: str) -> None:
    slack.fail_next_call(None, error, channel="C_BAD", times=None)
    client = slack_client(slack)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C_BAD", text="hi")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (200, error)
    assert client.chat_postMessage(channel="C_OK", text="hi")["ok"]
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C_BAD", ts="1.2", text="still failing")


def _slack_vectors() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "slack/slack_signing_vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", _slack_vectors(), ids=lambda v: v["name"].split(" ")[0])
def test_sign_slack_request_matches_the_shared_vectors(vector: dict[str, Any]) -> None:
    body = vector.get("raw_body", "").encode()
    if "raw_body_file" in vector:
        body = (FIXTURES / "slack" / vector["raw_body_file"]).read_bytes()
    timestamp = vector["headers"]["X-Slack-Request-Timestamp"]
    ours = sign_slack_request(vector["signing_secret"], body, timestamp)

    class FixedClock(Clock):
        def now(self) -> float:
            return float(vector["verify_at_unix_time"])

    verifier = SignatureVerifier(vector["signing_secret"], clock=FixedClock())
    assert (
        verifier.is_valid(body, timestamp, vector["headers"]["X-Slack-Signature"]) is vector["expected_valid"]
    )
    assert verifier.is_valid(body, timestamp, ours["X-Slack-Signature"]) is (
        abs(int(timestamp) - vector["verify_at_unix_time"]) <= 300
    )
    if vector["expected_valid"]:
        assert ours == {k: v for k, v in vector["headers"].items() if k.startswith("X-Slack")}


# -- Telegram ----------------------------------------------------------------------------------------

GROUP = -400000001


@pytest.fixture
def tg() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi() as fake:
        yield fake


def run_bot(fake: FakeTelegramApi, action: Any, token: str | None = None) -> Any:
    """Run `await action(bot)` on a Bot pointed at the fake (initialize() calls getMe)."""

    async def main() -> Any:
        async with telegram.Bot(token or fake.token, base_url=fake.base_url) as bot:
            return await action(bot)

    return asyncio.run(main())


def ack_keyboard(data: str = "v1:ack:42") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Acknowledge", callback_data=data)]])


def test_telegram_send_edit_and_answer_callback(tg: FakeTelegramApi) -> None:
    async def flow(bot: telegram.Bot) -> Any:
        first = await bot.send_message(
            GROUP, "<b>#42</b> CPU &amp; load", parse_mode="HTML", reply_markup=ack_keyboard()
        )
        second = await bot.send_message(GROUP, "#43 disk")
        edited = await bot.edit_message_text("<b>#42</b> acked", GROUP, first.message_id, parse_mode="HTML")
        markup = await bot.edit_message_reply_markup(
            GROUP, second.message_id, reply_markup=ack_keyboard("v1:ack:43")
        )
        answered = await bot.answer_callback_query("1000", text="Acknowledged")
        return first, second, edited, markup, answered

    first, second, edited, markup, answered = run_bot(tg, flow)

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.text == "#42 CPU & load" and first.chat.type == "group" and first.from_user.is_bot
    assert first.reply_markup.inline_keyboard[0][0].callback_data == "v1:ack:42"
    assert edited.text == "#42 acked" and edited.edit_date is not None and answered is True
    card = tg.message(GROUP, 1)
    assert (card.text, card.reply_markup) == ("<b>#42</b> acked", None)  # an edit without markup drops it
    assert card.edits[0][0] == "<b>#42</b> CPU &amp; load"
    assert tg.message(GROUP, 2).reply_markup == markup.reply_markup.to_dict()
    assert tg.callback_answers() == [{"callback_query_id": "1000", "text": "Acknowledged"}]
    assert tg.requests[0].path.endswith("/getMe")


def test_telegram_refuses_an_edit_that_changes_nothing(tg: FakeTelegramApi) -> None:
    async def flow(bot: telegram.Bot) -> None:
        sent = await bot.send_message(GROUP, "#42 open", reply_markup=ack_keyboard())
        await bot.edit_message_text("#42 open", GROUP, sent.message_id, reply_markup=ack_keyboard())

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        run_bot(tg, flow)


@pytest.mark.parametrize("data", ["x" * 65, "ü" * 33])  # 65 bytes; 33 characters but 66 bytes
def test_telegram_rejects_callback_data_over_64_bytes(tg: FakeTelegramApi, data: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        run_bot(tg, lambda bot: bot.send_message(GROUP, "#42", reply_markup=ack_keyboard(data)))
    assert run_bot(tg, lambda bot: bot.send_message(GROUP, "#42", reply_markup=ack_keyboard("x" * 64)))
    assert len(tg.messages(GROUP)) == 1


def test_telegram_counts_text_length_after_parsing_in_utf16_units(tg: FakeTelegramApi) -> None:
    html_4096 = "<b>" + "a" * 4096 + "</b>"
    assert run_bot(tg, lambda bot: bot.send_message(GROUP, html_4096, parse_mode="HTML"))
    for too_long in ("a" * 4097, "😀" * 2049):  # the emoji count two UTF-16 units each
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            run_bot(tg, lambda bot, text=too_long: bot.send_message(GROUP, text))


def test_telegram_rate_limit_raises_retry_after(tg: FakeTelegramApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22 warns unless opted in to timedelta values
    tg.rate_limit_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        run_bot(tg, lambda bot: bot.send_message(GROUP, "#42"))
    assert raised.value.retry_after == dt.timedelta(seconds=3)
    assert tg.requests[-1].status == 429
    assert run_bot(tg, lambda bot: bot.send_message(GROUP, "#42")).message_id == 1


def test_telegram_blocked_bot_raises_forbidden_for_that_chat_only(tg: FakeTelegramApi) -> None:
    tg.block_bot(100000001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        run_bot(tg, lambda bot: bot.send_message(100000001, "You are paged"))
    assert run_bot(tg, lambda bot: bot.send_message(100000002, "You are paged")).chat.type == "private"


def test_telegram_migrated_group_raises_chat_migrated(tg: FakeTelegramApi) -> None:
    tg.migrate_chat(GROUP, -1001234567890)
    with pytest.raises(ChatMigrated) as raised:
        run_bot(tg, lambda bot: bot.send_message(GROUP, "#42"))
    assert raised.value.new_chat_id == -1001234567890
    sent = run_bot(tg, lambda bot: bot.send_message(raised.value.new_chat_id, "#42"))
    assert sent.chat.type == "supergroup"


def test_telegram_rejects_a_wrong_token(tg: FakeTelegramApi) -> None:
    with pytest.raises(InvalidToken):
        run_bot(tg, lambda bot: bot.get_me(), token="999:wrong")


def test_telegram_webhook_methods(tg: FakeTelegramApi) -> None:
    async def flow(bot: telegram.Bot) -> Any:
        updates = await bot.get_updates()
        await bot.set_webhook("https://oncall.example.com/telegram/webhook", secret_token="s3cret_-A")
        info = await bot.get_webhook_info()
        try:
            await bot.get_updates()
        except Conflict as conflict:
            clash = conflict
        await bot.delete_webhook()
        return updates, info, clash

    updates, info, clash = run_bot(tg, flow)
    assert updates == () and info.url == "https://oncall.example.com/telegram/webhook"
    assert "webhook is active" in clash.message and tg.webhook is None


def test_telegram_update_builders_parse_like_the_fixtures(tg: FakeTelegramApi) -> None:
    fixture = json.loads((FIXTURES / "telegram/tg_update_callback_query_group_ack.json").read_text())
    sent = run_bot(tg, lambda bot: bot.send_message(GROUP, "#42", reply_markup=ack_keyboard()))
    pressed = tg.callback_update(GROUP, sent.message_id, "v1:ack:42", from_user_id=100000001)
    command = make_message_update("/ack 42", chat_id=GROUP, from_user_id=100000001)
    loose = make_callback_query_update("v1:ack:7", message=sent.to_dict(), from_user_id=5)

    assert pressed["callback_query"].keys() == fixture["callback_query"].keys()
    bot = telegram.Bot(tg.token, base_url=tg.base_url)
    query = Update.de_json(pressed, bot).callback_query
    assert (query.data, query.message.message_id, query.message.chat.id) == ("v1:ack:42", 1, GROUP)
    message = Update.de_json(command, bot).message
    assert message.text == "/ack 42" and message.parse_entities() == {message.entities[0]: "/ack"}
    assert Update.de_json(loose, bot).callback_query.message.chat.type == "group"
    assert pressed["update_id"] != command["update_id"]


# -- Twilio ------------------------------------------------------------------------------------------

BOT_NUMBER = "+15555550199"
USER_NUMBER = "+15555550100"
PUBLIC = "https://oncall.example.com"


@pytest.fixture
def twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as fake:
        yield fake


def twilio_client(fake: FakeTwilioApi, token: str | None = None) -> Client:
    return Client(fake.account_sid, token or fake.auth_token, http_client=twilio_http_client(fake))


def test_twilio_messages_and_calls_are_created_fetched_and_recorded(twilio: FakeTwilioApi) -> None:
    client = twilio_client(twilio)
    sms = client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="#42 CPU high. Reply 1 to ack.")
    call = client.calls.create(
        to=USER_NUMBER,
        from_=BOT_NUMBER,
        url=f"{PUBLIC}/twilio/voice/answer?incident=42",
        status_callback=f"{PUBLIC}/twilio/voice/status",
        status_callback_event=["initiated", "answered", "completed"],
    )

    assert re.fullmatch(r"SM[0-9a-f]{32}", sms.sid) and re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert (sms.status, sms.to, sms.from_, sms.body) == (
        "queued",
        USER_NUMBER,
        BOT_NUMBER,
        "#42 CPU high. Reply 1 to ack.",
    )
    assert sms.date_created.tzinfo is not None and call.status == "queued"
    assert client.messages(sms.sid).fetch().body == sms.body
    assert client.calls(call.sid).fetch().to == USER_NUMBER
    assert twilio.messages()[0].params["Body"] == sms.body
    assert twilio.calls()[0].status_callback_events == ("initiated", "answered", "completed")
    assert client.calls(call.sid).update(status="completed").status == "completed"
    assert twilio.requests[0].header("authorization", "").startswith("Basic ")


def test_twilio_invalid_number_raises_21211(twilio: FakeTwilioApi) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client(twilio).messages.create(to="12345", from_=BOT_NUMBER, body="hi")
    assert (raised.value.status, raised.value.code) == (400, 21211)
    assert "not a valid phone number" in raised.value.msg and twilio.messages() == []


def test_twilio_injected_errors_rate_limits_and_outages(twilio: FakeTwilioApi) -> None:
    client = twilio_client(twilio)
    twilio.fail_next_call("Messages", 21610, "Attempt to send to unsubscribed recipient", to=USER_NUMBER)
    twilio.rate_limit_next("Calls")
    twilio.server_error_next(None, status=503)
    outcomes = []
    for create in (
        lambda: client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi"),
        lambda: client.calls.create(to=USER_NUMBER, from_=BOT_NUMBER, twiml="<Response/>"),
        lambda: client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi"),
    ):
        with pytest.raises(TwilioRestException) as raised:
            create()
        outcomes.append((raised.value.status, raised.value.code))

    assert outcomes == [(400, 21610), (429, 20429), (503, 20503)]
    assert client.messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi").status == "queued"


def test_twilio_checks_basic_auth(twilio: FakeTwilioApi) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client(twilio, token="wrong").messages.create(to=USER_NUMBER, from_=BOT_NUMBER, body="hi")
    assert (raised.value.status, raised.value.code) == (401, 20003)


def _twilio_vectors() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "twilio/twilio_signature_vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", _twilio_vectors(), ids=lambda v: v["name"].split(" ")[0])
def test_sign_twilio_request_matches_the_shared_vectors(vector: dict[str, Any]) -> None:
    token, url = vector["auth_token"], vector["url"]
    validator = RequestValidator(token)
    if "raw_body" in vector:  # a JSON body: the URL carries bodySHA256 and is signed alone
        ours = sign_twilio_request(token, url)
        assert ours == vector["expected_signature"]
        assert validator.validate(url, vector["raw_body"], ours)
        return
    if "body_file" in vector:
        params: Any = dict(
            parse_qsl((FIXTURES / "twilio" / vector["body_file"]).read_text(), keep_blank_values=True)
        )
        params.update(vector.get("override_params", {}))
    else:
        params = vector.get("params") or [tuple(pair) for pair in vector["params_ordered_pairs"]]
    ours = sign_twilio_request(token, url, params)
    if "expected_signature" in vector:
        assert ours == vector["expected_signature"]
    if isinstance(params, dict):
        assert validator.compute_signature(url, params) == ours
        header = vector.get("header_signature", vector.get("expected_signature"))
        assert validator.validate(url, params, header) is vector.get("expected_valid", True)
        assert validator.validate(url, params, ours)


class FakeTocsinTwilioRoutes(HttpFake):
    """Stands in for Tocsin's Twilio routes: checks X-Twilio-Signature against the public URL."""

    def __init__(self, auth_token: str) -> None:
        super().__init__()
        self.validator = RequestValidator(auth_token)

    def handle(self, request: RecordedRequest) -> Reply:
        public_url = PUBLIC + request.path + (f"?{request.query_string}" if request.query_string else "")
        signed_params = request.form if request.method == "POST" else {}
        if not self.validator.validate(public_url, signed_params, request.header("x-twilio-signature", "")):
            return Reply(status=403)
        gather = f'<Gather numDigits="1" action="{PUBLIC}/twilio/voice/gather?incident=42"><Say>Press 1</Say></Gather>'
        return Reply(body=f"<Response>{gather}</Response>".encode(), headers={"Content-Type": "text/xml"})


def test_twilio_calls_back_with_signed_requests(twilio: FakeTwilioApi) -> None:
    client = twilio_client(twilio)
    with FakeTocsinTwilioRoutes(twilio.auth_token) as tocsin:
        call = client.calls.create(
            to=USER_NUMBER,
            from_=BOT_NUMBER,
            url=f"{PUBLIC}/twilio/voice/answer?incident=42",
            status_callback=f"{PUBLIC}/twilio/voice/status",
        )
        sms = client.messages.create(
            to=USER_NUMBER, from_=BOT_NUMBER, body="#42", status_callback=f"{PUBLIC}/twilio/sms/status"
        )

        twiml = twilio.answer_call(call.sid, via=tocsin.origin)
        gathered = twilio.send_gather_digits(
            call.sid, "1", url=f"{PUBLIC}/twilio/voice/gather?incident=42", via=tocsin.origin
        )
        completed = twilio.send_call_status(call.sid, "completed", duration=12, via=tocsin.origin)
        failed = twilio.send_sms_status(sms.sid, "failed", error_code=30007, via=tocsin.origin)
        inbound = twilio.send_inbound_sms(
            f"{PUBLIC}/twilio/sms/inbound", from_=USER_NUMBER, body="ack 42", via=tocsin.origin
        )
        by_get = twilio.fetch_twiml(
            f"{PUBLIC}/twilio/voice/answer", {"CallSid": call.sid}, method="GET", via=tocsin.origin
        )
        forged = httpx.post(f"{tocsin.origin}/twilio/sms/inbound", data={"Body": "ack 42"}, trust_env=False)

        assert "<Gather" in twiml
        assert [r.status_code for r in (gathered, completed, failed, inbound, by_get, forged)] == [
            200
        ] * 5 + [403]
        answer, gather, status, dlr, sms_in, _, _ = tocsin.requests
        assert (answer.path, answer.form["CallStatus"], answer.form["CallSid"]) == (
            "/twilio/voice/answer",
            "in-progress",
            call.sid,
        )
        assert (gather.form["Digits"], gather.form["msg"]) == ("1", "Gather End")
        assert (status.form["CallStatus"], status.form["CallDuration"]) == ("completed", "12")
        assert (dlr.form["MessageStatus"], dlr.form["ErrorCode"]) == ("failed", "30007")
        assert (sms_in.form["Body"], sms_in.form["To"]) == ("ack 42", BOT_NUMBER)
        assert client.calls(call.sid).fetch().status == "completed"
        assert client.messages(sms.sid).fetch().status == "failed"
