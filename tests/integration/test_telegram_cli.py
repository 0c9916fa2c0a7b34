"""`tocsin telegram set-webhook` as a user runs it, against the loopback Bot API."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegramApi
from tests.support.processes import ROOT, process_env, tocsin_command


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tocsin_command(), *args],
        env=process_env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_set_webhook_from_the_command_line(tmp_path: Path) -> None:
    with FakeTelegramApi() as api:
        env = {
            "TOCSIN_DATABASE_URL": f"sqlite:///{tmp_path / 'tg.db'}",
            "TOCSIN_TELEGRAM_BOT_TOKEN": api.token,
            "TOCSIN_TELEGRAM_API_URL": api.base_url,
            "TOCSIN_PUBLIC_URL": "https://oncall.example.com",
        }
        missing = run(["telegram", "set-webhook"], **env)
        assert missing.returncode == 2
        assert "TOCSIN_TELEGRAM_WEBHOOK_SECRET" in missing.stderr
        assert api.webhook is None

        done = run(["telegram", "set-webhook"], TOCSIN_TELEGRAM_WEBHOOK_SECRET="cli-secret_1", **env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "webhook set: https://oncall.example.com/telegram/webhook"
        assert api.webhook is not None and api.webhook["secret_token"] == "cli-secret_1"

        refused = run(
            ["telegram", "set-webhook"],
            TOCSIN_TELEGRAM_WEBHOOK_SECRET="cli-secret_1",
            **{**env, "TOCSIN_TELEGRAM_BOT_TOKEN": "999:wrong-token"},
        )
        assert refused.returncode == 1
        assert refused.stderr.splitlines()[-1].startswith("tocsin: Telegram refused setWebhook")
        for result in (done, refused):  # the token is part of every Bot API URL: never in the logs
            assert api.token not in result.stderr and "wrong-token" not in result.stderr


def test_serve_with_telegram_polling_answers_commands_and_keeps_the_api(tmp_path: Path) -> None:
    """`tocsin serve --telegram-poll`: no public URL, yet commands get answers and alerts still arrive."""
    import httpx

    from tests.fakes.http_fake import Reply
    from tests.fakes.telegram_api import make_message_update
    from tests.support.processes import free_port, running, wait_for, wait_ready

    with FakeTelegramApi() as api:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = process_env(
            TOCSIN_DATABASE_URL=f"sqlite:///{tmp_path / 'tg.db'}",
            TOCSIN_TELEGRAM_BOT_TOKEN=api.token,
            TOCSIN_TELEGRAM_API_URL=api.base_url,
            TOCSIN_PUBLIC_URL=base,
            TOCSIN_API_TOKEN="poll-token",
        )
        help_update = make_message_update("/help", chat_id=-400000001, from_user_id=42)
        api.fail_next(r"/bot[^/]+/getUpdates", Reply.json({"ok": True, "result": [help_update]}))
        log = tmp_path / "serve.log"
        with running(["serve", "--port", str(port), "--telegram-poll"], env, log) as server:
            wait_ready(base, server, log)
            answered = wait_for(
                lambda: [m for m in api.messages(-400000001) if "Tocsin commands" in (m.text or "")],
                timeout=20,
            )
            assert len(answered) == 1
            health = httpx.get(f"{base}/healthz", timeout=5)
            assert health.status_code == 200  # the server still serves HTTP beside the polling
        assert api.requests_to(r"/bot[^/]+/deleteWebhook")  # polling removed any webhook first


def test_polling_alone_needs_redis(tmp_path: Path) -> None:
    refused = run(
        ["telegram", "poll"],
        TOCSIN_DATABASE_URL=f"sqlite:///{tmp_path / 'tg.db'}",
        TOCSIN_TELEGRAM_BOT_TOKEN="123456789:TEST-fake-token",
    )
    assert refused.returncode == 2
    assert "tocsin serve --telegram-poll" in refused.stderr
