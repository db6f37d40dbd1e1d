"""Applies NFT role plans to Discord: only the diff, role hierarchy checked first, problems
reported once. Rate limits (429 + retry_after) are honoured by discord.py's HTTP client, which
waits `retry_after` and retries the same edit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import discord

from cogs._shared.interaction import NO_PINGS
from economy.core.wording import plural
from economy.nft.service import ApplyResult, SyncPlan
from economy.services import Services

log = logging.getLogger(__name__)


class RoleSync:
    """Reads members' roles from the gateway cache, plans with NftService, applies the diff."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def services(self) -> Services:
        return self.bot.services

    async def managed_roles(self, guild_id: int) -> set[int]:
        """Roles some rule grants."""
        return {rule.role_id for rule in await self.services.nft.rules(guild_id)}

    @staticmethod
    def current(guild: discord.Guild, managed: set[int], only: int | None = None
                ) -> dict[int, set[int]]:
        """Member -> the managed roles they hold now (bots are never considered)."""
        members = [guild.get_member(only)] if only is not None else guild.members
        return {m.id: {r.id for r in m.roles if r.id in managed}
                for m in members if m is not None and not m.bot}

    async def sync_guild(self, guild: discord.Guild) -> tuple[SyncPlan, ApplyResult]:
        """Re-check every member with a linked wallet (and everyone holding a managed role)."""
        async with self._locks[guild.id]:
            started = time.perf_counter()
            managed = await self.managed_roles(guild.id)
            plan = await self._plan(guild.id, self.current(guild, managed))
            result = await self.apply(guild, plan, managed)
            await self.services.nft.record(guild.id, plan, result, scope="guild", started=started)
            return plan, result

    async def sync_member(self, guild: discord.Guild, user_id: int) -> tuple[SyncPlan, ApplyResult]:
        """Re-check one member (after linking or unlinking a wallet, or on request)."""
        async with self._locks[guild.id]:
            started = time.perf_counter()
            managed = await self.managed_roles(guild.id)
            current = self.current(guild, managed, only=user_id)
            plan = await self._plan(guild.id, current, only_user=user_id)
            result = await self.apply(guild, plan, managed)
            await self.services.nft.record(guild.id, plan, result, scope=f"member {user_id}",
                                           started=started)
            return plan, result

    async def sync_members(self, guild: discord.Guild, user_ids: set[int], *, scope: str
                           ) -> tuple[SyncPlan, ApplyResult]:
        """Re-check a few members (those a Transfer log touched)."""
        async with self._locks[guild.id]:
            started = time.perf_counter()
            managed = await self.managed_roles(guild.id)
            current = {user: roles for user, roles in self.current(guild, managed).items()
                       if user in user_ids}
            plan = await self._plan(guild.id, current)
            result = await self.apply(guild, plan, managed)
            await self.services.nft.record(guild.id, plan, result, scope=scope, started=started)
            return plan, result

    async def _plan(self, guild_id: int, current: dict[int, set[int]], **options) -> SyncPlan:
        """The service's plan; an unexpected failure becomes a plan with that error and no
        changes, so the status still records this sync and no role is touched."""
        try:
            return await self.services.nft.plan(guild_id, current, **options)
        except Exception as exc:
            log.exception("NFT role plan failed in guild %s", guild_id)
            return SyncPlan(errors=[f"the sync failed ({type(exc).__name__}); nothing was "
                                    "changed"])

    async def follow_transfers(self) -> None:
        """The log-following job: re-check only members whose wallets moved rule tokens."""
        for guild in await self.bot.guild_work.local_guilds("nft"):
            if not await self.services.nft.rules(guild.id):
                continue
            try:
                scan = await self.services.nft.scan_transfers(guild.id)
                if scan.users:
                    await self.sync_members(guild, scan.users,
                                            scope=f"transfers ({plural(len(scan.users), 'member')})")
                await self.services.nft.commit_scan(guild.id, scan)
                for error in scan.errors:
                    log.warning("NFT transfer scan in guild %s: %s", guild.id, error)
            except Exception:
                log.exception("NFT transfer scan failed in guild %s", guild.id)

    async def apply(self, guild: discord.Guild, plan: SyncPlan, managed: set[int]) -> ApplyResult:
        """Apply the plan's changes; roles the bot cannot manage are skipped and reported once."""
        result = ApplyResult()
        me = guild.me
        blocked: set[int] = set()
        for role_id in managed:
            role = guild.get_role(role_id)
            if role is None:
                result.problems[f"role:{role_id}"] = f"The role {role_id} of an NFT rule no longer exists."
            elif not me.guild_permissions.manage_roles:
                result.problems["manage_roles"] = ("I lack the Manage Roles permission, so NFT "
                                                   "roles cannot be given or taken.")
            elif role >= me.top_role or role.managed or role.is_default():
                result.problems[f"role:{role_id}"] = (
                    f"The role {role.mention} is above my highest role (or managed by an "
                    "integration): move my role above it so I can give it to holders.")
            else:
                continue
            blocked.add(role_id)
        for change in plan.changes:
            if change.role_id in blocked:
                result.failed += 1
                continue
            member = guild.get_member(change.user_id)
            role = guild.get_role(change.role_id)
            if member is None or role is None:
                continue
            try:
                if change.add:
                    await member.add_roles(role, reason="NFT holder role sync")
                    result.added += 1
                else:
                    await member.remove_roles(role, reason="NFT holder role sync")
                    result.removed += 1
            except discord.Forbidden:
                result.failed += 1
                blocked.add(change.role_id)
                result.problems[f"role:{change.role_id}"] = (
                    f"Discord refused to change {role.mention}: check my role is above it and "
                    "that I have Manage Roles.")
            except discord.HTTPException as exc:
                result.failed += 1
                log.warning("role edit failed in guild %s: %s", guild.id, exc)
        await self._report(guild, result, managed - blocked)
        return result

    async def _report(self, guild: discord.Guild, result: ApplyResult, healthy: set[int]) -> None:
        nft = self.services.nft
        for role_id in healthy:
            await nft.clear_problem(guild.id, f"role:{role_id}")
        if "manage_roles" not in result.problems:
            await nft.clear_problem(guild.id, "manage_roles")
        settings = await self.services.settings.get(guild.id)
        for key, text in result.problems.items():
            if not await nft.first_report(guild.id, key, text):
                continue
            log.warning("NFT role problem in guild %s: %s", guild.id, text)
            channel = guild.get_channel(settings.nft_log_channel_id or 0)
            if isinstance(channel, discord.TextChannel):
                try:
                    await channel.send(f"⚠️ NFT role sync: {text}", allowed_mentions=NO_PINGS)
                except discord.HTTPException:
                    log.warning("could not post to the NFT log channel of guild %s", guild.id)

    async def sync_due(self) -> None:
        """The periodic job: sync every guild whose next sync is due (claimed once per guild)."""
        for guild in await self.bot.guild_work.local_guilds("nft"):
            if not await self.services.nft.rules(guild.id):
                continue
            settings = await self.services.settings.get(guild.id)
            if not await self.services.nft.claim_periodic(guild.id, settings.nft_sync_minutes):
                continue
            try:
                await self.sync_guild(guild)
            except Exception:
                log.exception("periodic NFT sync failed in guild %s", guild.id)
