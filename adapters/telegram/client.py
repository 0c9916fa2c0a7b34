"""One Bot and one event loop per process, for sync callers (RQ jobs, engine threads, request threads).

python-telegram-bot is async. Sync code must not start a loop per send (``asyncio.run`` each time would
re-create the HTTP client and, inside a running loop, fail) and must not patch the loop (no
``nest_asyncio``). So the process keeps one loop in a daemon thread, one ``telegram.Bot`` bound to it,
and hands it coroutines with ``run_coroutine_threadsafe``. A forked child (an RQ work horse) gets a fresh
loop on first use because threads do not survive ``fork``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Bot

T = TypeVar("T")

CALL_TIMEOUT = 60.0


class RedactToken(logging.Filter):
    """The Bot API puts the token in every URL, and httpx logs URLs at INFO: keep the token out of logs."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<bot-token>"), None
        return True


def redact_token_in_logs(token: str) -> None:
    """Install the filter once per token on the loggers that print request URLs."""
    own = ("adapters.telegram.updates", "adapters.telegram.routes", "adapters.telegram.cli")
    # Logger filters do not apply to child loggers, so each logger that may print a URL or an error is named.
    for name in ("httpx", "httpcore", "telegram", "telegram.ext", "telegram._bot", *own):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))


class BotLoop:
    """Runs Bot API calls on a private event loop; ``call`` blocks the calling thread until done."""

    def __init__(self, token: str, base_url: str) -> None:
        self._token = token
        self._base_url = base_url
        redact_token_in_logs(token)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bot: Bot | None = None
        self._ready = False

    @property
    def bot(self) -> Bot:
        """The Bot (initialized: ``getMe`` has answered, so ``bot.username`` works)."""
        self._ensure()
        assert self._bot is not None
        return self._bot

    def call(self, make: Callable[[Bot], Coroutine[Any, Any, T]], timeout: float = CALL_TIMEOUT) -> T:
        """Run ``make(bot)`` on the loop and return its result or raise its exception."""
        loop, bot = self._ensure()
        return asyncio.run_coroutine_threadsafe(make(bot), loop).result(timeout)

    def _ensure(self) -> tuple[asyncio.AbstractEventLoop, Bot]:
        with self._lock:
            if self._pid != os.getpid() or self._loop is None or self._bot is None:
                self._start()
            assert self._loop is not None and self._bot is not None
            if not self._ready:
                asyncio.run_coroutine_threadsafe(self._bot.initialize(), self._loop).result(CALL_TIMEOUT)
                self._ready = True
            return self._loop, self._bot

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="tocsin-telegram", daemon=True)
        thread.start()
        self._loop, self._thread, self._pid, self._ready = loop, thread, os.getpid(), False
        self._bot = Bot(self._token, base_url=self._base_url)

    def close(self) -> None:
        with self._lock:
            loop, thread, bot = self._loop, self._thread, self._bot
            self._loop = self._thread = self._bot = None
            self._ready = False
        if loop is None or thread is None or bot is None or self._pid != os.getpid():
            return
        try:
            asyncio.run_coroutine_threadsafe(bot.shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
