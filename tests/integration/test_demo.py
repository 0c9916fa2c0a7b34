"""`tocsin demo` as the README's first command runs it: the whole story, no accounts, under a minute."""

from __future__ import annotations

import re
import subprocess

from tests.support.processes import ROOT, process_env, tocsin_command


def test_demo_tells_the_whole_story() -> None:
    result = subprocess.run(
        [*tocsin_command(), "demo"],
        env=process_env(COLUMNS="200"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in (
        "'status': 'created'",
        "[slack C0OPS] card posted: 🔴 #1",
        "step 1: page to",
        "step 3: important page to",
        "step 5: important page to Carol Example",  # the backup schedule S002
        "via sms +1555555010",
        "via phone_call +1555555010",
        "acknowledged by Alice Example",
        "resolution note by Alice Example",
        "RESOLVED by Alice Example",
    ):
        assert expected in out, expected
    assert re.search(r"MTTA \d+(\.\d+)? s · MTTR \d+(\.\d+)? s", out)
    # One card per chat, whatever happened to the incident.
    assert out.count("[slack C0OPS] card posted") == 1
    assert out.count("[telegram -400000001] card posted") == 1
