"""The `tocsin` command line as a user runs it: exit codes, stdout, stderr."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import create_engine, select

from engine.db import ApiToken
from engine.services.directory import hash_token
from tests.support.processes import ROOT, process_env, tocsin_command


def run(args: list[str], db: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tocsin_command(), *args],
        env=process_env(TOCSIN_DATABASE_URL=db, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_token_and_apply(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    migrated = run(["migrate"], db)
    assert migrated.returncode == 0, migrated.stderr

    created = run(["token", "create", "--name", "ci"], db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("tcs_") and "\n" not in token
    engine = create_engine(db)
    with engine.connect() as conn:
        hashes = list(conn.scalars(select(ApiToken.token_hash)))
    engine.dispose()
    assert hashes == [hash_token(token)]

    scoped = run(["token", "create", "--name", "x", "--team", "T404"], db)
    assert scoped.returncode == 2
    assert "T404" in scoped.stderr

    quickstart = str(ROOT / "examples" / "quickstart.yaml")
    applied = run(["apply", "-f", quickstart], db)
    assert applied.returncode == 0, applied.stderr
    assert "+ team T001" in applied.stdout
    again = run(["apply", "-f", quickstart], db)
    assert again.returncode == 0
    assert "0 change(s)" in again.stdout
    assert "unchanged in sqlite:///" + str(tmp_path) in again.stdout  # which database, absolute
    # Each run says where to send alerts, with the same URL both times.
    links = [line for line in applied.stdout.splitlines() if "/integrations/v1/alertmanager/" in line]
    assert len(links) == 1 and links[0].split()[0] == "I002"
    assert links[0] in again.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("teams:\n  - id: T9\n    name: X\n    colour: red\n")
    refused = run(["apply", "-f", str(bad)], db)
    assert refused.returncode == 2
    assert "line 4: teams[0].colour" in refused.stderr
    assert "nothing was applied" in refused.stderr

    missing = run(["apply", "-f", str(tmp_path / "nope.yaml")], db)
    assert missing.returncode == 2


def test_worker_without_redis_is_bad_usage(tmp_path: Path) -> None:
    result = run(["worker"], f"sqlite:///{tmp_path / 'w.db'}")
    assert result.returncode == 2
    assert "TOCSIN_REDIS_URL" in result.stderr
