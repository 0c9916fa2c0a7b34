"""Handoff announcements and gap warnings reach the real Slack and Telegram publishers (loopback fakes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import jobs
from tests.integration.test_schedules_api import SPEC
from tests.support.harness import Harness, seed_team
from tests.support.slack import slack_world
from tests.support.telegram import telegram_harness

HANDOFF = "User 1, User 2 are on call for Primary On-Call until Mon 16 Feb 17:00 (America/New_York)."


def _schedule_and_handoff(h: Harness) -> None:
    h.clock.set(datetime(2026, 2, 16, 13, 30, tzinfo=UTC))
    seed_team(h, members=3)
    h.ok("PATCH", "teams/T001/", {"slack_channel_id": "C0OPS", "telegram_chat_id": "-4001"})
    h.ok("POST", "schedules/", {**SPEC, "id": "S001"})
    h.clock.set(datetime(2026, 2, 16, 14, 5, tzinfo=UTC))
    jobs.sweep(h.runtime.deps)
    h.queue.run_due()
    jobs.sweep(h.runtime.deps)
    h.queue.run_due()


def test_slack_channel_gets_the_handoff_once(database_url: str, fixtures_dir: Path) -> None:
    with slack_world(database_url, fixtures_dir) as world:
        _schedule_and_handoff(world.h)
        posts = [m for m in world.slack.messages("C0OPS") if m.thread_ts is None]
        assert [m.text for m in posts] == ["🔔 " + HANDOFF]


def test_telegram_group_gets_the_handoff_once(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with telegram_harness(database_url, monkeypatch) as th:
        _schedule_and_handoff(th.h)
        assert [m.text for m in th.api.messages(-4001)] == ["🔔 " + HANDOFF]
