"""Twilio calling Tocsin: inbound SMS, call TwiML and keypad, status callbacks; all signature-checked.

Every request must carry a valid ``X-Twilio-Signature`` computed over ``TOCSIN_PUBLIC_URL`` plus the
path (and query), never over the URL this process saw: behind a TLS proxy they differ. An invalid
one gets 403 before anything is read from or written to the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from adapters.templating.channel import render_channel
from adapters.twilio.errors import describe
from bot import commands
from bot.actions import keypad_action
from bot.conversation import Conversation
from bot.inbound import ChatIdentity, KeypadInput, Provider, TextReply
from bot.text import cut_sms
from engine.services import delivery_status, phones
from engine.services.delivery_status import Outcome
from engine.services.deps import Deps

log = logging.getLogger(__name__)

GATHER_TIMEOUT = 8
XML = "application/xml"
SMS_STATUS = {
    "sent": Outcome.SENT,
    "delivered": Outcome.DELIVERED,
    # Some segments of a multi-part SMS arrived: the page reached the phone.
    "partially_delivered": Outcome.DELIVERED,
    "failed": Outcome.FAILED,
    "undelivered": Outcome.FAILED,
}
CALL_STATUS = {
    "in-progress": Outcome.SENT,
    "completed": Outcome.CALL_ENDED,
    "busy": Outcome.NOT_REACHED,
    "no-answer": Outcome.NOT_REACHED,
    "failed": Outcome.NOT_REACHED,
    "canceled": Outcome.NOT_REACHED,
}
# Statuses that change nothing here (still on the way, or about inbound messages).
SMS_IN_FLIGHT = {"accepted", "scheduled", "queued", "sending", "receiving", "received", "read", "canceled"}
CALL_IN_FLIGHT = {"queued", "initiated", "ringing"}
CALL_WORDS = {"busy": "busy", "no-answer": "no answer", "failed": "call failed", "canceled": "call cancelled"}


def _twiml(body: str) -> Response:
    return Response(content=body, media_type=XML)


def _message(text: str | None) -> Response:
    """A TwiML answer to an inbound SMS: one reply message, or nothing."""
    if not text:
        return _twiml('<?xml version="1.0" encoding="UTF-8"?><Response/>')
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _twiml(f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escaped}</Message></Response>')


class TwilioWebhooks:
    def __init__(self, deps: Deps, conversation: Conversation, auth_token: str, public_base: str) -> None:
        self.deps = deps
        self.conversation = conversation
        self.validator = RequestValidator(auth_token)
        self.public_base = public_base

    async def signed_form(self, request: Request) -> FormData | None:
        """The posted form when Twilio signed it for our public URL; None otherwise."""
        form = await request.form()
        url = self.public_base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not self.validator.validate(url, form, signature):
            log.warning("rejected a Twilio request to %s: bad or missing signature", request.url.path)
            return None
        return form

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/twilio", tags=["twilio"], include_in_schema=False)

        def signed(handler: Callable[[FormData, Request], Response]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                form = await self.signed_form(request)
                if form is None:
                    return Response(content="invalid signature", status_code=403, media_type="text/plain")
                return await run_in_threadpool(handler, form, request)

            return endpoint

        router.add_api_route("/sms", signed(self.inbound_sms), methods=["POST"])
        router.add_api_route("/sms/status", signed(self.sms_status), methods=["POST"])
        router.add_api_route("/voice/status", signed(self.call_status), methods=["POST"])
        router.add_api_route("/voice/test", signed(self.test_call), methods=["POST"])
        router.add_api_route("/voice/{delivery_id}", signed(self.call_twiml), methods=["POST"])
        router.add_api_route("/voice/{delivery_id}/keypad", signed(self.keypad), methods=["POST"])
        return router

    # -- SMS ------------------------------------------------------------------------------------------

    def inbound_sms(self, form: FormData, _request: Request) -> Response:
        number = str(form.get("From", ""))
        text = str(form.get("Body", ""))
        command = commands.parse(text, sms=True)
        if isinstance(command, commands.OptOut):
            # Twilio stops delivering to this number itself; knowing it here lets the next rule take over
            # at once instead of after a 21610 refusal. Twilio sends its own STOP answer, so none here.
            phones.opt_out(self.deps, number)
            log.info("SMS opt-out (STOP) from %s", number)
            return _message(None)
        if isinstance(command, commands.OptIn):
            phones.opt_in(self.deps, number)
            log.info("SMS opt-in (START) from %s", number)
            return _message(None)
        if isinstance(command, commands.Ack | commands.Resolve) and command.number is None:
            # A bare "ack" means the last page texted to this number, when that names one incident.
            verb = "ack" if isinstance(command, commands.Ack) else "resolve"
            candidates = phones.latest_texted_incidents(self.deps, number)
            if len(candidates) > 1:
                named = ", ".join(f"#{n}" for n in candidates)
                return _message(
                    f"The last SMS named {named}. Reply '{verb} {candidates[-1]}' (or another number)."
                )
            if candidates:
                note = command.note if isinstance(command, commands.Resolve) and command.note else ""
                text = f"{verb} {candidates[0]} {note}".strip()
        identity = ChatIdentity(Provider.SMS, number, number)
        replies = self.conversation.handle(TextReply(identity, text))
        # Chat replies quote commands in backticks, which a phone shows as they are.
        answer = "\n".join(reply.text for reply in replies).replace("`", "'")
        return _message(cut_sms(answer, 2) if answer else None)

    def sms_status(self, form: FormData, _request: Request) -> Response:
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        status = str(form.get("MessageStatus") or form.get("SmsStatus") or "")
        outcome = SMS_STATUS.get(status)
        if outcome is None and status not in SMS_IN_FLIGHT:
            return Response(
                content=f"unknown MessageStatus {status!r}", status_code=400, media_type="text/plain"
            )
        code = str(form.get("ErrorCode") or "") or None
        detail = describe(code) if outcome is Outcome.FAILED else None
        delivery_status.apply(self.deps, sid, outcome, detail, code, provider_status=status)
        return Response(status_code=204)

    # -- calls ----------------------------------------------------------------------------------------

    def _keypad_url(self, delivery_id: str, retry: bool = False) -> str:
        return f"{self.public_base}/twilio/voice/{delivery_id}/keypad" + ("?retry=1" if retry else "")

    def call_twiml(self, _form: FormData, request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        subject = delivery_status.subject(self.deps, delivery_id)
        if subject is None:
            return _twiml(
                render_channel("voice", "result.j2", text="This alert no longer exists.", retry_action=None)
            )
        if subject.state != "firing":
            # Someone acted between the dial and the answer: say so instead of offering the menu.
            text = f"This is Tocsin. Incident {subject.incident_number}: {subject.title}, is {subject.state} already."
            return _twiml(render_channel("voice", "result.j2", text=text, retry_action=None))
        return _twiml(
            render_channel(
                "voice",
                "page.j2",
                number=subject.incident_number,
                title=subject.title,
                action=self._keypad_url(delivery_id),
                timeout=GATHER_TIMEOUT,
            )
        )

    def keypad(self, form: FormData, request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        digits = str(form.get("Digits", ""))
        subject = delivery_status.subject(self.deps, delivery_id)
        if subject is None:
            return _twiml(
                render_channel("voice", "result.j2", text="This alert no longer exists.", retry_action=None)
            )
        if keypad_action(digits, subject.incident_id) is None:
            # A key that means nothing is not an answer; offer the menu once more, then give up.
            retry = None if request.query_params.get("retry") else self._keypad_url(delivery_id, retry=True)
            return _twiml(
                render_channel(
                    "voice",
                    "result.j2",
                    text="That key does nothing.",
                    retry_action=retry,
                    timeout=GATHER_TIMEOUT,
                )
            )
        delivery_status.record_answer(self.deps, delivery_id, digits)
        number = str(form.get("To") or form.get("Called") or "")
        identity = ChatIdentity(Provider.PHONE, number, number)
        replies = self.conversation.handle(KeypadInput(identity, digits, subject.incident_id))
        spoken = (
            " ".join(reply.text for reply in replies)
            .replace("incident #", "incident ")
            .replace("#", "incident ")
        )
        return _twiml(render_channel("voice", "result.j2", text=spoken, retry_action=None))

    def call_status(self, form: FormData, _request: Request) -> Response:
        sid = str(form.get("CallSid", ""))
        status = str(form.get("CallStatus", ""))
        outcome = CALL_STATUS.get(status)
        if outcome is None and status not in CALL_IN_FLIGHT:
            return Response(
                content=f"unknown CallStatus {status!r}", status_code=400, media_type="text/plain"
            )
        code = str(form.get("ErrorCode") or form.get("SipResponseCode") or "") or None
        delivery_status.apply(self.deps, sid, outcome, CALL_WORDS.get(status), code, provider_status=status)
        return Response(status_code=204)

    def test_call(self, _form: FormData, _request: Request) -> Response:
        return _twiml(render_channel("voice", "test.j2"))
