"""Outgoing webhooks against a real loopback receiver: signing, the SSRF guard, pinning, retry meaning."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from adapters.templating import JinjaTemplateRenderer, template_context
from adapters.webhook import AllowList, HttpWebhookSender, build_request, forbidden_reason
from engine.errors import DeliveryFailed, ValidationFailed
from engine.model.webhook import WebhookRequest
from tests.fakes.http_fake import HttpFake, RecordedRequest, Reply


class FakeReceiver(HttpFake):
    """A webhook receiver that answers 200 ``ok`` unless told to fail."""

    def handle(self, request: RecordedRequest) -> Reply:
        return Reply(status=200, body=b"ok", headers={"Content-Type": "text/plain"})


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    with FakeReceiver() as fake:
        yield fake


@pytest.fixture
def loopback_sender() -> Iterator[HttpWebhookSender]:
    with HttpWebhookSender("127.0.0.0/8") as sender:
        yield sender


def resolver(answers: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    """A DNS stand-in; names under .test never resolve for real, so reaching one proves the pin."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


def port_of(fake: HttpFake) -> int:
    return int(fake.origin.rsplit(":", 1)[1])


# -- signing and the answer --------------------------------------------------------------------------


def test_signature_verifies_at_the_receiver(
    receiver: FakeReceiver, loopback_sender: HttpWebhookSender
) -> None:
    body = b'{"incident": 12, "text": "caf\xc3\xa9"}'
    response = loopback_sender.send(
        WebhookRequest(url=f"{receiver.origin}/hook", body=body, secret="s3cret", headers={"X-Team": "db"})
    )

    assert response.status_code == 200
    assert response.body == "ok"
    assert response.elapsed_ms >= 0
    [got] = receiver.requests
    assert got.body == body
    assert got.header("x-team") == "db"
    expected = "sha256=" + hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.header("x-tocsin-signature") or "", expected)


def test_no_signature_without_a_secret(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    loopback_sender.send(WebhookRequest(url=f"{receiver.origin}/hook", body=b"{}"))

    assert receiver.requests[0].header("x-tocsin-signature") is None


def test_the_sender_owns_host_and_signature(
    receiver: FakeReceiver, loopback_sender: HttpWebhookSender
) -> None:
    forged = {"Host": "evil.example", "X-Tocsin-Signature": "sha256=forged"}
    loopback_sender.send(WebhookRequest(url=f"{receiver.origin}/", body=b"x", secret="k", headers=forged))

    got = receiver.requests[0]
    assert got.header("host") == receiver.origin.removeprefix("http://")
    assert got.header("x-tocsin-signature") == "sha256=" + hmac.new(b"k", b"x", hashlib.sha256).hexdigest()


def test_the_answer_body_is_cut_to_4_kib_without_half_characters(
    receiver: FakeReceiver, loopback_sender: HttpWebhookSender
) -> None:
    # "a" then 5000 "é" (2 bytes each): byte 4096 is the first half of an "é", so the
    # text keeps "a" + 2047 "é" = 1 + 4094 = 4095 bytes and drops the half character.
    receiver.fail_next(".*", Reply(status=200, body=("a" + "é" * 5000).encode()))

    response = loopback_sender.send(WebhookRequest(url=f"{receiver.origin}/"))

    assert response.body == "a" + "é" * 2047


# -- the SSRF guard ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/", "refused: 127.0.0.1 is a loopback address"),
        ("http://10.0.0.5/", "refused: 10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"),
        ("http://[::1]:9/", "refused: ::1 is a loopback address"),
        ("http://[fd00::5]/", "refused: fd00::5 is a private address"),
        ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
    ],
)
def test_private_destinations_are_refused_without_the_allow_list(url: str, message: str) -> None:
    with HttpWebhookSender() as sender, pytest.raises(DeliveryFailed) as caught:
        sender.send(WebhookRequest(url=url))

    assert not caught.value.retryable
    assert caught.value.detail.startswith(message)
    assert caught.value.detail.endswith("allow it with TOCSIN_WEBHOOK_ALLOWED_HOSTS")


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    names = resolver({"internal.test": ["10.0.0.5"]})
    with HttpWebhookSender(resolve=names) as sender, pytest.raises(DeliveryFailed) as caught:
        sender.send(WebhookRequest(url="https://internal.test/hook"))

    assert not caught.value.retryable
    assert caught.value.detail == (
        "refused: internal.test resolves to 10.0.0.5, a private address; "
        "allow internal.test or 10.0.0.5 with TOCSIN_WEBHOOK_ALLOWED_HOSTS"
    )


