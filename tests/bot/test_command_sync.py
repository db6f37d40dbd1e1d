"""Slash commands are synced at start only when the tree changed (hash of the exact PUT body)."""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands

from bot.app import GemsBot
from bot.command_sync import COMMAND_SYNC_LEASE, payload_hash, scope_key
from bot.doctor import WARN, Report, check_discord
from bot.permissions import invite_url
from bot.settings import Settings
from discord_sandbox.harness import DiscordSandbox
from economy.repos.command_sync_repo import CommandSyncRepo
from economy.services import build_services

pytestmark = pytest.mark.timeout(90)


def _puts(sb: DiscordSandbox) -> list:
    return [r for r in sb.server.log.requests
            if r.method == "PUT" and r.path.endswith("/commands")]


async def _start(sb: DiscordSandbox, store, clock, settings: Settings, *extra) -> GemsBot:
    """One bot start as `./gems run` does it (sync_on_start), optionally with extra commands."""
    bot = GemsBot(services=build_services(store.db, clock), settings=settings, run_jobs=False,
                  run_web=False, sync_on_start=True)
    for command in extra:
        bot.tree.add_command(command)
    await sb.connect(bot)
    await bot.command_sync
    return bot


async def _restart(sb: DiscordSandbox) -> None:
    await sb.disconnect()


@app_commands.command(name="zz-new", description="A command added by an upgrade")
async def _new_command(interaction: discord.Interaction) -> None:
    """Only its presence in the tree matters."""


@app_commands.command(name="zz-bad", description="x" * 101)  # Discord's limit is 100
async def _bad_command(interaction: discord.Interaction) -> None:
    """Discord refuses this tree with 400 Invalid Form Body."""


async def test_a_restart_syncs_nothing_and_a_changed_tree_syncs_once(store, clock):
    async with DiscordSandbox() as sb:
        guild = sb.create_guild("Dev")
        settings = Settings(_env_file=None, discord_token=sb.token, dev_guild_ids=[guild.id])
        bot = await _start(sb, store, clock, settings)
        (put,) = _puts(sb)
        assert put.path == f"/applications/{sb.application_id}/guilds/{guild.id}/commands"
        # What is stored is the hash of exactly what went over the wire.
        stored = await CommandSyncRepo(store.db).get(scope_key(sb.application_id, guild.id))
        assert stored["hash"] == payload_hash(put.body) and stored["commands"] == len(put.body)
        assert {"gems", "trades", "help"} <= {c["name"] for c in sb.synced_commands[guild.id]}
        await _restart(sb)

        bot = await _start(sb, store, clock, settings)
        assert len(_puts(sb)) == 1  # unchanged tree: nothing sent
        await _restart(sb)

        bot = await _start(sb, store, clock, settings, _new_command)
        assert len(_puts(sb)) == 2  # the upgrade's new command: exactly one sync
        assert "zz-new" in {c["name"] for c in sb.synced_commands[guild.id]}
        assert bot.command_sync.done()
        await _restart(sb)
        assert not sb.unhandled_requests


async def test_a_refused_sync_is_logged_with_discords_error_and_retried(store, clock, caplog):
    async with DiscordSandbox() as sb:
        sb.create_guild("Prod")
        settings = Settings(_env_file=None, discord_token=sb.token)  # global commands
        with caplog.at_level(logging.INFO, logger="gems"):
            await _start(sb, store, clock, settings, _bad_command)
        (put,) = _puts(sb)
        assert put.status == 400
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "could not sync the slash commands globally" in errors[0]
        assert "400" in errors[0] and "50035" in errors[0] and "next start tries again" in errors[0]
        repo = CommandSyncRepo(store.db)
        assert await repo.get(scope_key(sb.application_id, None)) is None  # not recorded
        assert not sb.synced_commands.get(None)
        await _restart(sb)

        await _start(sb, store, clock, settings)  # fixed: the next start syncs
        assert [p.status for p in _puts(sb)] == [400, 200]
        assert (await repo.get(scope_key(sb.application_id, None)))["commands"] > 20
        await _restart(sb)


async def test_a_dev_guild_the_bot_is_not_in_names_the_invite(store, clock, caplog):
    async with DiscordSandbox() as sb:
        settings = Settings(_env_file=None, discord_token=sb.token, dev_guild_ids=[424242])
        with caplog.at_level(logging.INFO, logger="gems"):
            await _start(sb, store, clock, settings)
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "guild 424242" in errors[0]
        assert f"client_id={sb.application_id}" in errors[0]
        # In no server at all: one line with the invite link.
        invites = [r.getMessage() for r in caplog.records if "in no server yet" in r.getMessage()]
        assert len(invites) == 1 and "scope=bot+applications.commands" in invites[0]
        report = Report()  # `./gems doctor --connect` says the same
        await check_discord(sb.client, report)
        assert report.lines == [(WARN, "discord", "the bot is in no server yet; invite it: "
                                 + invite_url(sb.application_id))]
        await _restart(sb)


async def test_with_several_processes_only_the_lease_holder_syncs(store, clock, caplog):
    async with DiscordSandbox() as sb:
        sb.create_guild("Big")
        settings = Settings(_env_file=None, discord_token=sb.token, lease_seconds=30,
                            mongodb_uri="mongodb://db.example/?replicaSet=rs0")
        now_ms = int(clock.now().timestamp() * 1000)
        await store.db["leases"].insert_one({"_id": COMMAND_SYNC_LEASE, "owner": "other:1",
                                             "token": 1, "expires_at": now_ms + 30_000})
        with caplog.at_level(logging.INFO, logger="gems"):
            await _start(sb, store, clock, settings)
        assert _puts(sb) == []
        assert any("another GEMS process is syncing" in r.getMessage() for r in caplog.records)
        await _restart(sb)
        await store.db["leases"].delete_one({"_id": COMMAND_SYNC_LEASE})  # that process is done
        await _start(sb, store, clock, settings)
        assert len(_puts(sb)) == 1
        lease = await store.db["leases"].find_one({"_id": COMMAND_SYNC_LEASE})
        assert lease["released"]  # handed back after the sync
        await _restart(sb)


async def test_a_rate_limited_sync_is_waited_out_once_not_looped(store, clock):
    async with DiscordSandbox() as sb:
        sb.create_guild("Busy")
        settings = Settings(_env_file=None, discord_token=sb.token)
        sb.rate_limit("PUT /applications/{app_id}/commands", times=1, retry_after=0.3)
        await _start(sb, store, clock, settings)
        assert [p.status for p in _puts(sb)] == [429, 200]  # discord.py waited, then one retry
        assert await CommandSyncRepo(store.db).get(scope_key(sb.application_id, None))
        await _restart(sb)
