"""What the benchmarks share: percentiles, a throw-away PostgreSQL database, Tocsin processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, process_env, tocsin_command, wait_ready  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [*tocsin_command(), *args],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Tocsin:
    """A running production shape: where its API is, its database, its logs."""

    base: str
    database_url: str
    logs: Path
    token: str


@contextmanager
def production(
    name: str,
    redis_db: int,
    workers: int,
    token: str = "bench-token",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Tocsin]:
    """`tocsin serve` and ``workers`` `tocsin worker`s on a throw-away PostgreSQL database and a flushed
    Redis database; everything is stopped and dropped afterwards."""
    import redis

    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    procs: list[subprocess.Popen[bytes]] = []
    with throwaway_database(name) as url:
        env = process_env(
            TOCSIN_DATABASE_URL=url,
            TOCSIN_REDIS_URL=redis_url,
            TOCSIN_PUBLIC_URL=base,
            TOCSIN_API_TOKEN=token,
            TOCSIN_LOG_LEVEL="WARNING",
            **(extra_env or {}),
        )
        try:
            procs.append(spawn(["serve", "--port", str(port)], env, logs / "serve.log"))
            wait_ready(base, procs[0], logs / "serve.log", timeout=60)
            for n in range(workers):
                procs.append(spawn(["worker"], env, logs / f"worker{n}.log"))
            yield Tocsin(base, url, logs, token)
        finally:
            stop_all(procs)
