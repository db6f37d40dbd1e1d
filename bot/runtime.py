"""Process lifecycle: open the store, check migrations, build services, run and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import discord

from bot.app import GemsBot
from bot.settings import Settings
from bot.store import Store, open_store
from economy.audit import AuditReport, audit
from economy.clock import Clock, SystemClock
from economy.migrations import Migrator
from economy.services import Services, build_services

log = logging.getLogger("gems")


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


def setup_logging(level: str) -> None:
    """Readable logs on stderr (discord.py's formatter, our level)."""
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    quiet_scheduler(getattr(logging, level))


def quiet_scheduler(level: int) -> None:
    """APScheduler logs two INFO lines per job run (thousands a day): show them only at DEBUG.
    Failures are logged by bot.jobs, one line each."""
    logging.getLogger("apscheduler.executors").setLevel(
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


async def ensure_migrated(store: Store, settings: Settings, clock: Clock) -> None:
    """Apply pending migrations when AUTO_MIGRATE is on; otherwise refuse to start."""
    migrator = Migrator(store.db, clock)
    pending = await migrator.pending()
    if not pending:
        return
    names = ", ".join(f"{m.version}_{m.name}" for m in pending)
    if not settings.auto_migrate:
        raise StartupError(
            f"The database needs migrations first ({names}). Run `./gems migrate` "
            "(or set AUTO_MIGRATE=true to apply them at start-up)."
        )
    for migration in await migrator.apply_pending():
        log.info("applied migration %s_%s", migration.version, migration.name)


async def run_bot(settings: Settings) -> None:
    """Run the bot until Ctrl-C / SIGTERM, then flush and stop everything."""
    if settings.discord_token is None:
        raise StartupError("DISCORD_TOKEN is not set.")
    clock = SystemClock()
    _cancel_on_sigterm()
    async with opened_store(settings) as store:
        await ensure_migrated(store, settings, clock)
        services = build_services(store.db, clock, **settings.nft_service_options(),
                                  **settings.ledger_options())
        async with GemsBot(services=services, settings=settings) as bot:
            await bot.start(settings.discord_token.get_secret_value())


async def migrate(settings: Settings) -> list[str]:
    """Apply pending migrations; returns their names."""
    async with opened_store(settings) as store:
        applied = await Migrator(store.db, SystemClock()).apply_pending()
        return [f"{m.version}_{m.name}" for m in applied]


async def run_audit(settings: Settings) -> AuditReport:
    """Check the ledger invariant on the configured store."""
    async with opened_store(settings) as store:
        await ensure_migrated(store, settings, SystemClock())
        return await audit(build_services(store.db, SystemClock()).ledger_repo)


async def sync_commands(settings: Settings) -> None:
    """Log in, sync the app commands (to DEV_GUILD_IDS, or globally) and exit."""
    if settings.discord_token is None:
        raise StartupError("DISCORD_TOKEN is not set: syncing commands needs the real bot.")
    async with opened_store(settings) as store:
        services: Services = build_services(store.db, SystemClock())
        async with GemsBot(services=services, settings=settings, run_jobs=False) as bot:
            await bot.login(settings.discord_token.get_secret_value())
            await bot.sync_commands()


def _cancel_on_sigterm() -> None:
    # SIGTERM (systemd, docker stop) takes the same clean path as Ctrl-C.
    task = asyncio.current_task()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
