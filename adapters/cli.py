"""The ``tocsin`` command line (SPEC §1). Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.settings import Settings, load_settings

if TYPE_CHECKING:
    from adapters.runtime import Runtime

app = typer.Typer(help="Tocsin: chat-first on-call and incident responder.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
telegram_app = typer.Typer(help="Telegram bot: webhook registration and long polling.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"tocsin: {message}", err=True)
    return typer.Exit(code)


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _settings() -> Settings:
    try:
        settings = load_settings()
    except Exception as exc:
        raise _fail(f"invalid settings: {exc}", 2) from exc
    _setup_logging(settings)
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8080,
    config: Annotated[
        Path | None, typer.Option(help="YAML file to apply at start (as `tocsin apply`).")
    ] = None,
    telegram_poll: Annotated[
        bool, typer.Option(help="Also receive Telegram by long polling (no public URL needed).")
    ] = False,
) -> None:
    """Run the HTTP API and webhooks; with no TOCSIN_REDIS_URL also the engine (embedded mode)."""
    import uvicorn

    from adapters.http.app import create_app
    from adapters.runtime import build_runtime

    settings = _settings()
    runtime = build_runtime(settings)
    if config is not None:
        _apply_file(runtime, config, prune=False)
    runtime.start()
    stop_polling = _start_telegram_polling(runtime) if telegram_poll else None
    mode = "embedded engine" if runtime.embedded is not None else "RQ mode: run `tocsin worker` too"
    logging.getLogger("tocsin").info("Tocsin on http://%s:%s (%s)", host, port, mode)
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level=settings.log_level.lower())
    finally:
        if stop_polling is not None:
            stop_polling.set()
        runtime.stop()


def _start_telegram_polling(runtime: Runtime) -> threading.Event:
    """`serve --telegram-poll`: Telegram updates by long polling in a thread of the server."""
    from adapters.telegram.cli import NotConfigured, serve_polling

    if not runtime.settings.telegram_bot_token:
        raise _fail("--telegram-poll needs TOCSIN_TELEGRAM_BOT_TOKEN", 2)
    stop = threading.Event()

    def run() -> None:
        try:
            serve_polling(runtime.providers, stop)
        except NotConfigured as exc:
            logging.getLogger("tocsin").error("telegram polling not started: %s", exc)

    threading.Thread(target=run, name="tocsin-telegram-poll", daemon=True).start()
    return stop


@app.command()
def worker(
    queues: Annotated[list[str] | None, typer.Option("--queues", help="Queues to serve.")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty (for tests).")] = False,
) -> None:
    """Run an RQ worker with scheduler and the sweeper (needs TOCSIN_REDIS_URL)."""
    from adapters.runtime import build_runtime
    from adapters.worker import run_worker

    settings = _settings()
    if not settings.redis_url:
        raise _fail("tocsin worker needs TOCSIN_REDIS_URL (without it, `tocsin serve` runs the engine)", 2)
    run_worker(build_runtime(settings, migrate=False), queues, burst)


@app.command()
def migrate() -> None:
    """Apply database migrations and exit."""
    from engine.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def apply(
    file: Annotated[Path, typer.Option("-f", "--file", help="YAML file with teams, users, chains …")],
    prune: Annotated[bool, typer.Option(help="Delete objects missing from the file.")] = False,
) -> None:
    """Create or update objects from YAML; idempotent; an invalid file changes nothing."""
    from adapters.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        _apply_file(runtime, file, prune)
    finally:
        runtime.stop()


def _apply_file(runtime: object, file: Path, prune: bool) -> None:
    from adapters.config.apply import ApplyError, apply_text

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}", 2) from exc
    try:
        changes = apply_text(runtime, text, prune=prune)  # type: ignore[arg-type]
    except ApplyError as exc:
        raise _fail(f"{file}: {exc}; nothing was applied", 2) from exc
    for change in changes:
        typer.echo(change.line())
    made = sum(1 for c in changes if c.action != "unchanged")
    typer.echo(f"{made} change(s), {len(changes) - made} unchanged in {_database_shown(runtime)}")
    _print_integration_links(runtime, [c.obj_id for c in changes if c.kind == "integrations"])


def _database_shown(runtime: object) -> str:
    """The database written to, password hidden (a relative SQLite path is made absolute)."""
    from sqlalchemy.engine import make_url

    url = make_url(runtime.settings.database_url)  # type: ignore[attr-defined]
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=True)


def _print_integration_links(runtime: object, ids: list[str]) -> None:
    """Where to send alerts: the URL of each integration the file names (the URL token is the secret)."""
    from adapters.http.views import integration_link
    from engine.db import Integration

    if not ids:
        return
    typer.echo("alert URLs:")
    with runtime.db.unit() as uow:  # type: ignore[attr-defined]
        for integration_id in ids:
            integration = uow.session.get(Integration, integration_id)
            if integration is not None:
                link = integration_link(runtime.settings.public_base, integration)  # type: ignore[attr-defined]
                typer.echo(f"  {integration.id} {integration.type}: {link}")


@app.command()
def demo(
    keep_running: Annotated[bool, typer.Option(help="Leave the server up afterwards.")] = False,
    port: Annotated[int | None, typer.Option(help="Port for the demo server (default: a free one).")] = None,
) -> None:
    """The main job on a fresh machine: an alert, the escalation, acknowledge, resolve (SPEC §7)."""
    from adapters.demo import run_demo

    run_demo(_settings(), keep_running, port)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for.")],
    team: Annotated[str | None, typer.Option(help="Scope the token to one team.")] = None,
) -> None:
    """Print a new API token alone on stdout (stored hashed)."""
    from adapters.runtime import build_runtime
    from engine.errors import ValidationFailed
    from engine.services import directory

    runtime = build_runtime(_settings())
    try:
        with runtime.db.unit() as uow:
            value = directory.create_token(uow.session, runtime.deps.clock, name, team)
    except ValidationFailed as exc:
        raise _fail(exc.detail, 2) from exc
    finally:
        runtime.stop()
    typer.echo(value)


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register <TOCSIN_PUBLIC_URL>/telegram/webhook and the secret token with Telegram."""
    from adapters.telegram.cli import NotConfigured, SetupFailed, run_set_webhook

    try:
        url = run_set_webhook(_settings())
    except NotConfigured as exc:
        raise _fail(str(exc), 2) from exc
    except SetupFailed as exc:
        raise _fail(str(exc), 1) from exc
    typer.echo(f"webhook set: {url}")


@telegram_app.command("poll")
def telegram_poll() -> None:
    """Serve Telegram by long polling (getUpdates), for installations without a public URL."""
    from adapters.runtime import build_runtime
    from adapters.telegram.cli import NotConfigured, serve_polling

    settings = _settings()
    if not settings.telegram_bot_token:
        raise _fail("set TOCSIN_TELEGRAM_BOT_TOKEN first", 2)
    if not settings.redis_url:
        # Beside an embedded-mode `serve` this would be a second engine on the same database.
        raise _fail("without TOCSIN_REDIS_URL, run `tocsin serve --telegram-poll` instead", 2)
    runtime = build_runtime(settings)
    try:
        runtime.start()
        serve_polling(runtime.providers)
    except NotConfigured as exc:
        raise _fail(str(exc), 2) from exc
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()


def main() -> None:
    app()
