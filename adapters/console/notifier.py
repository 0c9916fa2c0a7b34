"""The console: a notifier that prints pages, for embedded mode and unconfigured providers."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from engine.ports import Capabilities, Page, SendResult


class ConsoleNotifier:
    """Prints each page as one line; never fails."""

    capabilities = Capabilities(channel="console", buttons=False, edits=False, max_text=100_000)

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.sent: list[Page] = []

    def send(self, page: Page) -> SendResult:
        via = page.channel if page.address is None else f"{page.channel} {page.address}"
        if page.kind == "update":
            # Someone already paged is told the incident changed: not a page, nothing to act on.
            line = f"[tocsin] update to {page.user_name} via {via}: #{page.incident_number} {page.text}"
        else:
            kind = "IMPORTANT page" if page.important else "page"
            line = f"[tocsin] {kind} to {page.user_name} via {via}: #{page.incident_number} {page.title} — {page.link}"
        with self._lock:
            self.sent.append(page)
            stream = self._stream or sys.stdout
            print(line, file=stream, flush=True)
        return SendResult(provider_id=f"console-{page.delivery_id}", status="sent")
