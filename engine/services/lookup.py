"""Read-only lookups the conversation needs: schedules by name, open incidents, the latest page."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Delivery, Incident, Integration, Schedule, Team, User
from engine.errors import NotFound

# How far back a bare "ack" looks for the last page among a person's deliveries (updates come between).
RECENT_DELIVERIES = 200


def find_schedule(session: Session, ref: str | None, team_ids: list[str]) -> Schedule | None:
    """A schedule by id or (case-insensitive) name; with no ref, the first team's primary one."""
    if ref:
        found = session.get(Schedule, ref)
        if found is not None:
            return found
        return session.scalar(select(Schedule).where(func.lower(Schedule.name) == ref.strip().lower()))
    for team_id in team_ids:
        team = session.get(Team, team_id)
        if team is not None and team.primary_schedule_id:
            primary = session.get(Schedule, team.primary_schedule_id)
            if primary is not None:
                return primary
        first = session.scalar(
            select(Schedule).where(Schedule.team_id == team_id).order_by(Schedule.created_at)
        )
        if first is not None:
            return first
    return None


def find_integration(session: Session, ref: str, team_ids: list[str] | tuple[str, ...]) -> Integration | None:
    """An integration of one of ``team_ids`` by id, or by name or type ignoring case (``grafana``)."""
    wanted = ref.strip().lower()
    candidates = list(
        session.scalars(select(Integration).where(Integration.team_id.in_(team_ids)).order_by(Integration.id))
    )
    tiers: tuple[Callable[[Integration], bool], ...] = (
        lambda i: i.id == ref.strip(),
        lambda i: (i.name or "").lower() == wanted,
        lambda i: i.type.lower() == wanted or i.type.lower().startswith(wanted),
    )
    for matches in tiers:
        found = [i for i in candidates if matches(i)]
        if found:
            return found[0]
    return None


def open_incidents(session: Session, team_ids: list[str] | None, limit: int = 10) -> list[Incident]:
    query = select(Incident).where(Incident.state != "resolved").order_by(Incident.number.desc()).limit(limit)
    if team_ids:
        query = query.where(Incident.team_id.in_(team_ids))
    return list(session.scalars(query))


def count_open_incidents(session: Session, team_ids: list[str] | None) -> int:
    query = select(func.count()).select_from(Incident).where(Incident.state != "resolved")
    if team_ids:
        query = query.where(Incident.team_id.in_(team_ids))
    return int(session.scalar(query) or 0)


def latest_paged_incident(session: Session, user_id: str, channels: tuple[str, ...]) -> Incident | None:
    """The incident most recently paged to this user on these channels (SMS "ack" with no number).

    Updates ("#12 acknowledged by Ana", sent to everyone paged for #12) are deliveries too, but not
    pages: counting them would make a bare "resolve" act on #12 instead of the incident just paged.
    """
    recent = session.execute(
        select(Delivery.incident_id, Delivery.data)
        .where(
            Delivery.user_id == user_id,
            Delivery.channel.in_(channels),
            Delivery.sent_at.is_not(None),
            Delivery.incident_id.is_not(None),
        )
        .order_by(Delivery.sent_at.desc(), Delivery.created_at.desc())
        .limit(RECENT_DELIVERIES)
    )
    incident_id = next((row[0] for row in recent if (row[1] or {}).get("kind", "page") == "page"), None)
    return session.get(Incident, incident_id) if incident_id else None


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lstrip("@").lower()))


def team_by_name(session: Session, ref: str) -> Team | None:
    return session.get(Team, ref) or session.scalar(select(Team).where(func.lower(Team.name) == ref.lower()))


def user_names(session: Session, ids: list[str]) -> list[str]:
    return list(session.scalars(select(User.name).where(User.id.in_(ids)).order_by(User.name))) if ids else []


MAX_NUMBER = 2**31 - 1  # incidents.number is a 32-bit INTEGER


def find_incident(session: Session, ref: str | int) -> Incident:
    """An incident by id or by number (chat and SMS use the number); ``#12`` works too."""
    text = str(ref).lstrip("#")
    incident = session.get(Incident, text)
    # A number past the column's range names no incident (PostgreSQL would fail the query instead).
    if incident is None and text.isdigit() and int(text) <= MAX_NUMBER:
        incident = session.scalar(select(Incident).where(Incident.number == int(text)))
    if incident is None:
        raise NotFound(f"incident {ref!r} does not exist")
    return incident
