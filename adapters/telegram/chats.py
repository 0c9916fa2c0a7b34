"""A Telegram group that became a supergroup has a new chat id: follow it where Tocsin stores chat ids.

Where the id lives: a route's ``telegram_chat_id``, an integration's, a team's, and each incident's copy
taken when it opened. All of them move, so the next card goes to the new chat. Card slots
(``chat_messages``) are not rewritten: a card posted in the old group stays there, and the next publish
posts a fresh card in the supergroup, because message ids are not promised to survive the upgrade.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from engine.db import Incident, Integration, LinkCode, Route, Team, User
from engine.services.deps import Deps

log = logging.getLogger(__name__)


def follow_migration(deps: Deps, old_chat_id: str, new_chat_id: str) -> int:
    """Replace ``old_chat_id`` with ``new_chat_id`` everywhere; returns how many rows changed."""
    if old_chat_id == new_chat_id:
        return 0
    changed = 0
    with deps.db.unit() as uow:
        for model in (Route, Integration, Team, Incident):
            result = uow.session.execute(
                update(model)
                .where(model.telegram_chat_id == old_chat_id)
                .values(telegram_chat_id=new_chat_id)
                .execution_options(synchronize_session=False)
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
    log.info("telegram chat %s became %s: %d stored ids updated", old_chat_id, new_chat_id, changed)
    return changed


def adopt_group(deps: Deps, telegram_user_id: str, chat_id: str) -> list[str]:
    """After ``/link CODE`` in a group: the linked user's teams without a Telegram chat get this one.

    This is what makes "add the bot, send one command" enough. A team that already has a chat keeps it
    (changing it stays an admin's decision); returns the names of the teams that now use this chat.
    """
    with deps.db.unit() as uow:
        user = uow.session.scalar(select(User).where(User.telegram_chat_id == telegram_user_id))
        if user is None:
            return []
        adopted = []
        for membership in user.memberships:
            team = uow.session.get(Team, membership.team_id)
            if team is not None and not team.telegram_chat_id:
                team.telegram_chat_id = chat_id
                adopted.append(team.name)
        return adopted


def link_code_exists(deps: Deps, code: str) -> bool:
    """Whether a link code is waiting to be used (so a /link that used it can be told from one that failed)."""
    with deps.db.unit() as uow:
        return uow.session.get(LinkCode, code.strip().upper()) is not None
