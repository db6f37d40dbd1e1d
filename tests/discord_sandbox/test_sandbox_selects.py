"""Auto-populated selects (user 5, role 6, channel 8): what Discord's client can pick, and the
interaction payload Discord sends (`values` plus `resolved`)."""

from __future__ import annotations

import pytest

from discord_sandbox import ChannelType, Overwrite, SandboxError

pytestmark = pytest.mark.timeout(30)
SEND_MESSAGES = 1 << 11


async def test_a_channel_pick_arrives_resolved_with_the_invokers_permissions_there(sb, world, bot):
    r = await sb.slash(world.alice, "pickers")
    quiet = sb.create_channel(world.guild, "quiet", overwrites=[
        Overwrite(world.guild.id, 0, deny=SEND_MESSAGES)])  # @everyone may not write there
    general = world.guild.channel_named("general")
    picked = await sb.select(world.bob, r, "pick:chan", [quiet, general])
    assert picked.ephemeral and picked.content.startswith("channels ")
    perms = {name: int(value) for name, kind, value in
             (part.split(":") for part in picked.content.removeprefix("channels ").split(";"))}
    # Discord: the resolved channel holds the INVOKING user's permissions in THAT channel.
    assert not perms["quiet"] & SEND_MESSAGES and perms["general"] & SEND_MESSAGES
    none = await sb.select(world.bob, r, "pick:chan", [])  # min_values=0: picking none is fine
    assert none.content == "channels"


async def test_the_client_offers_only_what_the_select_allows(sb, world, bot):
    r = await sb.slash(world.alice, "pickers")
    voice = sb.create_channel(world.guild, "lounge", type=ChannelType.VOICE)
    general = world.guild.channel_named("general")
    other = sb.create_channel(world.guild, "other")
    with pytest.raises(SandboxError, match="channel types"):
        await sb.select(world.bob, r, "pick:chan", [voice])  # channel_types=[text]
    with pytest.raises(SandboxError, match=r"0\.\.2 value"):
        await sb.select(world.bob, r, "pick:chan", [general, other, general])
    with pytest.raises(SandboxError, match="picked once"):
        await sb.select(world.bob, r, "pick:chan", [general, general])
    with pytest.raises(SandboxError, match="offers Role only"):
        await sb.select(world.bob, r, "pick:role", [general])
    with pytest.raises(SandboxError, match=r"1\.\.1 value"):
        await sb.select(world.bob, r, "pick:role", [])  # min_values defaults to 1
    with pytest.raises(SandboxError, match="offers Member/User only"):
        await sb.select(world.bob, r, "pick:user", [world.vip])
    assert (await sb.select(world.bob, r, "pick:role", [world.vip])).content == "role VIP"
    users = await sb.select(world.bob, r, "pick:user", [world.alice, world.bob])
    assert users.content == "users ['alice', 'bob']"
