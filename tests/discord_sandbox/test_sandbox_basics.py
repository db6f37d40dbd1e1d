"""Connecting a real discord.py client to the sandbox, and slash commands with every option type."""

from __future__ import annotations

import discord
import pytest

from discord_sandbox import SandboxError

pytestmark = pytest.mark.timeout(30)


async def test_connect_ready_and_guild_create(sb, world, bot):
    assert bot.is_ready()
    assert sb.connect_time is not None and sb.connect_time < 2.0
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Gem Collectors"
    assert {m.name for m in guild.members} >= {"alice", "bob", "GEMS"}
    assert guild.member_count == len(guild.members)
    assert guild.me.guild_permissions.manage_roles
    assert guild.get_role(world.vip.id).name == "VIP"
    assert [c.name for c in guild.text_channels] == ["general"]
    assert bot.user.id == sb.bot_user.id
    assert bot.application_id == sb.application_id
    print(f"connect time {sb.connect_time * 1000:.1f} ms")


async def test_slash_with_every_option_type(sb, world, bot):
    file = sb.attachment("note.txt", b"hello file", "text/plain")
    general = world.guild.channel_named("general")
    r = await sb.slash(
        world.alice,
        "echo",
        text="hi",
        count=3,
        ratio=0.5,
        flag=True,
        member=world.bob,
        role=world.vip,
        channel=general,
        file=file,
    )
    assert r.content == (
        "text=hi count=3 ratio=0.5 flag=True member=bob member_is_member=True role=VIP "
        "channel=general file=note.txt:hello file"
    )
    assert not r.ephemeral
    assert r.response_type == 4
    assert r.message_id is not None
    # The response is a real channel message, announced to the bot too.
    assert sb.channel_messages(general)[-1].id == r.message_id
    assert r.latency is not None and r.latency < 3


async def test_subcommand_group_with_renamed_option(sb, world, bot):
    r = await sb.slash(world.alice, "gems give", member=world.bob, amount=50)
    assert r.content == f"gave 50 to <@{world.bob.id}>"
    r = await sb.slash(world.alice, "gems give", member=world.bob, **{"how-many": 7})
    assert r.content.startswith("gave 7")


async def test_unknown_command_or_option_is_a_clear_error(sb, world, bot):
    from discord_sandbox import SandboxError

    with pytest.raises(SandboxError, match="no slash command 'nope'"):
        await sb.slash(world.alice, "nope")
    with pytest.raises(SandboxError, match="has no option"):
        await sb.slash(world.alice, "pick", fruit="apple", colour="red")
    with pytest.raises(SandboxError, match="requires option"):
        await sb.slash(world.alice, "pick")


async def test_failing_command_shows_traceback(sb, world, bot):
    from discord_sandbox import InteractionNotAnswered

    with pytest.raises(InteractionNotAnswered, match="kaboom"):
        await sb.slash(world.alice, "boom")


async def test_defer_edit_followup_and_ephemeral(sb, world, bot):
    r = await sb.slash(world.alice, "slow")
    assert r.deferred and r.response_type == 5
    assert r.ephemeral
    assert r.content == "done thinking"
    assert [m.content for m in r.followups] == ["and one more thing"]
    assert r.followups[0].ephemeral
    assert "and one more thing" in r.text


async def test_first_followup_after_defer_replaces_thinking_message(sb, world, bot):
    r = await sb.slash(world.alice, "later")
    assert r.content == "here it is"
    assert r.followups == []
    assert not r.ephemeral


async def test_autocomplete(sb, world, bot):
    choices = await sb.autocomplete(world.alice, "pick", "fruit", "ap")
    assert [c["value"] for c in choices] == ["apple", "apricot"]


async def test_modal_file_upload(sb, world, bot):
    """Files submitted in a modal arrive as resolved attachments the bot can download; the
    client's limits (min/max files, only files) hold."""
    one = sb.attachment("a.jpg", b"x" * 10, "image/jpeg")
    two = sb.attachment("b.png", b"y" * 3, "image/png")
    opened = await sb.slash(world.alice, "upload")
    assert opened.modal["components"][0]["component"]["type"] == 19
    done = await sb.submit_modal(world.alice, opened, {"Photos": [one, two]})
    assert done.content == "a.jpg:10 b.png:3"
    for files in ([], [one, two, one, two], ["not-a-file"]):
        with pytest.raises(SandboxError):
            await sb.submit_modal(world.alice, opened, {"Photos": files})


async def test_buttons_select_and_modal(sb, world, bot):
    r = await sb.slash(world.alice, "shop")
    assert r.embeds[0].title == "Gem shop"
    assert [b.label for b in r.buttons] == ["Buy", "Cancel"]
    assert "Gem shop" in r.text

    picked = await sb.select(world.bob, r, "shop:color", ["blue"])
    assert picked.content == "color=blue"

    opened = await sb.click(world.alice, r, "Buy")
    assert opened.response_type == 9
    assert opened.modal["title"] == "Buy gems"
    done = await sb.submit_modal(world.alice, opened, {"Amount": "12", "note": "for raffle"})
    assert done.content == "bought 12 (for raffle)"
    assert done.ephemeral

    cancelled = await sb.click(world.alice, r, "shop:cancel")
    assert cancelled.response_type == 7
    assert cancelled.message_id == r.message_id
    assert r.content == "cancelled"  # results always show the latest version
    assert r.buttons == []


async def test_file_upload_is_stored(sb, world, bot):
    r = await sb.slash(world.alice, "report")
    assert r.files == {"report.csv": b"a,b\n1,2\n"}
    assert r.message.attachments[0].url.startswith(sb.base_url)


async def test_member_chat_reaches_on_message(sb, world, bot):
    general = world.guild.channel_named("general")
    msg = await sb.say(world.bob, general, "hello gems")
    assert [m.content for m in bot.seen_messages] == ["hello gems"]
    assert bot.seen_messages[0].id == msg.id
    assert isinstance(bot.seen_messages[0].author, discord.Member)


async def test_member_join_and_remove(sb, world, bot):
    carol = sb.add_member(world.guild, "carol")
    await sb.settle()
    assert [m.name for m in bot.joined] == ["carol"]
    assert bot.get_guild(world.guild.id).get_member(carol.id) is not None
    sb.remove_member(world.guild, world.bob)
    await sb.settle()
    assert [m.id for m in bot.removed] == [world.bob.id]
    assert bot.get_guild(world.guild.id).get_member(world.bob.id) is None


async def test_patches_are_restored_on_exit():
    from discord_sandbox import DiscordSandbox

    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with DiscordSandbox() as sb:
        assert discord.http.Route.BASE.startswith(sb.base_url)
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
