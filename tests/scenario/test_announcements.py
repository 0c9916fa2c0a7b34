"""On-call handoffs and coverage gaps announced in the team's chats, once each, by the sweeper."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from engine import jobs
from engine.db import Announcement
from engine.services import announcements
from tests.integration.test_schedules_api import SPEC
from tests.support.harness import Harness, harness, seed_team


def _setup(h: Harness, shifts: list[dict] | None = None, schedule_id: str = "S001") -> None:
    if h.api("GET", "teams/T001/").status_code == 404:
        seed_team(h, members=3)
        h.ok("PATCH", "teams/T001/", {"slack_channel_id": "C0OPS", "telegram_chat_id": "-4001"})
    body = {**SPEC, "id": schedule_id}
    if shifts is not None:
        body["shifts"] = shifts
    h.ok("POST", "schedules/", json.loads(json.dumps(body)))


def _sweep(h: Harness) -> None:
    jobs.sweep(h.runtime.deps)
    h.queue.run_due()


def _rows(h: Harness) -> list[Announcement]:
    with h.runtime.db.unit() as uow:
        return list(
            uow.session.scalars(select(Announcement).order_by(Announcement.created_at, Announcement.key))
        )


def test_a_handoff_is_announced_once_in_slack_and_telegram(database_url: str) -> None:
    with harness(database_url) as h:
        h.clock.set(datetime(2026, 2, 16, 13, 30, tzinfo=UTC))
        _setup(h)
        _sweep(h)
        # The stretch under way began before the schedule existed: nothing to announce, and the
        # article's schedule has 24/7 coverage, so no gap warning either.
        assert _rows(h) == []

        h.clock.set(datetime(2026, 2, 16, 14, 5, tzinfo=UTC))  # 09:00 New York: the day shift joins
        _sweep(h)
        _sweep(h)  # a second sweeper, or the next round: still one announcement
        rows = _rows(h)
        assert [r.key for r in rows] == ["handoff:S001:2026-02-16T14:00:00+00:00"]
        text = "🔔 User 1, User 2 are on call for Primary On-Call until Mon 16 Feb 17:00 (America/New_York)."
        assert rows[0].text == text and rows[0].sent_at is not None and rows[0].error is None
        console = h.console.getvalue()
        assert f"[slack C0OPS] {text}" in console
        assert f"[telegram -4001] {text}" in console
        assert console.count(text) == 2

        # Three hours later is too late to announce a change nobody saw (the server was down).
        h.clock.set(datetime(2026, 2, 17, 3, 0, tzinfo=UTC))
        _sweep(h)
        assert len(_rows(h)) == 1


def test_gaps_in_the_next_two_weeks_are_warned_once_a_day(database_url: str) -> None:
    weekday_only = [SPEC["shifts"][0]]
    with harness(database_url) as h:
        h.clock.set(datetime(2026, 2, 16, 12, 0, tzinfo=UTC))
        _setup(h, weekday_only)
        _sweep(h)
        rows = [r for r in _rows(h) if r.key.startswith("gaps:")]
        assert [r.key for r in rows] == ["gaps:S001:2026-02-16"]
        # 09:00-17:00 on weekdays only, from Mon 07:00 for 14 days: 2 h this morning, 16 h a weekday
        # night (8 of them), 64 h the first weekend, 62 h the second (the window ends Mon 07:00).
        assert "Primary On-Call has nobody on call for 256 h in the next 14 days" in rows[0].text
        assert "Mon 16 Feb 07:00 (America/New_York) – Mon 16 Feb 09:00 (America/New_York)" in rows[0].text
        assert "…and 6 more" in rows[0].text
        h.clock.set(datetime(2026, 2, 16, 20, 0, tzinfo=UTC))
        _sweep(h)
        assert len([r for r in _rows(h) if r.key.startswith("gaps:")]) == 1
        h.clock.set(datetime(2026, 2, 17, 13, 0, tzinfo=UTC))  # the next day in New York
        _sweep(h)
        assert [r.key for r in _rows(h) if r.key.startswith("gaps:")] == [
            "gaps:S001:2026-02-16",
            "gaps:S001:2026-02-17",
        ]
        assert h.console.getvalue().count("has nobody on call for") == 4  # two days × Slack and Telegram


def test_a_team_without_chats_keeps_the_announcement_with_the_reason(database_url: str) -> None:
    with harness(database_url) as h:
        h.clock.set(datetime(2026, 2, 16, 13, 30, tzinfo=UTC))
        seed_team(h, members=3)
        h.ok("POST", "schedules/", {**SPEC, "id": "S001", "shifts": [SPEC["shifts"][0]]})
        _sweep(h)
        rows = _rows(h)
        assert len(rows) == 1 and rows[0].sent_at is not None
        assert rows[0].error == "the team has no chat to announce in"


def test_a_lost_send_job_is_re_sent_by_the_sweeper(database_url: str) -> None:
    with harness(database_url) as h:
        h.clock.set(datetime(2026, 2, 16, 13, 30, tzinfo=UTC))
        _setup(h, [SPEC["shifts"][0]])
        added = announcements.check_schedules(h.runtime.deps)
        assert len(added) == 1
        h.queue.waiting.clear()  # Redis lost the job
        h.clock.set(datetime(2026, 2, 16, 13, 31, tzinfo=UTC))
        _sweep(h)
        assert _rows(h)[0].sent_at is not None
        assert h.console.getvalue().count("has nobody on call for") == 2
