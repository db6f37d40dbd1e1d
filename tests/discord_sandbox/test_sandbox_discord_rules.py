"""Discord's server-side behaviour: role rules, rate limits, DMs, threads, RESUME, sharding..."""

from __future__ import annotations

import datetime as dt
import io

import discord
import pytest

from discord_sandbox import InteractionNotAnswered, SandboxError
from discord_sandbox.state import Overwrite

pytestmark = pytest.mark.timeout(30)

ROLE_ROUTE = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"


async def test_role_add_updates_member_everywhere(sb, world, bot):
    r = await sb.slash(world.alice, "grant", member=world.bob, role=world.vip)
    assert r.content == "granted VIP"
    assert world.vip.id in sb.member(world.guild, world.bob).roles
    [event] = sb.role_events
    assert (event.user_id, event.role_id, event.action, event.reason) == (
        world.bob.id,
        world.vip.id,
        "add",
        "sandbox test",
    )
    # discord.py's cache follows only through GUILD_MEMBER_UPDATE, which the sandbox sends.
    cached = bot.get_guild(world.guild.id).get_member(world.bob.id)
    assert [role.name for role in cached.roles[1:]] == ["VIP"]


async def test_role_above_bot_is_forbidden(sb, world, bot):
    boss = sb.create_role(world.guild, "Boss", above_bot=True)
    r = await sb.slash(world.alice, "grant", member=world.bob, role=boss)
    assert r.content == "forbidden 50013"
    assert r.ephemeral
    assert boss.id not in sb.member(world.guild, world.bob).roles
    assert sb.role_events == []


async def test_role_add_without_manage_roles_is_forbidden(sb, world, bot):
    guild = sb.create_guild(
        "No Perms", bot_permissions=discord.Permissions(send_messages=True, view_channel=True).value
    )
    admin = sb.add_member(guild, "admin", permissions=discord.Permissions(administrator=True))
    member = sb.add_member(guild, "member")
    role = sb.create_role(guild, "Low")
    await sb.settle()
    assert bot.get_guild(guild.id) is not None  # GUILD_CREATE after connect: the bot joined
    r = await sb.slash(admin, "grant", member=member, role=role)
    assert r.content == "forbidden 50013"


async def test_rate_limit_is_retried_transparently(sb, world, bot):
    sb.rate_limit(ROLE_ROUTE, times=2, retry_after=0.02)
    r = await sb.slash(world.alice, "grant", member=world.bob, role=world.vip)
    assert r.content == "granted VIP"
    assert len(sb.rate_limited) == 2
    assert all(rec.status == 429 for rec in sb.rate_limited)
    assert len(sb.role_events) == 1


async def test_rate_limit_on_webhook_followup(sb, world, bot):
    sb.rate_limit("POST /webhooks/{app_id}/{token}", times=1, retry_after=0.02)
    r = await sb.slash(world.alice, "slow")
    assert [m.content for m in r.followups] == ["and one more thing"]
    assert len(sb.rate_limited) == 1


async def test_dm_and_closed_dms(sb, world, bot):
    r = await sb.slash(world.alice, "dm", text="psst")
    assert r.content == "sent you a DM"
    assert [m.content for m in sb.dms(world.alice)] == ["psst"]
    sb.close_dms(world.bob)
    r = await sb.slash(world.bob, "dm", text="psst")
    assert r.content == "dm failed 50007"
    assert sb.dms(world.bob) == []


async def test_private_thread(sb, world, bot):
    r = await sb.slash(world.alice, "room")
    thread_id = int(r.content.split()[1])
    thread = sb.world.channel(thread_id)
    assert thread.type == 12
    assert world.alice.id in thread.thread_members
    assert [m.content for m in sb.channel_messages(thread)] == ["welcome"]
    assert [t.id for t in bot.threads] == [thread_id]


async def test_threads_need_the_thread_permissions(sb, world, bot):
    """Discord answers 50013 to a private thread without CREATE_PRIVATE_THREADS, and to a public
    one without CREATE_PUBLIC_THREADS."""
    no_threads = discord.Permissions(create_private_threads=True, create_public_threads=True)
    denied = sb.create_channel(world.guild, "no-threads", overwrites=[
        Overwrite(sb.bot_user.id, 1, deny=no_threads.value)])
    await sb.settle()
    channel = bot.get_channel(denied.id)
    for kind in (discord.ChannelType.private_thread, discord.ChannelType.public_thread):
        with pytest.raises(discord.Forbidden) as refused:
            await channel.create_thread(name="trade-room", type=kind)
        assert refused.value.code == 50013
    assert not [c for c in world.guild.channels.values() if c.is_thread]
    general = bot.get_channel(world.guild.channel_named("general").id)
    assert (await general.create_thread(name="room")).type == discord.ChannelType.private_thread


