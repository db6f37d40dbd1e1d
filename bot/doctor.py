"""`./gems doctor`: checks an installation, one line per check; exit code 1 when one fails.

Offline checks: settings, the token's shape, the store (reachable, replica set, transactions),
pending migrations, the data directory's permissions.

Read-only: doctor never creates, moves, migrates or chmods anything. With no embedded database
yet it does not start the store: it says what `./gems run` (or `migrate`) would create and apply.
With one, it serves it from a temporary run folder (socket, pid and log outside DATA_DIR). `--connect` also logs in to Discord and
checks, in every server the bot is in, that each configured channel and role exists and that
the bot holds the permissions GEMS needs there, and that it can give the NFT rules' roles.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.permissions import (
    TOKEN_SHAPE,
    application_id_from_token,
    channel_needs,
    invite_url,
    server_needs,
)
from bot.runtime_data import RuntimeDataError, is_shipped_content_dir, planned_move
from bot.settings import Settings, SettingsError, load_settings
from bot.store import EmbeddedServer, StoreError, open_store
from economy.core.clock import SystemClock
from economy.core.migrations import Migrator, discover

if TYPE_CHECKING:
    from bot.app import GemsBot

OK, WARN, FAIL = "ok", "warn", "FAIL"
@dataclass
class Report:
    """Check results, printed as they come."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)
    echo: Callable[[str], None] | None = None

    def add(self, status: str, name: str, detail: str) -> None:
        """Record (and print) one check."""
        self.lines.append((status, name, detail))
        if self.echo is not None:
            self.echo(format_line(status, name, detail))

    @property
    def failed(self) -> bool:
        """True when any check failed."""
        return any(status == FAIL for status, _, _ in self.lines)


def format_line(status: str, name: str, detail: str) -> str:
    """`[ ok ] store: ...`."""
    return f"[{status:^4}] {name}: {detail}"


def check_token(settings: Settings, report: Report) -> None:
    """Shape of DISCORD_TOKEN: three dot-separated base64url parts, the first an application id."""
    if settings.discord_token is None:
        report.add(WARN, "token", "DISCORD_TOKEN is not set: `./gems run` plays the offline demo")
        return
    token = settings.discord_token.get_secret_value().strip()
    if not TOKEN_SHAPE.match(token):
        report.add(FAIL, "token", "DISCORD_TOKEN does not look like a bot token (three parts "
                   "separated by dots); copy it again from the Developer Portal -> Bot")
        return
    app_id = application_id_from_token(token)
    if app_id is None:
        report.add(FAIL, "token", "DISCORD_TOKEN's first part is not a bot id; copy it again")
        return
    report.add(OK, "token", f"well-formed, for application {app_id} (`./gems invite` prints "
               "the invite link)")


def _db_file(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / f"{settings.database_name}.db"


def check_data_dir(settings: Settings, report: Report) -> None:
    """The embedded store's directory: exists, writable, private; the database file private.
    A pending one-time move out of `data/` is reported, not made."""
    if not settings.embedded:
        report.add(OK, "data dir", "not used (MONGODB_URI is set)")
        return
    if str(settings.data_dir) == "memory":
        report.add(WARN, "data dir", "DATA_DIR=memory: the database lives in memory and is lost "
                   "when the bot stops (for tests and the demo)")
        return
    path = Path(settings.data_dir).resolve()
    try:
        move = planned_move(settings.data_dir)
    except RuntimeDataError as error:
        report.add(FAIL, "data dir", str(error))
        return
    if move is not None:
        report.add(OK, "data dir", f"`./gems run` will first move {move.describe()} "
                   "(runtime data now lives apart from the shipped content)")
        return
    if is_shipped_content_dir(settings.data_dir):
        report.add(WARN, "data dir", f"DATA_DIR={settings.data_dir} is the folder of shipped "
                   "content: remove DATA_DIR from .env (default var/, git-ignored)")
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), path.anchor)
        if not os.access(parent, os.W_OK | os.X_OK):
            report.add(FAIL, "data dir", f"{path} does not exist and {parent} is not writable "
                       "by this user: create it, or point DATA_DIR somewhere writable")
        else:
            report.add(OK, "data dir", f"{path} does not exist yet: `./gems run` creates it "
                       "(mode 0700)")
        return
    if not os.access(path, os.W_OK | os.X_OK):
        report.add(FAIL, "data dir", f"{path} is not writable by this user")
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    db_file = _db_file(settings)
    if not db_file.exists():
        tighten = "" if mode & 0o077 == 0 else f" and tightens the folder ({oct(mode)}) to 0o700"
        report.add(OK, "data dir", f"{path} holds no database yet: `./gems run` creates "
                   f"{db_file.name} (mode 0600){tighten}")
        return
    file_mode = stat.S_IMODE(db_file.stat().st_mode)
    if mode & 0o022 or file_mode & 0o022:
        report.add(FAIL, "data dir", f"{path} ({oct(mode)}) or {db_file.name} ({oct(file_mode)}) "
                   f"is writable by other users: chmod 700 {path}; chmod 600 {db_file}")
    elif mode & 0o005 and file_mode & 0o004:
        report.add(WARN, "data dir", f"other users can read {db_file} (members' data): "
                   f"chmod 700 {path}")
    else:
        report.add(OK, "data dir", f"{path} writable and private ({oct(mode)})")


