"""``tocsin demo``: the main job on a fresh machine, start to finish, in under a minute.

It starts the server on a throw-away SQLite database with the embedded engine, applies
``examples/quickstart.yaml``, posts a real Grafana alert, and narrates the incident's timeline while
the demo chain (waits of seconds) pages people. Then it acknowledges the way a Slack button press
does, resolves with a note, and prints MTTA/MTTR. Provider credentials in the environment make the
same run page for real; without them the console shows what Slack, Telegram and Twilio would get.
"""

from __future__ import annotations

import logging
import secrets
import socket
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from adapters.config.apply import apply_text
from adapters.http.app import create_app
from adapters.runtime import Runtime, build_runtime
from adapters.settings import Settings
from bot.actions import Action, ActionKind
from bot.commands import parse
from bot.inbound import ButtonPressed, ChatIdentity, CommandInvoked, Provider
from engine.services import stats

# examples/ of a checkout (editable install), else the copy `pip install .` puts under <prefix>/share.
EXAMPLE_FOLDERS = (
    Path(__file__).resolve().parents[1] / "examples",
    Path(sys.prefix) / "share" / "tocsin" / "examples",
)


def examples_folder() -> Path:
    for folder in EXAMPLE_FOLDERS:
        if (folder / "quickstart.yaml").is_file():
            return folder
    searched = ", ".join(str(f) for f in EXAMPLE_FOLDERS)
    raise FileNotFoundError(f"examples/quickstart.yaml not found (looked in {searched})")


DEMO_INTEGRATION = "I900"
RESPONDER_SLACK_ID = "U123456"  # Alice's Slack id in the quickstart
STYLE = {
    "incident_opened": "bold red",
    "escalation_step": "yellow",
    "page_sent": "cyan",
    "page_failed": "red",
    "acknowledged": "bold green",
    "resolved": "bold green",
    "note": "magenta",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    def __init__(self, settings: Settings, examples: Path, console: Console) -> None:
        self.examples = examples
        self.out = console
        self.settings = settings
        self.runtime: Runtime = build_runtime(settings)
        self.seen = 0
        self.base = settings.public_base
        self.headers = {"Authorization": f"Bearer {settings.api_token}"}

    def start(self, port: int) -> uvicorn.Server:
        changes = apply_text(self.runtime, (self.examples / "quickstart.yaml").read_text(encoding="utf-8"))
        self.out.print(f"[dim]applied examples/quickstart.yaml: {len(changes)} objects[/dim]")
        self.runtime.start()
        server = uvicorn.Server(
            uvicorn.Config(create_app(self.runtime), "127.0.0.1", port, log_level="warning")
        )
        threading.Thread(target=server.run, name="tocsin-demo-http", daemon=True).start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.out.print(f"[bold]Tocsin is up[/bold] on {self.base} (SQLite, embedded engine)")
        return server

    def api(self, path: str) -> Any:
        response = httpx.get(f"{self.base}/api/v1/{path}", headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def follow(self, incident_id: str, seconds: float, until: str | None = None) -> None:
        """Print new timeline entries for ``seconds`` (or until an entry contains ``until``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            entries = self.api(f"incidents/{incident_id}/timeline/")["results"]
            for entry in entries[self.seen :]:
                at = entry["at"][11:19]
                style = STYLE.get(entry["kind"], "white")
                self.out.print(f"  [dim]{at}[/dim] [{style}]{entry['text']}[/{style}]")
                if until and until in entry["text"]:
                    self.seen = len(entries)
                    return
            self.seen = len(entries)
            time.sleep(0.2)

    def run(self) -> str:
        link = self.api(f"integrations/{DEMO_INTEGRATION}/")["link"]
        body = (self.examples / "grafana_alert.json").read_bytes()
        self.out.rule("A Grafana alert arrives")
        answer = httpx.post(
            link, content=body, headers={"Content-Type": "application/json"}, timeout=10
        ).json()
        self.out.print(f"POST {link} → {answer}", soft_wrap=True)
        incident_id = str(answer["incident_id"])
        self.out.rule("Escalation (the demo chain waits 3 s between steps)")
        self.follow(incident_id, 15, until="step 7")
        self.follow(incident_id, 2)
        conversation = self.runtime.conversation
        assert conversation is not None
        alice = ChatIdentity(Provider.SLACK, RESPONDER_SLACK_ID, self.runtime.settings.slack_api_url)
        self.out.rule("Alice presses Acknowledge")
        for reply in conversation.handle(ButtonPressed(alice, Action(ActionKind.ACKNOWLEDGE, incident_id))):
            self.out.print(f"[green]reply to Alice:[/green] {reply.text}")
        self.follow(incident_id, 2)
        self.out.rule("Alice resolves with a note")
        text = "resolve 1 freed memory on the node; root cause in the postmortem"
        number = self.api(f"incidents/{incident_id}/")["number"]
        text = text.replace("resolve 1", f"resolve {number}")
        for reply in conversation.handle(CommandInvoked(alice, text, parse(text))):
            self.out.print(f"[green]reply to Alice:[/green] {reply.text}")
        self.follow(incident_id, 2)
        return incident_id

    def summary(self, incident_id: str, keep_running: bool = False) -> None:
        today = self.runtime.deps.clock.now().date()
        numbers = stats.stats(self.runtime.deps, today - timedelta(days=1), today, "UTC").as_dict()
        self.out.rule("Response metrics")
        self.out.print(f"MTTA {numbers['mtta_seconds']} s · MTTR {numbers['mttr_seconds']} s")
        if keep_running:
            self.out.print(
                f"Next: the timeline at {self.base}/api/v1/incidents/{incident_id}/timeline/, the API at "
                f"{self.base}/docs, metrics at {self.base}/metrics."
            )
        else:
            self.out.print(
                "Next: `tocsin demo --keep-running` leaves this server up to explore (timeline, /docs, "
                "/metrics); README.md shows the production shape with PostgreSQL, Redis and workers."
            )


def run_demo(base_settings: Settings, keep_running: bool, port: int | None = None) -> None:
    console = Console(highlight=False)
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = port or _free_port()
    folder = Path(tempfile.mkdtemp(prefix="tocsin-demo-"))
    settings = base_settings.model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'demo.db'}",
            "redis_url": None,
            "public_url": f"http://127.0.0.1:{port}",
            "api_token": base_settings.api_token or "demo-" + secrets.token_hex(8),
        }
    )
    demo = Demo(settings, examples_folder(), console)
    server = demo.start(port)
    try:
        incident_id = demo.run()
        demo.summary(incident_id, keep_running)
        if keep_running:
            console.rule("Still running (Ctrl-C to stop)")
            # The same body again would be a sender's retry (a duplicate); the test endpoint sends a
            # fresh realistic alert every time, through the same path and the demo's short chain.
            console.print("Another alert, as often as you like:", soft_wrap=True)
            console.print(
                f"curl -X POST -H 'Authorization: Bearer {settings.api_token}' "
                f"{demo.base}/api/v1/integrations/{DEMO_INTEGRATION}/test/",
                soft_wrap=True,
            )
            console.print(f"API token: {settings.api_token}", soft_wrap=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        time.sleep(0.3)
        demo.runtime.stop()
