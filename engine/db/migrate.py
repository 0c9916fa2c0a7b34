"""Run Alembic migrations from code (``tocsin migrate``, ``tocsin serve``) and check for drift."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is ConfigParser-based: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``; safe to call on every start."""
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(url))


def _main() -> None:
    """``python -m engine.db.migrate --check``: migrate a scratch SQLite database and check drift."""
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/drift.db"
        upgrade(url)
        if "--check" in sys.argv:
            check(url)
    print("migrations match the models")


if __name__ == "__main__":
    _main()