async def check_store(settings: Settings, report: Report) -> None:
    """Reach the store, describe the replica set, list pending migrations (reads only)."""
    if settings.embedded:
        await _check_embedded(settings, report)
        return
    try:
        store = await open_store(mongodb_uri=settings.mongodb_uri,
                                 database_name=settings.database_name, data_dir=settings.data_dir)
    except StoreError as error:
        report.add(FAIL, "store", str(error))
        return
    try:
        await store.db.ping()
        report.add(OK, "store", "MongoDB answers")
        report.add(*await _replica_set(store.client))
        await _check_migrations(store, settings, report)
    finally:
        await store.close()


async def _check_embedded(settings: Settings, report: Report) -> None:
    if str(settings.data_dir) == "memory":
        report.add(OK, "store", "in-memory embedded store: `./gems run` starts a fresh one")
        return
    try:
        move = planned_move(settings.data_dir)
    except RuntimeDataError:
        return  # reported under "data dir"
    data_dir = (move.source if move is not None else Path(settings.data_dir)).resolve()
    db_file = data_dir / f"{settings.database_name}.db"
    if not db_file.exists():
        count = len(discover())
        report.add(OK, "store", f"no database yet: `./gems run` starts the embedded nx-27017 "
                   f"store and creates {db_file}")
        when = ("`./gems run` applies them at start" if settings.migrates_at_start
                else "run `./gems migrate` first (AUTO_MIGRATE=false)")
        report.add(OK if settings.migrates_at_start else WARN, "migrations",
                   f"{count} to apply to the new database: {when}")
        return
    running = EmbeddedServer(data_dir=str(data_dir), run_dir=data_dir).live_pid()
    if running is not None:
        report.add(WARN, "store", f"a bot's embedded store (pid {running}) is using {data_dir} "
                   "(checked no further while the bot runs)")
        return
    # Serve the existing database from a temporary run folder: the socket, pid and log files go
    # there, and nothing in DATA_DIR is created or chmodded.
    run_dir = Path(tempfile.mkdtemp(prefix="gems-doctor-"))
    try:
        try:
            store = await open_store(mongodb_uri=None, database_name=settings.database_name,
                                     data_dir=data_dir, run_dir=run_dir,
                                     start_timeout=settings.embedded_start_timeout)
        except StoreError as error:
            report.add(FAIL, "store", str(error))
            return
        try:
            await store.db.ping()
            report.add(OK, "store", f"embedded nx-27017 answers ({db_file}); one bot process "
                       "per data directory")
            await _check_migrations(store, settings, report)
        finally:
            await store.close()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


async def _check_migrations(store: Any, settings: Settings, report: Report) -> None:
    pending = await Migrator(store.db, SystemClock()).pending()
    names = ", ".join(f"{m.version}_{m.name}" for m in pending)
    if not pending:
        report.add(OK, "migrations", "the database is up to date")
    elif settings.migrates_at_start:
        backup = " (after a backup when it holds data)" if settings.embedded else ""
        report.add(OK, "migrations", f"pending ({names}); `./gems run` applies them at "
                   f"start{backup}")
    else:
        report.add(FAIL, "migrations", f"pending ({names}): run `./gems migrate` (or set "
                   "AUTO_MIGRATE=true)")


