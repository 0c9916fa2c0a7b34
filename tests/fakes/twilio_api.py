"""A loopback Twilio REST API (Messages, Calls), and Twilio's role on the way back: signed webhooks.

twilio 9.13 builds absolute `https://api.twilio.com/...` URLs and `edge`/`region` only rewrite the
host name inside `twilio.com`, so the SDK reaches the fake through `twilio_http_client(fake)`, an
`HttpClient` that swaps the origin of every `*.twilio.com` URL for the fake's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply

API_VERSION = "2010-04-01"
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_ACCOUNT = r"/2010-04-01/Accounts/(?P<account>[^/]+)"
_ROUTES = [
    ("POST", re.compile(_ACCOUNT + r"/(?P<kind>Messages|Calls)\.json"), "create"),
    ("GET", re.compile(_ACCOUNT + r"/(?P<kind>Messages|Calls)/(?P<sid>\w+)\.json"), "fetch"),
    ("POST", re.compile(_ACCOUNT + r"/(?P<kind>Calls)/(?P<sid>\w+)\.json"), "update"),
]

Params = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass
class TwilioResource:
    """A Message (`SM…`) or Call (`CA…`) the fake accepted; `params` is the create request's form."""

    sid: str
    kind: str  # "Messages" or "Calls"
    to: str
    from_: str
    status: str
    params: dict[str, str]
    status_callback_events: tuple[str, ...] = ()
    date_created: str = field(default_factory=lambda: format_datetime(datetime.now(UTC)))
    sequence_number: int = 0  # of the status callbacks sent for a call


