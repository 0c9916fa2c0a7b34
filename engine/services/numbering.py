"""The installation-wide incident number sequence, portable across SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.db import Counter


def next_value(session: Session, name: str) -> int:
    """Increment and return the counter; the row lock serialises concurrent creators."""
    value = session.scalar(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1).returning(Counter.value)
    )
    if value is None:
        session.add(Counter(name=name, value=1))
        session.flush()
        return 1
    return int(value)