async def test_channel_create_with_overwrites_and_scheduled_events(sb, world, bot):
    guild = bot.get_guild(world.guild.id)
    vault = await guild.create_text_channel(
        "vault", overwrites={guild.default_role: discord.PermissionOverwrite(view_channel=False)}
    )
    await sb.settle()
    assert bot.get_channel(vault.id) is not None
    stored = world.guild.channel_named("vault")
    assert stored.overwrites[0].deny & discord.Permissions(view_channel=True).value
    bob = world.guild.members[world.bob.id]
    assert not world.guild.channel_permissions(bob, stored) & (1 << 10)

    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Gem raffle",
        start_time=start,
        end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Online",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert [e.name for e in await guild.fetch_scheduled_events()] == ["Gem raffle"]
    await event.edit(name="Big gem raffle")
    assert [e.data["name"] for e in world.guild.scheduled_events.values()] == ["Big gem raffle"]


async def test_command_sync_echoes_ids(sb, world, bot):
    target = discord.Object(world.guild.id)
    bot.tree.copy_global_to(guild=target)
    synced = await bot.tree.sync(guild=target)
    assert {c.name for c in synced} >= {"echo", "gems", "shop"}
    assert all(c.id for c in synced)
    assert {c["name"] for c in sb.synced_commands[world.guild.id]} == {c.name for c in synced}
    r = await sb.slash(world.alice, "pick", fruit="cherry")
    give_id = next(c.id for c in synced if c.name == "pick")
    assert int(r.record.payload["data"]["id"]) == give_id
    assert r.record.payload["data"]["guild_id"] == str(world.guild.id)


async def test_resume_replays_missed_dispatches(sb, world, bot):
    general = world.guild.channel_named("general")
    await sb.force_reconnect(wait=False)
    await sb.say(world.bob, general, "said while disconnected", wait=False)
    await sb.wait_resumed()
    assert [m.content for m in bot.seen_messages] == ["said while disconnected"]
    assert sb.server.gateway.identifies == 1
    assert sb.server.gateway.resumes == 1
    # Still fully working after the resume.
    r = await sb.slash(world.alice, "pick", fruit="apple")
    assert r.content == "picked apple"


async def test_unmodelled_request_is_recorded(sb, world, bot):
    route = discord.http.Route("GET", "/guilds/{guild_id}/emojis", guild_id=world.guild.id)
    with pytest.raises(discord.NotFound):
        await bot.http.request(route)
    assert [(r.method, r.path) for r in sb.unhandled_requests] == [
        ("GET", f"/guilds/{world.guild.id}/emojis")
    ]
    with pytest.raises(SandboxError, match="emojis"):
        sb.assert_no_unhandled()
    sb.unhandled_requests.clear()  # keep the strict exit check of the fixture quiet


async def test_deadline_violation_is_recorded(sb, world, bot):
    now = [1000.0]
    sb.server.clock = lambda: now[0]

    @bot.tree.command(description="Too slow")
    async def sloth(interaction: discord.Interaction) -> None:
        now[0] += 3.5  # the harness clock moves past Discord's 3 s deadline
        await interaction.response.send_message("too late")

    with pytest.raises(InteractionNotAnswered, match="Unknown interaction"):
        await sb.slash(world.alice, "sloth")
    [violation] = sb.deadline_violations
    assert violation.name == "sloth" and violation.latency == pytest.approx(3.5)


async def test_bot_error_handler_still_runs_and_errors_are_recorded(sb, world, bot_class):
    bot = bot_class(friendly_errors=True)
    await sb.connect(bot)
    r = await sb.slash(world.alice, "boom")
    assert r.content == "Something went wrong."
    assert any("kaboom" in e for e in r.errors)


