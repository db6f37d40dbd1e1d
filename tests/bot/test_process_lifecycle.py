"""The real `run` path: start on the embedded store, serve, stop on Ctrl-C/SIGTERM with nothing lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime import run_bot
from bot.settings import Settings
from bot.store import open_store
from discord_sandbox.harness import DiscordSandbox
from economy.repos.base import find_first
from tests.procs import alive

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]  # slow: bot child processes


async def _wait_for(predicate, within=20.0):
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_run_bot_serves_and_stops_cleanly(tmp_path):
    async with DiscordSandbox() as sb:
        guild = sb.create_guild("Live")
        alice = sb.add_member(guild, "alice")
        channel = sb.create_channel(guild, "chat")
        settings = Settings(_env_file=None, discord_token=sb.token, data_dir=tmp_path,
                            auto_migrate=True, activity_flush_seconds=3600, web_port=0)
        task = asyncio.create_task(run_bot(settings))
        await _wait_for(lambda: sb.server.gateway.sessions and (tmp_path / "nx-27017.pid").exists())
        server_pid = int((tmp_path / "nx-27017.pid").read_text())
        await asyncio.sleep(0.5)  # READY and GUILD_CREATE reach the bot
        await sb.say(alice, channel, "hello, this message earns gems", wait=False)
        await asyncio.sleep(0.5)
        task.cancel()  # what Ctrl-C / SIGTERM do
        with pytest.raises(asyncio.CancelledError):
            await task
        await _wait_for(lambda: not alive(server_pid))
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path) as store:
        account = await find_first(store.db["accounts"], {"guild_id": guild.id, "user_id": alice.user.id})
        assert account and account["balance"] == 5  # flushed on the way out, not lost


async def test_sync_commands_registers_every_command_per_dev_guild(tmp_path):
    from bot.runtime import sync_commands

    async with DiscordSandbox() as sb:
        guild = sb.create_guild("Dev")
        settings = Settings(_env_file=None, discord_token=sb.token, data_dir=tmp_path,
                            dev_guild_ids=[guild.id])
        await sync_commands(settings)
        names = {c["name"] for c in sb.synced_commands[guild.id]}
        assert {"gems", "settings", "trades", "trades-admin", "list-item", "market",
                "market-admin"} <= names
        assert not sb.synced_commands.get(None)  # nothing registered globally
