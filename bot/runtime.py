"""Process lifecycle: open the store, check migrations, build services, run and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import discord

from bot.app import GemsBot
from bot.control import ControlServer, audit_running_bot
from bot.settings import Settings
from bot.shutdown import GracefulStop
from bot.startup_errors import StartupError, start_bot
from bot.startup_migrations import ensure_migrated
from bot.store import EmbeddedServer, Store, open_store
from economy.core.audit import AuditReport, audit
from economy.core.clock import SystemClock
from economy.services import Services, build_services

log = logging.getLogger("gems")


def setup_logging(level: str, fmt: str = "text") -> None:
    """Readable logs on stderr (discord.py's formatter, our level); `fmt="json"`: JSON lines.

    Colour only when stderr is a terminal and NO_COLOR is unset (discord.py also colours inside
    Docker, which puts escape codes into piped logs and files).
    """
    options = {} if use_colour(sys.stderr) else {"formatter": logging.Formatter(
        "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")}
    discord.utils.setup_logging(level=getattr(logging, level), root=True, **options)
    if fmt == "json":
        from bot.log_format import use_json_logs

        use_json_logs(getattr(logging, level))
    quiet_scheduler(getattr(logging, level))


def use_colour(stream) -> bool:
    """True when `stream` is a terminal and the NO_COLOR convention (no-color.org) is not set."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def quiet_scheduler(level: int) -> None:
    """APScheduler logs two INFO lines per job run (thousands a day) and two per job at start-up:
    show them only at DEBUG. Failures are logged by bot.jobs, one line each."""
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The configured store, closed (and the embedded server stopped) on exit."""
    store = await open_store(
        mongodb_uri=settings.mongodb_uri, database_name=settings.database_name,
        data_dir=settings.data_dir, start_timeout=settings.embedded_start_timeout,
    )
    try:
        yield store
    finally:
        await store.close()


async def run_bot(settings: Settings) -> None:
    """Run the bot until Ctrl-C / SIGTERM, then flush and stop everything (returns normally)."""
    if settings.discord_token is None:
        raise StartupError("DISCORD_TOKEN is not set.")
    clock = SystemClock()
    stop = GracefulStop().install()
    try:
        async with opened_store(settings) as store:
            await ensure_migrated(store, settings, clock)
            services = build_services(store.db, clock, **settings.nft_service_options(),
                                      **settings.ledger_options())
            async with _control_server(store, services, settings), \
                    GemsBot(services=services, settings=settings, sync_on_start=True,
                            own_process=True) as bot:
                stop.on_stop(bot.close)
                await start_bot(bot, settings.discord_token.get_secret_value())
    except asyncio.CancelledError:
        if not stop.requested:
            raise
        asyncio.current_task().uncancel()
    finally:
        stop.uninstall()


async def migrate(settings: Settings) -> list[str]:
    """Apply pending migrations (`./gems migrate`); returns their names."""
    async with opened_store(settings) as store:
        return await ensure_migrated(store, settings, SystemClock(), always=True)


@contextlib.asynccontextmanager
async def _control_server(store: Store, services: Services,
                          settings: Settings) -> AsyncIterator[None]:
    # Only the embedded store needs it: its readers see half-done transactions (see bot.control).
    if store.server is None or str(settings.data_dir) == "memory":
        yield
        return
    control = ControlServer(store.db, Path(settings.data_dir))
    await control.start()
    try:
        yield
    finally:
        await control.stop()


async def run_audit(settings: Settings) -> AuditReport:
    """Check the ledger invariant on the configured store.

    While a bot runs on the embedded store, the running bot does the audit (under its write lock).
    """
    if settings.embedded and str(settings.data_dir) != "memory":
        server = EmbeddedServer(data_dir=str(settings.data_dir), run_dir=Path(settings.data_dir))
        pid = server.live_pid()
        if pid is not None:
            report = await audit_running_bot(Path(settings.data_dir))
            if report is None:
                raise StartupError(
                    f"A GEMS store (pid {pid}) is serving {settings.data_dir} but no bot answers "
                    "on its control socket (a migrate or another audit is running?). Try again "
                    "when it has finished."
                )
            return report
    async with opened_store(settings) as store:
        await ensure_migrated(store, settings, SystemClock(), apply=False)
        return await audit(store.db)


async def sync_commands(settings: Settings) -> list:
    """Log in, sync the app commands (to DEV_GUILD_IDS, or globally) even when unchanged, and
    exit; returns one bot.command_sync.SyncOutcome per scope."""
    if settings.discord_token is None:
        raise StartupError("DISCORD_TOKEN is not set: syncing commands needs the real bot.")
    async with opened_store(settings) as store:
        services: Services = build_services(store.db, SystemClock())
        async with GemsBot(services=services, settings=settings, run_jobs=False) as bot:
            await bot.login(settings.discord_token.get_secret_value())
            return await bot.sync_commands(force=True)

