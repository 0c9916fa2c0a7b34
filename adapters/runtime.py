"""The composition root: settings in, a wired engine out (database, queue, notifiers, clock)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import TextIO

from redis import Redis
from sqlalchemy.exc import IntegrityError

from adapters.console.chat import ConsoleChatPublisher
from adapters.console.notifier import ConsoleNotifier
from adapters.embedded.queue import InProcessJobQueue
from adapters.ical.fetch import IcalCalendarSource
from adapters.inbound.examples import send_test_alert
from adapters.providers import ProviderContext, ProviderParts, install_all
from adapters.rq.queue import RqJobQueue
from adapters.settings import Settings
from adapters.templating import JinjaTemplateRenderer, default_templates
from adapters.webhook.caller import HttpWebhookCaller
from bot.conversation import Conversation
from bot.ports import ChatPublisher
from bot.publishing import CardPublisher
from engine import jobs
from engine.clock import Clock, SystemClock
from engine.db.migrate import upgrade
from engine.db.session import Database
from engine.ports import Job, JobQueue, Notifier
from engine.services import directory
from engine.services.deps import Deps

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    deps: Deps
    console: ConsoleNotifier
    redis: Redis | None = None
    embedded: InProcessJobQueue | None = None
    conversation: Conversation | None = None
    providers: list[ProviderParts] = field(default_factory=list)
    _stops: list[threading.Event] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.deps.db

    def run(self, job: Job) -> None:
        jobs.run_job(self.deps, job.kind, job.args)

    def start(self) -> None:
        """Start the embedded engine (no Redis): the job thread and the sweeper."""
        if self.embedded is not None:
            self.embedded.start()
            self.start_sweeper()

    def start_sweeper(self) -> threading.Event:
        stop = threading.Event()
        interval = self.settings.sweep_interval_seconds

        def loop() -> None:
            # Sweep at once on start: a worker that comes back after Redis lost its jobs re-derives them
            # now, not one interval later.
            while True:
                try:
                    jobs.sweep(self.deps)
                except Exception:
                    log.exception("sweep failed")
                if stop.wait(interval):
                    return

        threading.Thread(target=loop, name="tocsin-sweeper", daemon=True).start()
        self._stops.append(stop)
        return stop

    def stop(self) -> None:
        for part in self.providers:
            if part.close is not None:
                part.close()
        for stop in self._stops:
            stop.set()
        if self.embedded is not None:
            self.embedded.stop()
        self.deps.db.dispose()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    queue: JobQueue | None = None,
    migrate: bool = True,
    console_stream: TextIO | None = None,
    notifiers: dict[str, Notifier] | None = None,
    chat_publishers: dict[str, ChatPublisher] | None = None,
) -> Runtime:
    """Wire everything from settings; ``queue`` and ``clock`` are injectable for tests."""
    clock = clock or SystemClock()
    if migrate:
        upgrade(settings.database_url)
    db = Database(settings.database_url)
    redis: Redis | None = None
    embedded: InProcessJobQueue | None = None
    if queue is None:
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            queue = RqJobQueue(redis)
        else:
            embedded = InProcessJobQueue(clock)
            queue = embedded
    console = ConsoleNotifier(console_stream)
    deps = Deps(
        db=db,
        clock=clock,
        queue=queue,
        renderer=JinjaTemplateRenderer(),
        notifiers=dict(notifiers or {}),
        fallback_notifier=console,
        public_url=settings.public_base,
        default_templates=default_templates,
        calendars=IcalCalendarSource(),
    )
    deps.webhooks = HttpWebhookCaller(settings.webhook_allowed_hosts)
    deps.test_alert = lambda integration_id: send_test_alert(deps, integration_id).result.incident_id
    conversation = Conversation(deps)
    providers = install_all(ProviderContext(settings, deps, conversation, console_stream))
    merged = dict(deps.notifiers)
    for part in providers:
        for channel, notifier in part.notifiers.items():
            merged.setdefault(channel, notifier)  # notifiers passed in (tests) win
    deps.notifiers = merged
    publishers = {p.name: p.publisher for p in providers if p.publisher is not None}
    publishers.update(chat_publishers or {})
    for provider, enabled in (("slack", settings.slack_enabled), ("telegram", settings.telegram_enabled)):
        if not enabled and provider not in publishers:
            # Cards for a chat without credentials show on the console instead.
            publishers[provider] = ConsoleChatPublisher(provider, console_stream)
    deps.publisher = CardPublisher(deps, publishers)
    db.commit_listeners.append(partial(jobs.enqueue_publishes, deps))
    runtime = Runtime(
        settings=settings,
        deps=deps,
        console=console,
        redis=redis,
        embedded=embedded,
        conversation=conversation,
        providers=providers,
    )
    if embedded is not None:
        embedded.bind(runtime.run)
    _log_providers(settings)
    if settings.api_token:
        _ensure_bootstrap_token(runtime, settings.api_token)
    return runtime


def _log_providers(settings: Settings) -> None:
    for name, enabled in (
        ("Slack", settings.slack_enabled),
        ("Telegram", settings.telegram_enabled),
        ("Twilio", settings.twilio_enabled),
    ):
        if not enabled:
            log.info("%s disabled: credentials not set; its pages go to the console", name)


def _ensure_bootstrap_token(runtime: Runtime, value: str) -> None:
    """TOCSIN_API_TOKEN: make sure an admin token with this value exists.

    `tocsin serve` and `tocsin worker` started together both try; the one that loses the race finds
    the other's row (a unique violation here used to crash `serve` at start).
    """
    try:
        with runtime.db.unit() as uow:
            if directory.find_token(uow.session, value) is None:
                directory.store_token(uow.session, runtime.deps.clock, "TOCSIN_API_TOKEN", value, None)
    except IntegrityError:
        with runtime.db.unit() as uow:
            if directory.find_token(uow.session, value) is None:
                raise
