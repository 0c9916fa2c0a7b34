"""A real Prometheus Alertmanager (Debian's package) on loopback, for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

CONFIG = """route:
  receiver: tocsin
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: {repeat}
receivers:
- name: tocsin
  webhook_configs:
  - url: '{url}'
    send_resolved: true
"""


def require_alertmanager() -> str:
    if BINARY is None:
        message = "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return BINARY


@contextmanager
def alertmanager(webhook_url: str, folder: Path, repeat: str = "4s") -> Iterator[str]:
    binary = require_alertmanager()
    port = free_port()
    (folder / "am.yml").write_text(CONFIG.format(url=webhook_url, repeat=repeat))
    log = (folder / "am.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'am.yml'}",
            f"--storage.path={folder / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError((folder / "am.log").read_text(errors="replace"))
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def post_alerts(base: str, alerts: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{base}/api/v2/alerts", json=alerts, timeout=10)
    assert response.status_code == 200, response.text


def alert(
    name: str, service: str, instance: str, severity: str = "critical", resolved: bool = False
) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "labels": {"alertname": name, "service": service, "instance": instance, "severity": severity},
        "annotations": {
            "summary": f"{name} on {instance}",
            "runbook_url": "https://runbooks.example.com/" + name,
        },
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "generatorURL": "http://prometheus.example.com/graph",
    }
    if resolved:
        body["endsAt"] = now.isoformat()
    return body
