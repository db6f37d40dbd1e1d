"""Pending migrations when the bot starts (and for `./gems migrate`).

- Embedded store: `./gems run` applies them itself; when the database already holds data it first
  takes an online backup (bot/backup.py) and says where in one line.
- MongoDB: `run` refuses and names the command, unless AUTO_MIGRATE=true. Several processes may
  start together there, so only the holder of the `migrations` lease (economy/core/leases.py) applies
  them; the others log that they wait, poll until nothing is pending, and give up after a bound
  with a line that says what to do. A holder that dies stops renewing, its lease runs out, and a
  waiting process takes over (migrations are re-runnable, see economy/core/migrations.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.settings import Settings
from bot.startup_errors import StartupError
from bot.store import Store
from economy.core.clock import Clock
from economy.core.leases import Lease, process_owner_id
from economy.core.migrations import Migration, Migrator
from economy.repos.lease_repo import LeaseRepo

log = logging.getLogger("gems")

MIGRATIONS_LEASE = "migrations"
#: How long a process waits for another one's migrations before it gives up.
WAIT_SECONDS = 600.0
POLL_SECONDS = 1.0


def _names(pending: list[Migration]) -> str:
    names = [f"{m.version}_{m.name}" for m in pending]
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} … {names[-1]}"


def _refusal(names: str, settings: Settings, *, apply: bool) -> str:
    if not apply:  # a read-only command (audit)
        how = "Run `./gems migrate` (or start the bot, which applies them)."
    elif settings.embedded:
        how = "Run `./gems migrate` (AUTO_MIGRATE=false stops `./gems run` from applying them)."
    else:
        how = ("Run `./gems migrate` once, or set AUTO_MIGRATE=true so that `./gems run` applies "
               "them (with several processes only one migrates, the others wait).")
    return f"The database needs migrations first ({names}). {how}"


async def ensure_migrated(store: Store, settings: Settings, clock: Clock, *,
                          apply: bool = True, always: bool = False, owner: str | None = None,
                          package: str = "migrations", wait_seconds: float = WAIT_SECONDS,
                          poll_seconds: float = POLL_SECONDS) -> list[str]:
    """Bring the database up to date, or refuse (StartupError); returns what this process applied.

    `apply=False` only checks (read-only commands); `always=True` applies regardless of
    AUTO_MIGRATE (`./gems migrate`). `owner`, `package`, `wait_seconds` and `poll_seconds` are
    for tests.
    """
    migrator = Migrator(store.db, clock, package)
    pending = await migrator.pending()
    if not pending:
        return []
    if not apply or not (always or settings.migrates_at_start):
        raise StartupError(_refusal(_names(pending), settings, apply=apply))
    repo = LeaseRepo(store.db)
    lease = Lease(repo, clock, owner=owner or process_owner_id(),
                  ttl_seconds=settings.lease_seconds, name=MIGRATIONS_LEASE)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    waiting_for: str | None = None
    while True:
        if await lease.tick():
            return await _migrate_holding(lease, migrator, settings)
        holder = str((await repo.get(MIGRATIONS_LEASE) or {}).get("owner", "another process"))
        if holder != waiting_for:
            log.info("waiting (up to %d s) for %s, which holds the migrations lease, to apply "
                     "%s", wait_seconds, holder, _names(pending))
            waiting_for = holder
        await asyncio.sleep(poll_seconds)
        pending = await migrator.pending()
        if not pending:
            log.info("migrations applied by %s; starting", holder)
            return []
        if loop.time() >= deadline:
            raise StartupError(
                f"Waited {wait_seconds:.0f} s for {holder} (the holder of the migrations lease) "
                f"to apply {_names(pending)}, and they are still pending. Check that process's "
                "log; once it has stopped, `./gems migrate` applies them.")


async def _migrate_holding(lease: Lease, migrator: Migrator, settings: Settings) -> list[str]:
    renewer = asyncio.create_task(_keep_renewed(lease), name="gems-migrations-lease")
    try:
        pending = await migrator.pending()  # another process may have finished meanwhile
        if not pending:
            return []
        await _backup_first(migrator, settings, pending)
        started = time.monotonic()
        applied = await migrator.apply_pending()
        names = [f"{m.version}_{m.name}" for m in applied]
        log.info("database migrated: applied %d migration%s (%s) in %.1f s", len(names),
                 "" if len(names) == 1 else "s", _names(applied), time.monotonic() - started)
        return names
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await lease.release()


async def _keep_renewed(lease: Lease) -> None:
    # Index builds on a big collection can outlast the lease: renew it every third of its life.
    while True:
        await asyncio.sleep(lease.ttl_ms / 3000)
        if not await lease.tick():
            log.warning("lost the migrations lease while migrating (paused too long?); another "
                        "process may re-run the unfinished migration (they are re-runnable)")


async def _backup_first(migrator: Migrator, settings: Settings, pending: list[Migration]) -> None:
    """Embedded store with data in it: an online copy before the first migration runs."""
    if not settings.embedded or str(settings.data_dir) == "memory":
        return
    if not await migrator.holds_data():
        return
    from bot.backup import ToolError, backup_embedded  # bot.backup imports bot.runtime

    try:
        target = await asyncio.to_thread(backup_embedded, settings)
    except (ToolError, OSError) as exc:
        raise StartupError(
            f"Could not back up the database before applying {_names(pending)}: {exc}. Free some "
            "disk space in DATA_DIR (or make a copy yourself), then start again.") from None
    log.info("backed up the database to %s before applying %s (restore: stop the bot and copy "
             "it back to DATA_DIR)", target, _names(pending))
