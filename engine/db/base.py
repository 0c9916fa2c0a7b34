"""Declarative base, the aware-UTC datetime type and id generation."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from engine.clock import ensure_utc

_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC and always returns aware UTC, on SQLite (which drops zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        utc = ensure_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def new_id(prefix: str) -> str:
    """A short, readable, unguessable id such as ``IKX3M9Q2PRT7W``."""
    # 12 symbols of a 32-letter alphabet are 60 random bits, 5 bits a symbol; one call to the system's
    # randomness instead of twelve (ingest makes one id per alert, thousands for a large group).
    bits = secrets.randbits(60)
    return prefix + "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 60, 5))