def test_one_private_answer_refuses_the_name() -> None:
    both = resolver({"mixed.test": ["93.184.216.34", "127.0.0.1"]})
    with HttpWebhookSender(resolve=both) as sender, pytest.raises(DeliveryFailed, match="loopback"):
        sender.send(WebhookRequest(url="http://mixed.test/"))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "/relative"]
)
def test_only_http_and_https_are_sent(url: str) -> None:
    with HttpWebhookSender() as sender, pytest.raises(DeliveryFailed, match="only http and https") as caught:
        sender.send(WebhookRequest(url=url))

    assert not caught.value.retryable


def test_allow_list_by_cidr(receiver: FakeReceiver) -> None:
    with HttpWebhookSender("10.0.0.0/8, 127.0.0.0/30") as sender:
        assert sender.send(WebhookRequest(url=f"{receiver.origin}/by-cidr")).status_code == 200

    assert receiver.requests[0].path == "/by-cidr"


def test_allow_list_by_host_name(receiver: FakeReceiver) -> None:
    names = resolver({"hooks.test": ["127.0.0.1"]})
    url = f"http://HOOKS.test:{port_of(receiver)}/by-name"
    with HttpWebhookSender("hooks.test", resolve=names) as sender:
        assert sender.send(WebhookRequest(url=url)).status_code == 200

    assert receiver.requests[0].header("host") == f"hooks.test:{port_of(receiver)}"


def test_allowing_one_address_does_not_allow_its_neighbours() -> None:
    with HttpWebhookSender("127.0.0.2") as sender, pytest.raises(DeliveryFailed, match="refused"):
        sender.send(WebhookRequest(url="http://127.0.0.1:9/"))


def test_the_connection_is_pinned_to_the_checked_address(receiver: FakeReceiver) -> None:
    # A rebinding DNS server: a permitted address for the check, a forbidden one afterwards.
    answers = iter([["127.0.0.1"], ["10.0.0.5"], ["10.0.0.5"]])
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return next(answers)

    with HttpWebhookSender("127.0.0.1", resolve=rebinding) as sender:
        sender.send(WebhookRequest(url=f"http://rebind.test:{port_of(receiver)}/"))

    # One lookup, and the request reached the loopback receiver although nothing resolves rebind.test.
    assert lookups == ["rebind.test"]
    assert receiver.requests[0].header("host") == f"rebind.test:{port_of(receiver)}"


def test_the_next_address_is_tried_when_one_refuses_connections(receiver: FakeReceiver) -> None:
    # The receiver listens on 127.0.0.1 only, so [::1] refuses (or has no IPv6 at all).
    names = resolver({"dual.test": ["::1", "127.0.0.1"]})
    with HttpWebhookSender("::1, 127.0.0.1", resolve=names) as sender:
        assert sender.send(WebhookRequest(url=f"http://dual.test:{port_of(receiver)}/")).status_code == 200


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("192.168.1.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("100.64.0.1", "not a public address"),
        ("::", "an unspecified address"),
        # IPv6 forms that connect to an IPv4 address inside them are judged by that address.
        ("::ffff:127.0.0.1", "a loopback address"),
        ("64:ff9b::a00:5", "a private address"),
        ("2002:a9fe:a9fe::1", "a link-local address"),
    ],
)
def test_forbidden_reason(address: str, reason: str | None) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