def sign_twilio_request(auth_token: str, url: str, params: Params | None = None) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the URL plus name+value of every form field, sorted by
    name and then value (Twilio's documented algorithm; twilio-python additionally drops exact duplicates)."""
    pairs = sorted(params.items() if isinstance(params, Mapping) else params or ())
    payload = url + "".join(name + value for name, value in pairs)
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_http_client(fake: FakeTwilioApi) -> TwilioHttpClient:
    """An HttpClient for `twilio.rest.Client(sid, token, http_client=...)` that talks to `fake`."""
    return _LoopbackTwilioHttpClient(fake.origin)


class _LoopbackTwilioHttpClient(TwilioHttpClient):
    def __init__(self, origin: str) -> None:
        super().__init__()
        self._origin = urlsplit(origin)
        if self.session is not None:
            self.session.trust_env = False  # a proxy from the environment must not see loopback traffic

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if (parts.hostname or "").endswith("twilio.com"):
            url = urlunsplit((self._origin.scheme, self._origin.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


class FakeTwilioApi(HttpFake):
    """Twilio's REST API for one account at `base_url`, checking HTTP Basic auth (sid:auth_token)."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "fake-auth-token",
        *,
        webhook_client: httpx.Client | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._resources: dict[str, TwilioResource] = {}
        self._sids = itertools.count(1)
        # Injectable so webhooks can go to an in-process app (e.g. Starlette's TestClient, an httpx.Client).
        self._webhook_client = webhook_client
        self._owns_webhook_client = webhook_client is None

    @property
    def base_url(self) -> str:
        return self.origin

    def stop(self) -> None:
        super().stop()
        if self._owns_webhook_client and self._webhook_client is not None:
            self._webhook_client.close()
            self._webhook_client = None

    # -- reading state -------------------------------------------------------------------------------

    def messages(self) -> list[TwilioResource]:
        return self._of_kind("Messages")

    def calls(self) -> list[TwilioResource]:
        return self._of_kind("Calls")

    def resource(self, sid: str) -> TwilioResource:
        with self.lock:
            return _copy(self._resources[sid])

    # -- failure injection ---------------------------------------------------------------------------

    def fail_next_call(
        self,
        kind: str | None,
        code: int,
        message: str,
        *,
        status: int = 400,
        times: int | None = 1,
        to: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Twilio's error body for the next `times` creates of `kind` ("Messages", "Calls", None: both),
        optionally only those sent to `to`."""
        body = _error_body(code, message, status)
        path = _ACCOUNT + rf"/{kind or '(Messages|Calls)'}\.json"
        when = None if to is None else (lambda request: request.form.get("To") == to)
        self.fail_next(
            path, Reply.json(body, status=status, headers=headers), times=times, method="POST", when=when
        )

    def rate_limit_next(self, kind: str | None, *, times: int | None = 1, retry_after: int = 1) -> None:
        headers = {"Retry-After": str(retry_after)}
        self.fail_next_call(kind, 20429, "Too Many Requests", status=429, times=times, headers=headers)

    def server_error_next(self, kind: str | None, *, status: int = 500, times: int | None = 1) -> None:
        message = "Service Unavailable" if status == 503 else "Internal Server Error"
        self.fail_next_call(kind, 20000 + status, message, status=status, times=times)

    # -- the REST API --------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request):
            return Reply.json(_error_body(20003, "Authenticate", 401), status=401)
        for method, pattern, action in _ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None or method != request.method:
                continue
            if match["account"] != self.account_sid:
                return Reply.json(_error_body(20003, "Authenticate", 401), status=401)
            sid = match.groupdict().get("sid")
            if action == "create":
                return self._create(match["kind"], request)
            if sid not in self._resources or self._resources[sid].kind != match["kind"]:
                return _not_found(request.path)
            if action == "update":
                self._resources[sid].status = request.form.get("Status", self._resources[sid].status)
            return Reply.json(self._resource_json(self._resources[sid]))
        return _not_found(request.path)

    def _authorized(self, request: RecordedRequest) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return hmac.compare_digest(request.header("authorization") or "", f"Basic {expected}")

    def _create(self, kind: str, request: RecordedRequest) -> Reply:
        form = request.form
        problem = _message_problem(form) if kind == "Messages" else _call_problem(form)
        if problem:
            code, text = problem
            return Reply.json(_error_body(code, text, 400), status=400)
        prefix = "SM" if kind == "Messages" else "CA"
        resource = TwilioResource(
            sid=f"{prefix}{next(self._sids):032x}",
            kind=kind,
            to=form["To"],
            from_=form.get("From", ""),
            status="queued",
            params=form,
            status_callback_events=tuple(v for k, v in request.form_pairs if k == "StatusCallbackEvent"),
        )
        self._resources[resource.sid] = resource
        return Reply.json(self._resource_json(resource), status=201)

    def _resource_json(self, resource: TwilioResource) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{resource.kind}/{resource.sid}.json"
        common = {
            "sid": resource.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": resource.to,
            "from": resource.from_,
            "status": resource.status,
            "date_created": resource.date_created,
            "date_updated": resource.date_created,
            "price": None,
            "price_unit": "USD",
            "uri": uri,
        }
        if resource.kind == "Messages":
            body = resource.params.get("Body", "")
            return {
                **common,
                "body": body,
                "direction": "outbound-api",
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": resource.params.get("MessagingServiceSid"),
                "num_media": "1" if "MediaUrl" in resource.params else "0",
                "num_segments": str(max(1, -(-len(body) // 153))),
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            }
        return {
            **common,
            "direction": "outbound-api",
            "to_formatted": resource.to,
            "from_formatted": resource.from_,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "answered_by": None,
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "subresource_uris": {"notifications": uri.replace(".json", "/Notifications.json")},
        }

    # -- Twilio calling Tocsin -----------------------------------------------------------------------

    def post_webhook(self, url: str, params: Params, *, via: str | None = None) -> httpx.Response:
        """POST `params` as Twilio does, signed for `url` (the public URL Tocsin is configured with).

        `via` is an origin (`http://127.0.0.1:8123`) to deliver to instead of the URL's own, keeping path
        and query: the signature still covers the public URL, as behind a TLS-terminating proxy.
        """
        signature = sign_twilio_request(self.auth_token, url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return self._client().post(_retarget(url, via), data=_form_data(params), headers=headers)

    def send_sms_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
        via: str | None = None,
    ) -> httpx.Response:
        """The delivery report for a sent SMS, to its StatusCallback unless `url` is given."""
        sms = self._set_status(sid, status)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "From": sms.from_,
            "To": sms.to,
            "ApiVersion": API_VERSION,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self.post_webhook(url or sms.params["StatusCallback"], params, via=via)

    def send_call_status(
        self,
        sid: str,
        status: str,
        *,
        duration: int | None = None,
        sip_response_code: int | None = None,
        url: str | None = None,
        via: str | None = None,
    ) -> httpx.Response:
        """A call status callback (with an increasing SequenceNumber), to the call's StatusCallback."""
        call = self._set_status(sid, status)
        params = {**self._voice_params(call), "SequenceNumber": str(call.sequence_number)}
        with self.lock:
            self._resources[sid].sequence_number += 1
        if duration is not None:
            params["CallDuration"] = str(duration)
        if sip_response_code is not None:
            params["SipResponseCode"] = str(sip_response_code)
        return self.post_webhook(url or call.params["StatusCallback"], params, via=via)

    def answer_call(self, sid: str, *, via: str | None = None) -> str:
        """The TwiML Twilio runs when the callee picks up: the inline `Twiml`, or what `Url` returns."""
        call = self._set_status(sid, "in-progress")
        if "Twiml" in call.params:
            return call.params["Twiml"]
        response = self.fetch_twiml(
            call.params["Url"], self._voice_params(call), call.params.get("Method"), via
        )
        if response.status_code != 200:
            raise AssertionError(f"TwiML URL answered {response.status_code}: {response.text}")
        return response.text

    def fetch_twiml(
        self, url: str, params: Mapping[str, str], method: str | None = "POST", via: str | None = None
    ) -> httpx.Response:
        if (method or "POST").upper() == "POST":
            return self.post_webhook(url, params, via=via)
        # For GET, Twilio puts the parameters in the query string and signs the resulting URL alone.
        full_url = str(httpx.URL(url).copy_merge_params(dict(params)))
        headers = {"X-Twilio-Signature": sign_twilio_request(self.auth_token, full_url)}
        return self._client().get(_retarget(full_url, via), headers=headers)

    def send_gather_digits(
        self, sid: str, digits: str, *, url: str, via: str | None = None
    ) -> httpx.Response:
        """What Twilio posts to a <Gather action="url"> after the callee pressed `digits`."""
        params = {
            **self._voice_params(self.resource(sid)),
            "Digits": digits,
            "FinishedOnKey": "",
            "msg": "Gather End",
        }
        return self.post_webhook(url, params, via=via)

    def send_inbound_sms(
        self, url: str, *, from_: str, body: str, to: str = "+15555550199", via: str | None = None
    ) -> httpx.Response:
        sid = f"SM{next(self._sids):032x}"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        return self.post_webhook(url, params, via=via)

    # -- internals -----------------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._webhook_client is None:
            self._webhook_client = httpx.Client(trust_env=False, timeout=10)
        return self._webhook_client

    def _of_kind(self, kind: str) -> list[TwilioResource]:
        with self.lock:
            return [_copy(r) for r in self._resources.values() if r.kind == kind]

    def _set_status(self, sid: str, status: str) -> TwilioResource:
        with self.lock:
            self._resources[sid].status = status
            return _copy(self._resources[sid])

    def _voice_params(self, call: TwilioResource) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
            "Caller": call.from_,
            "Called": call.to,
        }


def _copy(resource: TwilioResource) -> TwilioResource:
    return TwilioResource(**{**resource.__dict__, "params": dict(resource.params)})


def _retarget(url: str, via: str | None) -> str:
    if via is None:
        return url
    parts, origin = urlsplit(url), urlsplit(via)
    return urlunsplit((origin.scheme, origin.netloc, parts.path, parts.query, ""))


def _form_data(params: Params) -> dict[str, list[str]]:
    """httpx's form shape, keeping repeated names (e.g. StatusCallbackEvent) as lists."""
    data: dict[str, list[str]] = {}
    for name, value in params.items() if isinstance(params, Mapping) else params:
        data.setdefault(name, []).append(value)
    return data


def _error_body(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _not_found(path: str) -> Reply:
    return Reply.json(_error_body(20404, f"The requested resource {path} was not found", 404), status=404)


def _message_problem(form: Mapping[str, str]) -> tuple[int, str] | None:
    to, from_, body = form.get("To"), form.get("From"), form.get("Body")
    if not to:
        return 21604, "A 'To' phone number is required."
    if not _E164.fullmatch(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if not from_ and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    if not body and "MediaUrl" not in form:
        return 21602, "Message body is required."
    if body and len(body) > 1600:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    return None


def _call_problem(form: Mapping[str, str]) -> tuple[int, str] | None:
    to, from_ = form.get("To"), form.get("From")
    if not to:
        return 21201, "No 'To' number is specified"
    if not _E164.fullmatch(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if not from_:
        return 21213, "No 'From' number is specified"
    if not _E164.fullmatch(from_):
        return (
            21212,
            f"The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID.",
        )
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        # The code for a missing Url is a best guess (Twilio's "invalid URL" family); tests match on 4xx.
        return 21205, "Url parameter is required."
    return None
