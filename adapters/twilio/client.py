"""The twilio REST client, pointed at ``TOCSIN_TWILIO_API_URL``.

twilio 9.13 builds absolute ``https://api.twilio.com/...`` URLs and ``edge``/``region`` only change the
host inside ``twilio.com``, so another base (a regional proxy, a test double) needs an HttpClient that
swaps the origin of every ``*.twilio.com`` URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_API_URL = "https://api.twilio.com"
TIMEOUT_SECONDS = 10.0


class RebasedHttpClient(TwilioHttpClient):
    def __init__(self, api_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self._origin = urlsplit(api_url.rstrip("/"))
        if self.session is not None and self._origin.hostname in ("127.0.0.1", "localhost", "::1"):
            self.session.trust_env = False  # a proxy from the environment must not see loopback traffic

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if (parts.hostname or "").endswith("twilio.com"):
            path = self._origin.path + parts.path
            url = urlunsplit((self._origin.scheme, self._origin.netloc, path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def make_client(account_sid: str, auth_token: str, api_url: str = DEFAULT_API_URL) -> Client:
    return Client(account_sid, auth_token, http_client=RebasedHttpClient(api_url))