def test_allow_list_parsing() -> None:
    allow = AllowList.parse(" Hooks.Internal. , 10.1.0.0/16,[::1], 192.168.0.7 ,")

    assert allow.hosts == frozenset({"hooks.internal"})
    assert allow.allows_host("HOOKS.internal")
    assert allow.allows_address(ipaddress.ip_address("10.1.200.3"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert allow.allows_address(ipaddress.ip_address("192.168.0.7"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.0.8"))
    with pytest.raises(ValueError, match="TOCSIN_WEBHOOK_ALLOWED_HOSTS"):
        AllowList.parse("10.0.0.0/33")


# -- failures and their retry meaning -----------------------------------------------------------------


def send_expecting_failure(sender: HttpWebhookSender, url: str, timeout: float = 5.0) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        sender.send(WebhookRequest(url=url, body=b"{}", timeout=timeout))
    return caught.value


def test_5xx_is_retryable(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    receiver.fail_next(".*", Reply(status=503, body=b"<html>\n  down for maintenance\n</html>"))

    failure = send_expecting_failure(loopback_sender, f"{receiver.origin}/")

    assert failure.retryable
    assert failure.retry_after is None
    assert failure.provider_code == "503"
    assert failure.detail == "127.0.0.1 answered HTTP 503: <html> down for maintenance </html>"


def test_404_is_not_retryable(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    receiver.fail_next(".*", Reply(status=404, body=b"no such hook"))

    failure = send_expecting_failure(loopback_sender, f"{receiver.origin}/")

    assert not failure.retryable
    assert failure.provider_code == "404"


def test_429_with_retry_after_seconds(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    receiver.fail_next(".*", Reply(status=429, headers={"Retry-After": "7"}))

    failure = send_expecting_failure(loopback_sender, f"{receiver.origin}/")

    assert failure.retryable
    assert failure.retry_after == 7.0


def test_429_with_retry_after_date_counts_from_the_receivers_clock(
    receiver: FakeReceiver, loopback_sender: HttpWebhookSender
) -> None:
    # http.server stamps its own Date header (to the second); a Retry-After 90 s after that is
    # 89-91 s away depending on where in the second each was taken.
    receiver.fail_next(
        ".*", Reply(status=429, headers={"Retry-After": formatdate(time.time() + 90, usegmt=True)})
    )

    retry_after = send_expecting_failure(loopback_sender, f"{receiver.origin}/").retry_after

    assert retry_after is not None
    assert 89.0 <= retry_after <= 91.0


def test_redirects_are_not_followed(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    receiver.fail_next(".*", Reply(status=302, headers={"Location": "http://169.254.169.254/"}))

    failure = send_expecting_failure(loopback_sender, f"{receiver.origin}/")

    assert not failure.retryable
    assert "not followed" in failure.detail
    assert len(receiver.requests) == 1


def test_timeout_is_retryable(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    receiver.fail_next(".*", Reply(status=200, delay=0.6))

    failure = send_expecting_failure(loopback_sender, f"{receiver.origin}/", timeout=0.2)

    assert failure.retryable
    assert "did not answer within 0.2 s" in failure.detail


def test_connection_refused_is_retryable(loopback_sender: HttpWebhookSender) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    failure = send_expecting_failure(loopback_sender, f"http://127.0.0.1:{closed_port}/")

    assert failure.retryable
    assert failure.detail.startswith("cannot connect to 127.0.0.1")


def test_unresolvable_names_are_retryable() -> None:
    with HttpWebhookSender(resolve=resolver({})) as sender:
        assert send_expecting_failure(sender, "https://nowhere.test/").retryable


# -- https: the certificate is checked against the name, over the pinned address ---------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Tocsin Test CA",
        "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=hooks.test",
        "-keyout", "leaf.key", "-out", "leaf.csr", cwd=folder,
    )  # fmt: skip
    (folder / "leaf.ext").write_text(
        "subjectAltName=DNS:hooks.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=folder,
    )  # fmt: skip
    return folder


class _TlsHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append(self.headers.get("Host"))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tls_receiver(tls_files: Path) -> Iterator[tuple[int, list[str]]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files / "leaf.pem", tls_files / "leaf.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TlsHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_https_checks_the_certificate_of_the_name_over_the_pinned_address(
    tls_files: Path, tls_receiver: tuple[int, list[str]]
) -> None:
    port, seen = tls_receiver
    trust = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    names = resolver({"hooks.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    with HttpWebhookSender("127.0.0.1", resolve=names, verify=trust) as sender:
        # The certificate names hooks.test only: verifying it against 127.0.0.1 would fail.
        assert sender.send(WebhookRequest(url=f"https://hooks.test:{port}/", body=b"{}")).status_code == 200
        # Same address, another name: the certificate does not match, nothing is sent.
        wrong = send_expecting_failure(sender, f"https://other.test:{port}/")

    assert seen == [f"hooks.test:{port}"]
    assert wrong.retryable
    assert "certificate" in wrong.detail.lower()


# -- build_request: the templated parts ---------------------------------------------------------------

RENDERER = JinjaTemplateRenderer()
CONTEXT = template_context(
    {"alertname": "DiskFull", "labels": {"pod": "db-0", "ns": "prod"}},
    {"X-Team": "storage"},
    incident={"id": "INC1", "number": 12, "title": "DiskFull"},
)


def test_build_request_renders_url_headers_and_body() -> None:
    fields = {
        "webhook_url": "https://automation.example.com/restart/{{ payload.labels.pod }}",
        "http_method": "put",
        "headers": {"Authorization": "Bearer {{ headers['x-team'] }}", "X-Labels": "{{ payload.labels }}"},
        "data": "{{ payload }}",
        "secret": "k",
    }

    request = build_request(fields, CONTEXT, RENDERER, timeout=3.0)

    assert request.url == "https://automation.example.com/restart/db-0"
    assert request.method == "PUT"
    assert request.headers == {
        "Authorization": "Bearer storage",
        "X-Labels": '{"pod": "db-0", "ns": "prod"}',
        "Content-Type": "application/json",
    }
    # {{ payload }} is JSON, not Python's repr.
    assert json.loads(request.body) == {"alertname": "DiskFull", "labels": {"pod": "db-0", "ns": "prod"}}
    assert (request.secret, request.timeout) == ("k", 3.0)


def test_build_request_tojson_and_text_bodies() -> None:
    as_json = build_request(
        {"url": "https://h.example/", "data": "{{ incident | tojson }}"}, CONTEXT, RENDERER
    )
    as_text = build_request(
        {"url": "https://h.example/", "data": "#{{ incident.number }} down"}, CONTEXT, RENDERER
    )
    empty = build_request({"url": "https://h.example/"}, CONTEXT, RENDERER)

    assert json.loads(as_json.body) == {"id": "INC1", "number": 12, "title": "DiskFull"}
    assert (as_text.body, as_text.headers["Content-Type"]) == (b"#12 down", "text/plain; charset=utf-8")
    assert (empty.body, empty.headers, empty.method, empty.secret) == (b"", {}, "POST", None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"webhook_url": "https://h.example/{{ payload.x", "data": "{}"}, "webhook_url"),
        ({"webhook_url": "https://h.example/", "data": "{{ 1 / 0 }}"}, "data"),
        ({"webhook_url": "https://h.example/", "headers": {"X-A": "{% if %}"}}, "headers.X-A"),
        ({"webhook_url": "https://h.example/", "headers": {"X-A": "a\r\nX-B: b"}}, "headers.X-A"),
        ({"webhook_url": "https://h.example/", "headers": {"Bad Name": "x"}}, "headers.Bad Name"),
        ({"webhook_url": "https://h.example/", "headers": {"Content-Length": "1"}}, "headers.Content-Length"),
        ({"webhook_url": "{{ payload.alertname }}"}, "webhook_url"),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url"),
        ({"webhook_url": "https://h.example/", "http_method": "TRACE"}, "http_method"),
        ({}, "webhook_url"),
    ],
)
def test_build_request_names_the_failing_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_request(fields, CONTEXT, RENDERER)

    assert caught.value.field == field
    assert caught.value.detail.startswith(f"{field}: ")


def test_a_built_request_goes_out_signed(receiver: FakeReceiver, loopback_sender: HttpWebhookSender) -> None:
    fields = {
        "webhook_url": receiver.origin + "/incident/{{ incident.number }}",
        "data": "{{ payload }}",
        "secret": "k",
    }
    loopback_sender.send(build_request(fields, CONTEXT, RENDERER))

    [got] = receiver.requests
    assert got.path == "/incident/12"
    assert got.json == CONTEXT["payload"]
    assert got.header("content-type") == "application/json"
    assert (
        got.header("x-tocsin-signature") == "sha256=" + hmac.new(b"k", got.body, hashlib.sha256).hexdigest()
    )