async def test_sharded_bot_serves_guilds_on_both_shards(sb, world, sharded_bot_class):
    second = sb.create_guild("Second Guild")
    carol = sb.add_member(second, "carol")
    bot = sharded_bot_class(shard_count=2)
    await sb.connect(bot)
    shards = {bot.get_guild(g.id).shard_id for g in (world.guild, second)}
    assert shards == {0, 1}
    assert len(sb.server.gateway.sessions) == 2
    for actor in (world.alice, carol):
        r = await sb.slash(actor, "pick", fruit="banana")
        assert r.content == "picked banana"


async def test_autosharded_bot_asks_gateway_bot(sb, world, sharded_bot_class):
    sb.create_guild("Second Guild")
    bot = sharded_bot_class()
    await sb.connect(bot)
    assert bot.shard_count == 1
    assert any(r.path == "/gateway/bot" for r in sb.requests)


async def test_dm_context_slash_and_dm_chat(sb, world, bot):
    r = await sb.slash(world.alice.user, "pick", fruit="cherry")
    assert r.content == "picked cherry"
    assert r.message.guild_id is None
    await sb.say(world.alice, None, "hi bot")
    assert bot.seen_messages[-1].content == "hi bot"
    assert isinstance(bot.seen_messages[-1].channel, discord.DMChannel)


async def test_bot_rest_calls(sb, world, bot):
    guild = bot.get_guild(world.guild.id)
    general = guild.get_channel(world.guild.channel_named("general").id)
    fetched = await guild.fetch_member(world.bob.id)
    assert fetched.name == "bob"
    assert (await bot.fetch_user(world.alice.id)).name == "alice"
    assert len(await (await bot.fetch_user(world.alice.id)).display_avatar.read()) > 0
    msg = await general.send("ledger", file=discord.File(io.BytesIO(b"x" * 10), "l.bin"))
    await msg.add_reaction("\N{GEM STONE}")
    await msg.edit(content="ledger v2")
    stored = sb.channel_messages(world.guild.channel_named("general"))[-1]
    assert (stored.content, stored.files) == ("ledger v2", {"l.bin": b"x" * 10})
    assert stored.reactions == {"\N{GEM STONE}": {sb.bot_user.id}}
    assert [h["content"] for h in stored.history] == ["ledger", "ledger v2"]
    thread = await general.create_thread(name="escrow-1")
    await thread.edit(archived=True, locked=True)
    assert sb.world.channel(thread.id).locked
    await msg.delete()
    assert sb.channel_messages(world.guild.channel_named("general")) == []


async def test_scheduled_event_rules_and_interested_members(sb, world, bot):
    guild = bot.get_guild(world.guild.id)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with pytest.raises(discord.HTTPException):  # external events need an end time
        await bot.http.create_guild_scheduled_event(
            guild.id, name="x", privacy_level=2, entity_type=3,
            scheduled_start_time=start.isoformat(), entity_metadata={"location": "Online"})
    with pytest.raises(discord.HTTPException):  # end before start
        await guild.create_scheduled_event(
            name="Backwards", start_time=start, end_time=start - dt.timedelta(hours=1),
            entity_type=discord.EntityType.external, location="Online",
            privacy_level=discord.PrivacyLevel.guild_only)
    event = await guild.create_scheduled_event(
        name="Gem raffle", start_time=start, end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external, location="Online",
        privacy_level=discord.PrivacyLevel.guild_only)
    await sb.settle()
    seen: list[tuple[str, int]] = []

    async def added(event, user):
        seen.append(("add", user.id))

    async def removed(event, user):
        seen.append(("remove", user.id))

    bot.add_listener(added, "on_scheduled_event_user_add")
    bot.add_listener(removed, "on_scheduled_event_user_remove")
    bob = world.guild.members[world.bob.id]
    sb.set_interested(bob, event.id)
    sb.set_interested(bob, event.id)  # pressing twice changes nothing
    await sb.settle()
    sb.set_interested(bob, event.id, False)
    await sb.settle()
    assert seen == [("add", bob.id), ("remove", bob.id)]
    with pytest.raises(discord.HTTPException):  # scheduled -> completed is not a transition
        await bot.http.edit_scheduled_event(guild.id, event.id, status=3)
    event = await event.start()
    await event.end()
    with pytest.raises(discord.HTTPException):  # completed events cannot change
        await bot.http.edit_scheduled_event(guild.id, event.id, name="Again")
    assert sb.scheduled_events(world.guild)[0]["status"] == 3
