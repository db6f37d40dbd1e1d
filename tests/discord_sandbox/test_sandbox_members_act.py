"""Sandbox surfaces for member activity: reactions, voice states, user context-menu commands."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from discord_sandbox import ChannelType, SandboxError

pytestmark = pytest.mark.timeout(30)


async def test_member_reactions_reach_the_bot_once(sb, world, bot):
    seen: list[discord.RawReactionActionEvent] = []

    async def on_raw_reaction_add(payload):
        seen.append(payload)

    bot.add_listener(on_raw_reaction_add)
    general = world.guild.channel_named("general")
    post = await sb.say(world.alice, general, "look at this opal")
    assert await sb.react(world.bob, post, "💎")
    assert not await sb.react(world.bob, post, "💎")  # Discord ignores a repeated reaction
    assert len(seen) == 1
    event = seen[0]
    assert event.user_id == world.bob.user.id and event.message_author_id == world.alice.user.id
    assert event.member is not None and event.member.name == "bob"


async def test_voice_states_and_voice_channels(sb, world, bot):
    lounge = sb.create_channel(world.guild, "lounge", type=ChannelType.VOICE)
    await sb.settle()
    guild = bot.get_guild(world.guild.id)
    assert [c.name for c in guild.voice_channels] == ["lounge"]
    await sb.voice(world.bob, lounge, self_mute=True)
    member = guild.get_member(world.bob.user.id)
    assert member.voice is not None and member.voice.channel.id == lounge.id
    assert member.voice.self_mute and [m.name for m in guild.get_channel(lounge.id).members] == ["bob"]
    with pytest.raises(SandboxError):
        await sb.voice(world.alice, world.guild.channel_named("general"))
    await sb.voice(world.bob, None)
    assert guild.get_member(world.bob.user.id).voice is None


async def test_user_context_menu_command(sb, world, bot):
    async def high_five(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"{interaction.user.name} high-fived {member.name}")

    bot.tree.add_command(app_commands.ContextMenu(name="High five", callback=high_five))
    r = await sb.user_command(world.alice, "High five", world.bob)
    assert r.content == "alice high-fived bob"
    with pytest.raises(SandboxError, match="no user command"):
        await sb.user_command(world.alice, "Nope", world.bob)
