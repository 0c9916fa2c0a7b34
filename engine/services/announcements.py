"""On-call handoffs and coverage gaps, said in the owning team's chat.

The sweeper calls :func:`check_schedules`. For each schedule that belongs to a team it notices:

- a **handoff**: the on-call set changed less than :data:`FRESH` ago ("Ana is on call for Primary until
  Tue 10 Feb 09:00"; "nobody is on call" when a gap starts). A schedule created after the change, or a
  change older than that when first seen (a server that was down), is not announced: stale news at
  3 AM is noise;
- **gaps**: hours in the next 14 days with nobody on call, warned once a day per schedule.

Each event becomes one :class:`~engine.db.Announcement` row whose unique ``key`` names it, so any number
of sweepers add it once; a job then sends it (the row is the outbox, and the sweeper re-sends rows a lost
job left behind).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import Announcement, Schedule, Team, User
from engine.db.base import new_id
from engine.errors import DeliveryFailed
from engine.model.schedule import TimeRange
from engine.ports import Job
from engine.rules.handoff import coverage_gaps, on_call_segment
from engine.services import oncall
from engine.services.deps import Deps

log = logging.getLogger(__name__)

SEND = "announce.send.v1"
FRESH = timedelta(hours=1)
GAP_HORIZON = timedelta(days=14)
MAX_GAPS_LISTED = 5
MAX_ATTEMPTS = 6
RETRY_GRACE = timedelta(minutes=10)
# How far ahead to look for the end of the current stretch (a stretch longer than this says "until …+8d").
SEGMENT_HORIZON = timedelta(days=8)


def send_job(announcement_id: str, run_at: datetime | None = None, attempt: int = 0) -> Job:
    return Job(
        kind=SEND,
        args={"announcement_id": announcement_id},
        id=f"ann-{announcement_id}-{attempt}",
        run_at=run_at,
    )


def check_schedules(deps: Deps) -> list[str]:
    """Add announcements for fresh handoffs and today's gap warning; answers the new rows' ids."""
    now = deps.clock.now()
    added: list[str] = []
    with deps.db.unit() as uow:
        session = uow.session
        for row in session.scalars(
            select(Schedule).where(Schedule.team_id.is_not(None)).order_by(Schedule.id)
        ):
            try:
                added += _check_one(session, row, now)
            except Exception:  # one broken schedule must not silence the others
                log.exception("announcements for schedule %s failed", row.id)
    for announcement_id in added:
        deps.queue.enqueue(send_job(announcement_id))
    return added


def _check_one(session: Session, row: Schedule, now: datetime) -> list[str]:
    assert row.team_id is not None
    value = oncall.schedule_value(row)
    zone = ZoneInfo(row.time_zone)
    added: list[str] = []
    segment = on_call_segment(value, now, SEGMENT_HORIZON)
    if now - FRESH <= segment.start <= now and segment.start >= row.created_at:
        names = _names(session, segment.users)
        until = _when(segment.end, zone)
        if names:
            text = f"🔔 {', '.join(names)} {'is' if len(names) == 1 else 'are'} on call for {row.name} until {until}."
        else:
            text = f"⚠️ Nobody is on call for {row.name} until {until}: alerts routed to it page nobody."
        key = f"handoff:{row.id}:{segment.start.isoformat()}"
        added += _add(session, key, row.team_id, text, now)
    gap_key = f"gaps:{row.id}:{now.astimezone(zone).date().isoformat()}"
    if session.scalar(select(Announcement.id).where(Announcement.key == gap_key)) is None:
        gaps = coverage_gaps(value, now, now + GAP_HORIZON)
        if gaps:
            added += _add(session, gap_key, row.team_id, gap_text(row.name, gaps, zone), now)
    return added


def gap_text(schedule_name: str, gaps: list[TimeRange], zone: ZoneInfo) -> str:
    hours = sum((g.end - g.start).total_seconds() for g in gaps) / 3600
    shown = [f"{_when(g.start, zone)} – {_when(g.end, zone)}" for g in gaps[:MAX_GAPS_LISTED]]
    more = len(gaps) - len(shown)
    listed = "; ".join(shown) + (f"; …and {more} more" if more > 0 else "")
    return (
        f"⚠️ {schedule_name} has nobody on call for {hours:.0f} h in the next 14 days: {listed}. "
        "Add a shift or an override so alerts reach someone."
    )


def _when(t: datetime, zone: ZoneInfo) -> str:
    local = t.astimezone(zone)
    return f"{local:%a %d %b %H:%M} ({zone.key})"


def _names(session: Session, user_ids: tuple[str, ...]) -> list[str]:
    users = {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    return [users.get(user_id, user_id) for user_id in user_ids]


def _add(session: Session, key: str, team_id: str, text: str, now: datetime) -> list[str]:
    if session.scalar(select(Announcement.id).where(Announcement.key == key)) is not None:
        return []
    row = Announcement(id=new_id("N"), key=key, team_id=team_id, text=text, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another sweeper added it first
        return []
    return [row.id]


def handle_send(deps: Deps, announcement_id: str) -> None:
    """Post one announcement to its team's Slack channel and Telegram chat, once."""
    now = deps.clock.now()
    with deps.db.unit() as uow:
        row = uow.session.get(Announcement, announcement_id)
        if row is None or row.sent_at is not None:
            return
        team = uow.session.get(Team, row.team_id)
        chats = {"slack": team.slack_channel_id, "telegram": team.telegram_chat_id} if team else {}
        text = row.text
        attempt = row.attempts
    wanted = {provider: chat for provider, chat in chats.items() if chat}
    error: str | None = None
    try:
        if deps.publisher is None or not wanted:
            error = "the team has no chat to announce in"
        else:
            deps.publisher.announce(wanted, text)
    except DeliveryFailed as exc:
        if exc.retryable and attempt + 1 < MAX_ATTEMPTS:
            with deps.db.unit() as uow:
                row = uow.session.get(Announcement, announcement_id)
                if row is not None:
                    row.attempts = attempt + 1
                    row.error = exc.detail
            delay = exc.retry_after if exc.retry_after is not None else 5 * 2**attempt
            deps.queue.enqueue(send_job(announcement_id, now + timedelta(seconds=delay), attempt + 1))
            return
        error = exc.detail
    with deps.db.unit() as uow:
        row = uow.session.get(Announcement, announcement_id)
        if row is not None:
            row.sent_at = now
            row.attempts = attempt + 1
            row.error = error
    if error:
        log.warning("announcement %s not sent: %s", announcement_id, error)


def unsent(session: Session, cutoff: datetime) -> list[Job]:
    """Send jobs for announcements a lost job left behind, for the sweeper.

    A first attempt is re-sent once it is overdue; one waiting to retry (a rate limit) only after
    :data:`RETRY_GRACE`, so the sweeper does not hurry past the provider's Retry-After.
    """
    rows = session.execute(
        select(Announcement.id, Announcement.attempts, Announcement.created_at).where(
            Announcement.sent_at.is_(None), Announcement.created_at <= cutoff
        )
    )
    return [
        send_job(announcement_id, None, attempts)
        for announcement_id, attempts, created_at in rows
        if attempts == 0 or created_at <= cutoff - RETRY_GRACE
    ]
