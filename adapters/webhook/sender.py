"""``HttpWebhookSender``: the engine's ``WebhookSender`` over httpx, pinned to checked addresses.

How the pin works: the host is resolved once by :mod:`adapters.webhook.guard`; the request then goes
to a URL whose host is the checked IP address, with the ``Host`` header set to the original name
and, for https, the TLS server name (SNI) and certificate check set to that name through httpcore's
``sni_hostname`` extension. httpx never resolves the name itself, so a rebinding DNS server cannot
swap the address between check and connect. What that implies:

- Keep-alive is off: pooled connections are keyed by address, and a connection opened for one
  name must not carry a request for another name on the same address (a CDN).
- Proxy variables (``HTTPS_PROXY`` …) are ignored: a proxy would resolve the name again.
- Redirects are not followed; a 3xx is a permanent failure (the next hop would need checking too).
- Addresses are tried in resolver order; the next one only after a failed connect.
- ``getaddrinfo`` has no timeout of its own; the request timeout starts after resolution.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import ipaddress
import ssl
import time
from collections.abc import Iterable

import httpx

from adapters.webhook.errors import failure_for_status
from adapters.webhook.guard import AllowList, IPAddress, Resolver, checked_addresses, system_resolver
from engine.errors import DeliveryFailed
from engine.model.webhook import MAX_RESPONSE_BODY, WebhookRequest, WebhookResponse

SIGNATURE_HEADER = "X-Tocsin-Signature"
USER_AGENT = "Tocsin-Webhook/1"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Set by the sender from the URL and the body; a user-supplied value would contradict them.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def signature(secret: str, body: bytes) -> str:
    """The ``X-Tocsin-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class HttpWebhookSender:
    """Sends rendered webhook calls; see :class:`engine.model.webhook.WebhookSender` for the contract.

    ``allowed_hosts`` is ``TOCSIN_WEBHOOK_ALLOWED_HOSTS`` (text or parsed). ``resolve`` and ``verify``
    (an ``ssl.SSLContext`` trusting a private CA, say) exist for deployments and tests. Safe to share
    between threads.
    """

    def __init__(
        self,
        allowed_hosts: AllowList | str | Iterable[str] | None = None,
        *,
        resolve: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._allow = (
            allowed_hosts if isinstance(allowed_hosts, AllowList) else AllowList.parse(allowed_hosts)
        )
        self._resolve = resolve
        self._client = httpx.Client(
            verify=verify,
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpWebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, request: WebhookRequest) -> WebhookResponse:
        url = _target(request.url)
        host = url.raw_host.decode("ascii")
        addresses = checked_addresses(
            host, url.port or _DEFAULT_PORTS[url.scheme], self._allow, self._resolve
        )
        headers = _wire_headers(request, url)
        started = time.perf_counter()
        status, answer_headers, text = self._exchange(url, addresses, headers, request)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        if 200 <= status < 300:
            return WebhookResponse(status_code=status, body=text, elapsed_ms=elapsed_ms)
        raise failure_for_status(status, answer_headers, text, host)

    def _exchange(
        self,
        url: httpx.URL,
        addresses: list[IPAddress],
        headers: list[tuple[bytes, bytes]],
        request: WebhookRequest,
    ) -> tuple[int, httpx.Headers, str]:
        host = url.raw_host.decode("ascii")
        failure = DeliveryFailed(f"cannot connect to {host}", retryable=True)
        for address in addresses:
            try:
                return self._exchange_with(address, url, headers, request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing was sent yet, so another address of the same host is safe to try.
                detail = str(exc) or type(exc).__name__
                failure = DeliveryFailed(f"cannot connect to {host} ({address}): {detail}", retryable=True)
            except httpx.TimeoutException as exc:
                kind = type(exc).__name__
                raise DeliveryFailed(
                    f"{host} did not answer within {request.timeout:g} s ({kind})", retryable=True
                ) from exc
            except httpx.LocalProtocolError as exc:
                # A header value h11 will not put on the wire: the webhook's configuration is wrong.
                raise DeliveryFailed(f"invalid request to {host}: {exc}", retryable=False) from exc
            except httpx.TransportError as exc:
                raise DeliveryFailed(f"request to {host} failed: {exc}", retryable=True) from exc
        raise failure

    def _exchange_with(
        self, address: IPAddress, url: httpx.URL, headers: list[tuple[bytes, bytes]], request: WebhookRequest
    ) -> tuple[int, httpx.Headers, str]:
        pinned = url.copy_with(host=str(address))
        extensions: dict[str, str] = {}
        if url.scheme == "https" and not _is_ip(url.host):
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
        outgoing = self._client.build_request(
            request.method,
            pinned,
            headers=headers,
            content=request.body,
            timeout=httpx.Timeout(request.timeout),
            extensions=extensions,
        )
        response = self._client.send(outgoing, stream=True)
        try:
            return response.status_code, response.headers, _read_text(response)
        finally:
            response.close()


def _target(raw_url: str) -> httpx.URL:
    """The parsed URL, or a permanent failure for anything but an absolute http(s) URL."""
    try:
        url = httpx.URL(raw_url)
    except httpx.InvalidURL as exc:
        raise DeliveryFailed(f"refused: invalid webhook URL: {exc}", retryable=False) from exc
    if url.scheme not in _DEFAULT_PORTS:
        raise DeliveryFailed(
            f"refused: only http and https webhook URLs are allowed, not {url.scheme or 'a relative URL'}",
            retryable=False,
        )
    if not url.raw_host:
        raise DeliveryFailed("refused: the webhook URL has no host", retryable=False)
    return url


def _wire_headers(request: WebhookRequest, url: httpx.URL) -> list[tuple[bytes, bytes]]:
    """The request's headers as bytes, with Host, signature and client defaults set by the sender.

    Values go out as UTF-8 bytes rather than httpx's ASCII-only strings: templated values carry
    alert text, and receivers treat header bytes as opaque. CR, LF and NUL still fail in h11.
    """
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    if url.port is not None:
        host = f"{host}:{url.port}"
    names = {name.lower() for name in request.headers}
    pairs: list[tuple[str, str]] = [("Host", host)]
    if "user-agent" not in names:
        pairs.append(("User-Agent", USER_AGENT))
    if "accept-encoding" not in names:
        # Only 4 KiB of the answer is read; a compressed answer could inflate far beyond that per chunk.
        pairs.append(("Accept-Encoding", "identity"))
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in _FRAMING_HEADERS or (
            request.secret is not None and lowered == SIGNATURE_HEADER.lower()
        ):
            continue
        pairs.append((name, value))
    if request.secret is not None:
        pairs.append((SIGNATURE_HEADER, signature(request.secret, request.body)))
    try:
        return [(name.encode("ascii"), value.encode("utf-8")) for name, value in pairs]
    except UnicodeEncodeError as exc:
        raise DeliveryFailed(f"refused: header names must be ASCII: {exc}", retryable=False) from exc


def _read_text(response: httpx.Response) -> str:
    """At most the first 4 KiB of the body as text; a character cut in half at the end is dropped."""
    try:
        decoder = codecs.getincrementaldecoder(response.charset_encoding or "utf-8")(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    received = bytearray()
    try:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= MAX_RESPONSE_BODY:
                break
    except httpx.DecodingError:
        # The status already tells whether the call worked; a garbled body must not undo that.
        return "(undecodable response body)"
    return decoder.decode(bytes(received[:MAX_RESPONSE_BODY]), final=len(received) < MAX_RESPONSE_BODY)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
