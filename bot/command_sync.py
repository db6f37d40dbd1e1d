"""Registering the slash commands with Discord only when they changed.

`./gems run` computes, per scope (each DEV_GUILD_IDS guild, or global), the exact command list
discord.py would PUT, hashes it, and syncs only when the hash differs from the one stored after
the last sync Discord accepted (`command_syncs`). A restart with the same code sends nothing; an
upgrade that changes a command sends one bulk overwrite per scope. A refused sync (400, 403) is
logged with Discord's error and leaves the stored hash alone, so the next start tries again;
rate limits (429) are waited out by discord.py's HTTP client, never retried in a loop here.
`./gems sync-commands` forces a sync (and records it).

With several processes on MongoDB only the holder of the `command-sync` lease syncs at start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands

from bot.permissions import invite_url
from economy.core.clock import to_ms
from economy.core.leases import Lease, process_owner_id
from economy.repos.command_sync_repo import CommandSyncRepo
from economy.repos.lease_repo import LeaseRepo

if TYPE_CHECKING:
    from bot.app import GemsBot

log = logging.getLogger("gems")

COMMAND_SYNC_LEASE = "command-sync"


@dataclass(frozen=True)
class SyncOutcome:
    """What happened to one scope: `synced`, `unchanged` or `failed` (with Discord's error)."""

    where: str
    status: str
    commands: int = 0
    error: str | None = None


async def tree_payload(tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None
                       ) -> list[dict[str, Any]]:
    """The JSON body `tree.sync(guild=guild)` sends (same commands, order and translation)."""
    commands = tree.get_commands(guild=guild)
    if tree.translator is not None:
        return [await c.get_translated_payload(tree, tree.translator) for c in commands]
    return [c.to_dict(tree) for c in commands]


def payload_hash(payload: list[dict[str, Any]]) -> str:
    """SHA-256 of the payload as canonical JSON (keys sorted: dict order is not a change)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def scope_key(application_id: int, guild_id: int | None) -> str:
    """`command_syncs._id` of a scope: per application, so a new bot token syncs afresh."""
    return f"{application_id}:guild:{guild_id}" if guild_id else f"{application_id}:global"


def explain_sync_error(exc: discord.HTTPException, guild_id: int | None,
                       application_id: int) -> str:
    """Discord's answer, plus what to do for the usual causes."""
    said = f"Discord answered {exc.status} (code {exc.code}): {exc.text or exc}"
    if exc.status in (403, 404) and guild_id:  # Missing Access / Unknown Guild
        return (f"{said}. The bot is not in guild {guild_id} (DEV_GUILD_IDS) or was invited "
                f"without the applications.commands scope; invite it: "
                f"{invite_url(application_id)}")
    if exc.status == 400:
        return f"{said}. A command definition is invalid; fix it and start again"
    return said


async def sync_command_tree(bot: GemsBot, *, force: bool = False) -> list[SyncOutcome]:
    """Sync each scope whose command payload changed since its last accepted sync (every scope
    when `force`); returns one outcome per scope. Failures are logged, never raised."""
    application_id = bot.application_id
    if application_id is None:
        raise RuntimeError("log in before syncing commands (the application id is unknown)")
    services, settings = bot.services, bot.settings
    lease = None
    if not force and not settings.embedded:
        lease = Lease(LeaseRepo(services.db), services.clock, owner=process_owner_id(),
                      ttl_seconds=settings.lease_seconds, name=COMMAND_SYNC_LEASE)
        if not await lease.tick():
            log.info("another GEMS process is syncing the slash commands")
            return []
    try:
        repo = CommandSyncRepo(services.db)
        return [await _sync_scope(bot, repo, application_id, guild_id, force)
                for guild_id in (settings.dev_guild_ids or [None])]
    finally:
        if lease is not None:
            await lease.release()


async def _sync_scope(bot: GemsBot, repo: CommandSyncRepo, application_id: int,
                      guild_id: int | None, force: bool) -> SyncOutcome:
    guild = discord.Object(id=guild_id) if guild_id else None
    where = f"to guild {guild_id}" if guild_id else "globally"
    if guild is not None:  # dev guilds get every command at once (global ones take up to 1 h)
        bot.tree.copy_global_to(guild=guild)
    digest = payload_hash(await tree_payload(bot.tree, guild))
    key = scope_key(application_id, guild_id)
    last = await repo.get(key)
    if not force and last is not None and last.get("hash") == digest:
        log.info("slash commands %s unchanged since the last sync (%s commands)", where,
                 last.get("commands", "?"))
        return SyncOutcome(where, "unchanged", int(last.get("commands") or 0))
    try:
        synced = await bot.tree.sync(guild=guild)
    except discord.HTTPException as exc:
        error = explain_sync_error(exc, guild_id, application_id)
        log.error("could not sync the slash commands %s: %s. The next start tries again.",
                  where, error)
        return SyncOutcome(where, "failed", error=error)
    except (TimeoutError, aiohttp.ClientError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.error("could not sync the slash commands %s (%s). The next start tries again.",
                  where, error)
        return SyncOutcome(where, "failed", error=error)
    now_ms = to_ms(bot.services.clock.now())
    await repo.record(key, digest, len(synced), now_ms)
    reason = "forced" if force else ("first sync" if last is None else "the commands changed")
    log.info("synced %d slash commands %s (%s)", len(synced), where, reason)
    return SyncOutcome(where, "synced", len(synced))
