"""`./gems doctor --connect`'s Discord checks, against the sandbox."""

from __future__ import annotations

import pytest

from bot.doctor import FAIL, OK, Report, check_discord
from discord_sandbox.state import Overwrite
from economy.core.actor import Actor
from economy.nft.repo import NftRepo

pytestmark = pytest.mark.timeout(60)


async def test_discord_check_names_missing_permissions_and_roles(gc):
    report = Report()
    await check_discord(gc.bot, report)
    assert report.lines == [(OK, f"discord {gc.guild.name} ({gc.guild.id})",
                             "configured channels and roles usable")]

    locked = gc.sb.create_channel(gc.guild, "locked", overwrites=[
        Overwrite(gc.sb.bot_user.id, 1, deny=1 << 11)])  # the bot may not send there
    await gc.sb.settle()
    admin = gc["admin"].id
    await gc.services.settings.set(gc.guild.id, Actor(admin, is_admin=True), "announcements_channel_id", str(locked.id))
    await gc.services.settings.set(gc.guild.id, Actor(admin, is_admin=True), "moderator_role_id", str(gc.mod_role.id))
    await gc.services.settings.set(gc.guild.id, Actor(admin, is_admin=True), "admin_role_id", "42")  # a deleted role
    whale = gc.sb.create_role(gc.guild, "Whale", above_bot=True)
    await gc.sb.settle()
    await NftRepo(gc.services.db).insert_rule({
        "guild_id": gc.guild.id, "role_id": whale.id, "chain_id": 1,
        "contract": "0x" + "11" * 20, "standard": "erc721", "ranges": [], "min_count": 1}, cap=25)
    report = Report()
    await check_discord(gc.bot, report)
    (status, _, detail), = report.lines
    assert status == FAIL
    assert "announcements_channel_id #locked: missing send_messages" in detail
    assert "admin_role_id: role 42 not found" in detail and "moderator_role_id" not in detail
    assert "NFT rule 1: role @Whale is not below the bot's highest role" in detail


@pytest.mark.slow  # a child process
async def test_connect_and_check_logs_in_checks_and_logs_out(tmp_path):
    from bot.doctor import connect_and_check
    from bot.settings import Settings
    from discord_sandbox.harness import DiscordSandbox

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", auto_migrate=True)
    async with DiscordSandbox() as sb:
        guild = sb.create_guild("Doctor's Office", bot_permissions=1 << 10)  # view channels only
        report = Report()
        await connect_and_check(settings, report, connect=sb.connect)
        assert sb.client is not None and sb.client.is_closed()
    (status, where, detail), = report.lines
    assert status == FAIL and where == f"discord Doctor's Office ({guild.id})"
    assert "no Manage Roles permission" in detail
