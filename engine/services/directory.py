"""Teams, users and API tokens: create, update, delete, list."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import ApiToken, Team, TeamMember, User
from engine.db.base import new_id
from engine.errors import Conflict, NotFound, ValidationFailed


def get_team(session: Session, team_id: str) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id!r} does not exist")
    return team


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} does not exist")
    return user


def require_team(session: Session, team_id: str | None, field: str = "team_id") -> None:
    """Check a referenced team exists, naming the referencing field when it does not."""
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(f"team {team_id!r} does not exist", field=field)


def require_users(session: Session, user_ids: Sequence[str], field: str) -> None:
    if not user_ids:
        return
    found = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
    for index, user_id in enumerate(user_ids):
        if user_id not in found:
            raise ValidationFailed(f"user {user_id!r} does not exist", field=f"{field}[{index}]")


def create_team(session: Session, clock: Clock, fields: Mapping[str, Any]) -> Team:
    team_id = fields.get("id") or new_id("T")
    if session.get(Team, team_id) is not None:
        raise Conflict(f"team {team_id!r} already exists")
    _check_unique_name(session, fields["name"], None)
    team = Team(id=team_id, created_at=clock.now())
    _apply_team_fields(team, fields)
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, team_id: str, fields: Mapping[str, Any]) -> Team:
    team = get_team(session, team_id)
    if "name" in fields:
        _check_unique_name(session, fields["name"], team_id)
    _apply_team_fields(team, fields)
    session.flush()
    return team


def _apply_team_fields(team: Team, fields: Mapping[str, Any]) -> None:
    for name in ("name", "slack_channel_id", "telegram_chat_id", "primary_schedule_id"):
        if name in fields:
            setattr(team, name, fields[name])


def _check_unique_name(session: Session, name: str, own_id: str | None) -> None:
    other = session.scalar(select(Team.id).where(Team.name == name))
    if other is not None and other != own_id:
        raise Conflict(f"a team named {name!r} already exists ({other})")


def delete_team(session: Session, team_id: str) -> None:
    session.delete(get_team(session, team_id))
    session.flush()


def create_user(session: Session, clock: Clock, fields: Mapping[str, Any]) -> User:
    user_id = fields.get("id") or new_id("U")
    if session.get(User, user_id) is not None:
        raise Conflict(f"user {user_id!r} already exists")
    user = User(id=user_id, created_at=clock.now(), time_zone="UTC", phone_verified=False)
    _apply_user_fields(session, user, fields)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user_id: str, fields: Mapping[str, Any]) -> User:
    user = get_user(session, user_id)
    _apply_user_fields(session, user, fields)
    session.flush()
    return user


_USER_SCALARS = (
    "name",
    "username",
    "email",
    "time_zone",
    "slack_user_id",
    "telegram_chat_id",
    "phone_number",
    "phone_verified",
)
_UNIQUE_USER_FIELDS = ("username", "slack_user_id", "telegram_chat_id")


def _apply_user_fields(session: Session, user: User, fields: Mapping[str, Any]) -> None:
    for name in _UNIQUE_USER_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        column = getattr(User, name)
        other = session.scalar(select(User.id).where(column == value, User.id != user.id))
        if other is not None:
            raise Conflict(f"{name} {value!r} already belongs to user {other}")
    for name in _USER_SCALARS:
        if name in fields:
            setattr(user, name, fields[name])
    if (
        "phone_number" in fields
        and "phone_verified" not in fields
        and user.phone_number != fields.get("phone_number")
    ):
        user.phone_verified = False
    if "team_ids" in fields:
        team_ids = list(dict.fromkeys(fields["team_ids"] or []))
        for index, team_id in enumerate(team_ids):
            require_team(session, team_id, field=f"team_ids[{index}]")
        user.memberships = [
            TeamMember(team_id=team_id, user_id=user.id, position=_next_position(session, team_id))
            for team_id in team_ids
        ]
    if "notification_settings" in fields:
        user.notification_settings = fields["notification_settings"]


def _next_position(session: Session, team_id: str) -> int:
    current = session.scalar(select(func.max(TeamMember.position)).where(TeamMember.team_id == team_id))
    return 0 if current is None else current + 1


def delete_user(session: Session, user_id: str) -> None:
    session.delete(get_user(session, user_id))
    session.flush()


def team_member_ids(session: Session, team_id: str) -> list[str]:
    return list(
        session.scalars(
            select(TeamMember.user_id).where(TeamMember.team_id == team_id).order_by(TeamMember.position)
        )
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, clock: Clock, name: str, team_id: str | None = None) -> str:
    """Store a new API token (hashed) and return the only copy of its plain value."""
    require_team(session, team_id, field="team")
    value = "tcs_" + secrets.token_urlsafe(32)
    store_token(session, clock, name, value, team_id)
    return value


def store_token(session: Session, clock: Clock, name: str, value: str, team_id: str | None) -> None:
    session.add(
        ApiToken(
            id=new_id("K"), name=name, token_hash=hash_token(value), team_id=team_id, created_at=clock.now()
        )
    )
    session.flush()


def find_token(session: Session, value: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(value)))
