"""Shared fixtures: databases (SQLite always; PostgreSQL and Redis when the servers are up)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import services
from tests.support.fixtures import FIXTURES


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        message = f"shared fixtures not found at {FIXTURES}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI=true requires them", pytrace=False)
        pytest.skip(message)
    return FIXTURES


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file per run; each test copies it (migrating every time is slow)."""
    from engine.db.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_template: Path) -> str:
    path = tmp_path / "tocsin.db"
    shutil.copy(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    base = services.require_postgres()
    name = f"tocsin_test_{uuid.uuid4().hex[:8]}"
    services.create_database(base, name)
    url = services.database_url(base, name)
    from engine.db.migrate import upgrade

    upgrade(url)
    yield url
    services.drop_database(base, name)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    yield postgres_server_url
    services.truncate_all(postgres_server_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both databases: every test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = services.require_redis()
    yield url
    services.flush_redis(url)
