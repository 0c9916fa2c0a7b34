"""Chat and telephony providers plug in here: each package's ``install`` says what it adds.

A provider package (``adapters.slack``, ``adapters.telegram``, ``adapters.twilio``) exposes
``install(context: ProviderContext) -> ProviderParts | None`` and returns None when its credentials
are not set. Packages that are not present are skipped, so the list below can name them all.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from fastapi import APIRouter

from adapters.settings import Settings
from bot.conversation import Conversation
from bot.ports import ChatPublisher
from engine.ports import Notifier
from engine.services.deps import Deps

PROVIDER_PACKAGES = ("adapters.slack", "adapters.telegram", "adapters.twilio")


@dataclass
class ProviderContext:
    settings: Settings
    deps: Deps
    conversation: Conversation
    console_stream: TextIO | None = None


@dataclass
class ProviderParts:
    """What one provider adds: notifiers by channel, a card publisher, HTTP routes, a closer."""

    name: str
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    publisher: ChatPublisher | None = None
    router: APIRouter | None = None
    close: Callable[[], None] | None = None


def install_all(context: ProviderContext) -> list[ProviderParts]:
    parts: list[ProviderParts] = []
    for package in PROVIDER_PACKAGES:
        if importlib.util.find_spec(package) is None:
            continue
        module = importlib.import_module(package)
        installed = module.install(context)
        if installed is not None:
            parts.append(installed)
    return parts
