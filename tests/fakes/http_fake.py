"""A loopback HTTP server that records requests and can be told to fail; the base of the provider fakes."""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

T = TypeVar("T")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, with the status it was answered with."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased: HTTP header names are case-insensitive
    body: bytes
    form_pairs: tuple[tuple[str, str], ...] = ()
    json: Any = None
    query_string: str = ""  # as received, for checks that sign the exact URL (Twilio)
    status: int = 0
    injected: bool = False  # answered by a failure rule rather than the fake's normal behaviour

    @property
    def form(self) -> dict[str, str]:
        """Form fields, last value winning (see form_pairs for repeated names)."""
        return dict(self.form_pairs)

    @property
    def params(self) -> dict[str, Any]:
        """The request's arguments wherever the client put them: JSON object, form body or query."""
        merged: dict[str, Any] = {name: values[-1] for name, values in self.query.items()}
        merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass(frozen=True)
class Reply:
    """What the fake answers; `delay` holds the answer back (outside the lock) to provoke client timeouts."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status=status, body=json.dumps(payload).encode(), headers=all_headers)


@dataclass
class FailureRule:
    """Answer the next `remaining` matching requests with `reply` (`remaining=None`: until cleared)."""

    method: str | None
    path: re.Pattern[str]
    reply: Reply
    remaining: int | None
    when: Callable[[RecordedRequest], bool] | None = None

    def matches(self, request: RecordedRequest) -> bool:
        if self.method is not None and self.method.upper() != request.method:
            return False
        if not self.path.fullmatch(request.path):
            return False
        return self.when is None or self.when(request)


class HttpFake:
    """Serves `handle()` on 127.0.0.1:<free port> from a daemon thread.

    Subclasses implement `handle`; it runs under `self.lock`, so provider state needs no locking of its
    own and tests can read it consistently through accessors that take the same lock.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Notified after every recorded request so wait_for() sleeps instead of polling.
        self._changed = threading.Condition(self.lock)
        self._requests: list[RecordedRequest] = []
        self._failures: list[FailureRule] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:<port>`, without a trailing slash."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what tests read -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    def requests_to(self, path_regex: str, method: str | None = None) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if pattern.fullmatch(r.path) and (method is None or r.method == method.upper())
        ]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until `predicate()` is truthy (evaluated under the lock after each request)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{type(self).__name__}: condition not met within {timeout}s")
                self._changed.wait(remaining)

    def wait_for_request(
        self, matches: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest:
        """The first recorded request for which `matches` is true, waiting for it if needed."""
        return self.wait_for(lambda: next((r for r in self._requests if matches(r)), None), timeout)

    # -- failure injection ---------------------------------------------------------------------------

    def fail_next(
        self,
        path_regex: str,
        reply: Reply,
        *,
        times: int | None = 1,
        method: str | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """The next `times` requests whose path fully matches `path_regex` (and `method`, `when`) get `reply`.

        Rules are tried in the order they were added; `times=None` keeps failing until clear_failures().
        """
        rule = FailureRule(method, re.compile(path_regex), reply, times, when)
        with self.lock:
            self._failures.append(rule)

    def clear_failures(self) -> None:
        with self.lock:
            self._failures.clear()

    def pending_failures(self) -> int:
        with self.lock:
            return len(self._failures)

    # -- what subclasses implement -------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    # -- called from the server threads --------------------------------------------------------------

    def _answer(self, request: RecordedRequest) -> Reply:
        with self.lock:
            reply, injected = self._take_failure(request), True
            if reply is None:
                reply, injected = self._handle_safely(request), False
            # Recorded before the bytes go out, so a test that just got its SDK call back sees it.
            self._requests.append(replace(request, status=reply.status, injected=injected))
            self._changed.notify_all()
        return reply

    def _handle_safely(self, request: RecordedRequest) -> Reply:
        """A bug in a fake answers 500 with its traceback, so the test fails visibly instead of hanging."""
        try:
            return self.handle(request)
        except Exception:
            return Reply(
                status=500, body=traceback.format_exc().encode(), headers={"Content-Type": "text/plain"}
            )

    def _take_failure(self, request: RecordedRequest) -> Reply | None:
        for rule in self._failures:
            if rule.matches(request):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._failures.remove(rule)
                return rule.reply
        return None


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so stop() never leaves keep-alive threads blocked on a socket.
    protocol_version = "HTTP/1.0"
    server_version = "TocsinFake/1"

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # recorded requests replace the access log; stderr noise hides test output

    def _serve(self) -> None:
        fake: HttpFake = self.server.fake  # type: ignore[attr-defined]
        reply = fake._answer(self._record())
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _record(self) -> RecordedRequest:
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self._read_body(headers)
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        form_pairs: Sequence[tuple[str, str]] = ()
        parsed_json: Any = None
        if content_type == "application/x-www-form-urlencoded":
            form_pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        elif content_type == "application/json" and body:
            parsed_json = json.loads(body)
        return RecordedRequest(
            method=self.command,
            path=url.path,
            query=query,
            headers=headers,
            body=body,
            form_pairs=tuple(form_pairs),
            json=parsed_json,
            query_string=url.query,
        )

    def _read_body(self, headers: Mapping[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(headers.get("content-length", "0") or 0))
