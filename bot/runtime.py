"""Process lifecycle: open the store, check migrations, build services, run and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.control import ControlServer, audit_running_bot
from bot.log_setup import quiet_scheduler, setup_logging, use_colour
from bot.settings import Settings
from bot.shutdown import GracefulStop
from bot.startup_errors import StartupError
from bot.startup_migrations import ensure_migrated
from bot.startup_phases import StartupPhases
from bot.store import EmbeddedServer, Store, open_store
from economy.core.audit import AuditReport, audit
from economy.core.clock import SystemClock

# The bot itself (discord.py, every cog) and the services are imported by `run_bot` and
# `sync_commands` only: `migrate`, `audit` and the tools start ~0.4 s sooner without them.
if TYPE_CHECKING:
    from economy.services import Services

log = logging.getLogger("gems")

__all__ = ["StartupError", "migrate", "opened_store", "quiet_scheduler", "run_audit", "run_bot",
           "setup_logging",
           "sync_commands", "use_colour"]


@contextlib.asynccontextmanager
async def opened_store(settings: Settings, *,
                       started: EmbeddedServer | None = None) -> AsyncIterator[Store]:
    """The configured store, closed (and the embedded server stopped) on exit; `started`: the
    embedded server already started for it (bot.store.start_embedded)."""
    store = await open_store(
        mongodb_uri=settings.mongodb_uri, database_name=settings.database_name,
        data_dir=settings.data_dir, start_timeout=settings.embedded_start_timeout,
        started=started,
    )
    try:
        yield store
    finally:
        await store.close()


async def run_bot(settings: Settings, *, started: EmbeddedServer | None = None) -> None:
    """Run the bot until Ctrl-C / SIGTERM, then flush and stop everything (returns normally).

    `started`: the embedded store process `python -m bot run` started before importing this
    module (bot.store.start_embedded), so its start-up overlapped the imports.
    """
    if settings.discord_token is None:
        raise StartupError("DISCORD_TOKEN is not set.")
    from bot.app import GemsBot
    from bot.startup_errors import start_bot
    from economy.services import build_services

    phases = StartupPhases()
    phases.mark("imports")
    clock = SystemClock()
    stop = GracefulStop().install()
    try:
        async with opened_store(settings, started=started) as store:
            phases.mark("store ready")
            await ensure_migrated(store, settings, clock)
            phases.mark("migrations checked")
            services = build_services(store.db, clock, **settings.nft_service_options(),
                                      **settings.ledger_options())
            phases.mark("services built")
            async with _control_server(store, services, settings), \
                    GemsBot(services=services, settings=settings, sync_on_start=True,
                            own_process=True) as bot:
                bot.startup_phases = phases
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
    from bot.app import GemsBot
    from economy.services import build_services

    async with opened_store(settings) as store:
        services: Services = build_services(store.db, SystemClock())
        async with GemsBot(services=services, settings=settings, run_jobs=False) as bot:
            await bot.login(settings.discord_token.get_secret_value())
            return await bot.sync_commands(force=True)