async def _replica_set(client: Any) -> tuple[str, str, str]:
    hello = await client.admin.command("hello")
    if hello.get("msg") == "isdbgrid":
        return OK, "replica set", "mongos (sharded cluster): transactions available"
    try:
        status = await client.admin.command("replSetGetStatus")
    except Exception:  # Atlas users often lack the privilege; hello is enough then
        return OK, "replica set", f"{hello.get('setName')} (primary {hello.get('primary')})"
    members = status.get("members", [])
    states = [m.get("stateStr", "?") for m in members]
    healthy = sum(1 for m in members if m.get("health") == 1)
    detail = f"{status.get('set')}: {', '.join(states)} ({healthy}/{len(members)} healthy)"
    if "PRIMARY" not in states:
        return FAIL, "replica set", detail + "; no primary: writes will fail"
    return (OK if healthy == len(members) else WARN), "replica set", detail


async def check_discord(bot: GemsBot, report: Report) -> None:
    """In every guild: each configured channel/role exists and the bot's permissions suffice."""
    if not bot.guilds:
        link = f": {invite_url(bot.application_id)}" if bot.application_id else ""
        report.add(WARN, "discord", f"the bot is in no server yet; invite it{link}")
    for guild in bot.guilds:
        settings = await bot.services.settings.get(guild.id)
        where = f"discord {guild.name} ({guild.id})"
        problems = []
        me = guild.me
        for key, value in settings.model_dump().items():
            if value is None:
                continue
            if key.endswith("_channel_id"):
                channel = guild.get_channel_or_thread(value)
                if channel is None:
                    problems.append(f"{key}: channel {value} not found")
                    continue
                perms = channel.permissions_for(me)
                missing = [p for p in channel_needs(key) if not getattr(perms, p)]
                if missing:
                    problems.append(f"{key} #{channel.name}: missing {', '.join(missing)}")
            elif key.endswith("_role_id") and guild.get_role(value) is None:
                problems.append(f"{key}: role {value} not found")
        for need in server_needs():
            if not getattr(me.guild_permissions, need.flag):
                problems.append(f"no {need.label} permission ({need.why})")
        for rule in await bot.services.nft.rules(guild.id):
            role = guild.get_role(rule.role_id)
            if role is None:
                problems.append(f"NFT rule {rule.rule_id}: role {rule.role_id} not found")
            elif role >= me.top_role:
                problems.append(f"NFT rule {rule.rule_id}: role @{role.name} is not below the "
                                "bot's highest role, so the bot can't give it")
        if problems:
            report.add(FAIL, where, "; ".join(problems))
        else:
            report.add(OK, where, "configured channels and roles usable")


async def connect_and_check(settings: Settings, report: Report,
                            connect: Callable[[Any], Awaitable[object]] | None = None) -> None:
    """Log in with the configured store and token, run `check_discord`, log out.

    `connect(bot)` replaces the real login (tests connect the bot to the sandbox).
    """
    from bot.app import GemsBot
    from economy.services import build_services

    if settings.discord_token is None and connect is None:
        report.add(FAIL, "discord", "--connect needs DISCORD_TOKEN")
        return
    async with await open_store(mongodb_uri=settings.mongodb_uri,
                                database_name=settings.database_name,
                                data_dir=settings.data_dir) as store:
        services = build_services(store.db, SystemClock())
        async with GemsBot(services=services, settings=settings, run_jobs=False,
                           run_web=False) as bot:
            runner = None
            if connect is None:
                token = settings.discord_token.get_secret_value()  # type: ignore[union-attr]
                runner = asyncio.create_task(bot.start(token))
            try:
                if connect is not None:
                    await connect(bot)
                await asyncio.wait_for(bot.wait_until_ready(), 60)
                await check_discord(bot, report)
            finally:
                await bot.close()
                if runner is not None:
                    await asyncio.gather(runner, return_exceptions=True)


async def run_doctor(connect: bool = False, echo: Callable[[str], None] = print) -> int:
    """Run every check, printing one line each; 1 if any failed, else 0."""
    report = Report(echo=echo)
    try:
        settings = load_settings()
    except SettingsError as error:
        for problem in error.problems:
            report.add(FAIL, "config", problem)
        return 1
    report.add(OK, "config", "settings load (.env and environment)")
    check_token(settings, report)
    check_data_dir(settings, report)
    await check_store(settings, report)
    if connect:
        try:
            await connect_and_check(settings, report)
        except Exception as error:  # a login failure is a finding, not a crash
            report.add(FAIL, "discord", f"{type(error).__name__}: {error}")
    return 1 if report.failed else 0
