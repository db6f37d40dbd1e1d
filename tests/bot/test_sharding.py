"""GemsBot is auto-sharded: guilds on different shards are served by one process."""

from __future__ import annotations

import pytest

from bot.app import GemsBot
from bot.settings import Settings
from discord_sandbox.harness import DiscordSandbox
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)


async def test_two_shards_serve_guilds_on_both(store, clock):
    settings = Settings(_env_file=None, discord_token=None, shard_count=2, web_port=0)
    async with DiscordSandbox() as sb:
        guilds = [sb.create_guild(f"Guild {i}") for i in range(4)]
        members = [sb.add_member(g, f"member{i}") for i, g in enumerate(guilds)]
        services = build_services(store.db, clock)
        bot = GemsBot(services=services, settings=settings)
        await sb.connect(bot)
        try:
            shards = {bot.get_guild(g.id).shard_id for g in guilds}
            assert shards == {0, 1} and bot.shard_count == 2
            for guild, member in zip(guilds, members, strict=True):
                r = await sb.slash(member, "gems daily")
                assert "claimed their daily" in r.content
                assert await services.ledger.balance(guild.id, member.id) == 100
        finally:
            await sb.disconnect()