async def test_pins_and_forum_posts(sb, world, bot):
    from discord_sandbox import ChannelType

    general = bot.get_channel(world.guild.channel_named("general").id)
    msg = await general.send("goals card")
    await msg.pin()
    stored = sb.channel_messages(world.guild.channel_named("general"))[-1]
    assert stored.pinned and sb.pinned(world.guild.channel_named("general")) == [stored]
    await msg.unpin()
    assert not stored.pinned
    forum_state = sb.create_channel(world.guild, "guides", type=ChannelType.FORUM)
    await sb.settle()
    forum = bot.get_channel(forum_state.id)
    assert isinstance(forum, discord.ForumChannel)
    with pytest.raises(discord.HTTPException) as refused:
        await bot.http.send_message(forum.id, params=discord.http.handle_message_parameters(
            content="plain message"))
    assert refused.value.code == 50008
    post = await forum.create_thread(name="Hallmarks", content="Look for the maker's mark")
    assert post.thread.parent_id == forum.id and post.message.id == post.thread.id
    assert [m.content for m in sb.channel_messages(sb.world.channel(post.thread.id))] == [
        "Look for the maker's mark"]


async def test_message_length_limits_are_refused(sb, world, bot):
    channel = bot.get_channel(world.guild.text_channels()[0].id)
    await channel.send("x" * 2000)
    with pytest.raises(discord.HTTPException) as error:
        await channel.send("x" * 2001)
    assert error.value.status == 400 and error.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(description="d" * 4097))
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(title="t" * 257))
    big = discord.Embed(description="d" * 4000)
    for i in range(3):
        big.add_field(name=f"f{i}", value="v" * 1000)
    with pytest.raises(discord.HTTPException):  # 7,000 characters over all embeds
        await channel.send(embed=big)
    too_many = discord.Embed()
    for i in range(26):
        too_many.add_field(name=str(i), value="v")
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=too_many)


async def test_component_limits_are_refused(sb, world, bot):
    channel = bot.get_channel(world.guild.text_channels()[0].id)

    def view_with(*items):
        view = discord.ui.View()
        for item in items:
            view.add_item(item)
        return view

    await channel.send("ok", view=view_with(discord.ui.Button(label="x" * 80, custom_id="a" * 100)))
    for bad in (
        {"components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "x", "custom_id": "a" * 101}]}]},
        {"components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "x" * 81, "custom_id": "b"}]}]},
        {"components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": str(i), "custom_id": f"c{i}"}]} for i in range(6)]},
        {"components": [{"type": 1, "components": [
            {"type": 3, "custom_id": "s", "options": [
                {"label": str(i), "value": str(i)} for i in range(26)]}]}]},
        {"components": [{"type": 1, "components": [
            {"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]},
            {"type": 2, "style": 1, "label": "x", "custom_id": "d"}]}]},
    ):
        with pytest.raises(discord.HTTPException) as error:
            await bot.http.request(
                discord.http.Route("POST", "/channels/{channel_id}/messages",
                                   channel_id=channel.id), json={"content": "bad", **bad})
        assert error.value.status == 400 and error.value.code == 50035


def test_modal_and_autocomplete_limits():
    from discord_sandbox.contract import shared_contract
    from discord_sandbox.limits import PayloadTooLarge, check_modal

    contract = shared_contract(required=True)
    callback = "/interactions/{interaction_id}/{interaction_token}/callback"
    row = {"type": 1, "components": [{"type": 4, "custom_id": "t", "label": "Title", "style": 1}]}
    good = {"title": "A form", "custom_id": "m", "components": [row]}
    check_modal(good)
    assert contract.validate("POST", callback, {"type": 9, "data": good}) is None
    # The spec: title 1-45, at least one component.
    for bad in ({**good, "title": "t" * 46}, {**good, "components": []}):
        assert contract.validate("POST", callback, {"type": 9, "data": bad}) is not None
    # By hand (the spec allows 40 top-level components, Discord 5).
    with pytest.raises(PayloadTooLarge):
        check_modal({**good, "components": [row] * 6})
    choices = [{"name": str(i), "value": i} for i in range(25)]
    assert contract.validate("POST", callback, {"type": 8, "data": {"choices": choices}}) is None
    for bad_choices in ([*choices, {"name": "26", "value": 26}], [{"name": "", "value": 1}]):
        assert contract.validate("POST", callback, {"type": 8, "data": {"choices": bad_choices}})
