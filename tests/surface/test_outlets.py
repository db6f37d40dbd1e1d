"""The outlet base (cogs/_shared/outlets.py) against the Discord sandbox: where a room opens, what
happens when Discord refuses (no channel, no permission, closed DMs), cards found again after a
restart, the sweep's hand-over, and how a feature's outlet is found without bot attributes."""

from __future__ import annotations

from dataclasses import dataclass

import discord
import pytest

from cogs._shared.outlets import Outlet, find_outlet, outlet_of
from discord_sandbox.state import Overwrite
from economy.core.actor import Actor
from tests.e2e_fixtures import balance, seed

pytestmark = pytest.mark.timeout(60)

NO_PRIVATE_THREADS = discord.Permissions(create_private_threads=True).value
NO_SENDING = discord.Permissions(send_messages=True).value


class Probe(Outlet):
    """A bare outlet (not added as a cog) speaking for the trades feature."""

    feature = "trades"


def bot_denied(gc, permissions: int) -> list[Overwrite]:
    return [Overwrite(gc.sb.bot_user.id, 1, deny=permissions)]


async def channel(gc, name: str, *, deny: int = 0):
    """A new text channel (the bot denied `deny` in it), as the bot sees it."""
    made = gc.sb.create_channel(gc.guild, name, overwrites=bot_denied(gc, deny) if deny else ())
    await gc.sb.settle()
    return gc.bot.get_channel(made.id)


def card_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Confirm", custom_id="probe:confirm"))
    return view


async def test_room_channel_configured_else_fallback_else_first_thread_channel(gc):
    outlet = Probe(gc.bot)
    rooms, elsewhere = await channel(gc, "rooms"), await channel(gc, "elsewhere")
    guild_id = gc.guild.id
    assert outlet.room_channel(guild_id, rooms.id, fallback=elsewhere) is rooms
    # A configured channel that was deleted (or never existed) is passed over.
    assert outlet.room_channel(guild_id, 424242, fallback=elsewhere) is elsewhere
    assert outlet.room_channel(guild_id, None, fallback=elsewhere) is elsewhere
    # No fallback: the first text channel where the bot may open private threads.
    assert outlet.room_channel(guild_id, None).name == "general"
    for general in [c for c in gc.guild.channels.values() if c.name == "general"]:
        gc.sb.world.update_channel(general, {"permission_overwrites": [
            o.payload() for o in bot_denied(gc, NO_PRIVATE_THREADS)]})
    await gc.sb.settle()
    assert outlet.room_channel(guild_id, None) is rooms
    assert outlet.room_channel(999, None) is None  # a guild the bot is not in


async def test_open_room_makes_a_private_thread_with_the_pinned_card(gc):
    outlet = Probe(gc.bot)
    rooms = await channel(gc, "rooms")
    room = await outlet.open_room(
        rooms, name="Trade #1 · " + "x" * 200, members=(gc["alice"].id, gc["bob"].id),
        content=f"Welcome <@{gc['alice'].id}>", about="probe 1",
        embed=discord.Embed(title="Card"), view=card_view(), pin=True)
    assert room.thread is not None and room.card is not None
    thread = gc.sb.world.channel(room.thread.id)
    assert thread.type == 12 and not thread.invitable and len(thread.name) == 100
    assert {gc["alice"].id, gc["bob"].id} <= thread.thread_members
    [card] = gc.sb.pinned(thread)
    assert card.id == room.card.id and [b.label for b in card.buttons] == ["Confirm"]
    assert room.where("the server") == room.thread.mention
    assert gc.sb.channel_messages(gc.sb.world.channel(rooms.id)) == []


async def test_without_thread_permission_the_card_goes_in_the_channel(gc):
    outlet = Probe(gc.bot)
    locked = await channel(gc, "no-threads", deny=NO_PRIVATE_THREADS)
    room = await outlet.open_room(
        locked, name="Trade #2", members=(gc["alice"].id,), content="hello", about="probe 2",
        embed=discord.Embed(title="Card"), view=card_view(), card_in_channel=True)
    assert room.thread is None and room.card is not None
    [card] = gc.sb.channel_messages(gc.sb.world.channel(locked.id))
    assert card.id == room.card.id and [b.label for b in card.buttons] == ["Confirm"]
    assert room.where("the server") == locked.mention
    assert not [c for c in gc.guild.channels.values() if c.is_thread]
    # Without `card_in_channel` nothing is posted and the room is empty.
    bare = await outlet.open_room(locked, name="Room", members=(), content="hi", about="probe 3")
    assert (bare.thread, bare.card) == (None, None) and bare.where("the server") == "the server"
    assert len(gc.sb.channel_messages(gc.sb.world.channel(locked.id))) == 1


async def test_missing_channels_and_refused_posts_are_skipped_not_raised(gc):
    outlet = Probe(gc.bot)
    room = await outlet.open_room(None, name="x", members=(), content="x", about="probe")
    assert (room.channel, room.thread, room.card) == (None, None, None)
    assert await outlet.send_to(None, "x", about="probe") is None
    assert await outlet.send_to(424242, "x", about="probe") is None  # unknown id
    gone = await channel(gc, "gone")
    message = await outlet.send_to(gone.id, "still here", about="probe")
    assert message is not None
    gc.sb.world.delete_channel(gc.sb.world.channel(gone.id))
    await gc.sb.settle()
    assert await outlet.send_to(gone.id, "x", about="probe") is None
    assert await outlet.edit_card(gone.id, message.id, about="probe",
                                  embed=discord.Embed(title="x")) is False
    assert await outlet.edit_card(None, None, about="probe") is False
    mute = await channel(gc, "mute", deny=NO_SENDING)
    assert await outlet.send_to(mute, "x", about="probe") is None  # 50013, logged
    assert gc.sb.channel_messages(gc.sb.world.channel(mute.id)) == []
    await outlet.close_room(mute.id, about="probe")  # not a thread: nothing to archive


async def test_dms_honour_closed_dms_and_the_members_preference(gc):
    outlet = Probe(gc.bot)
    assert await outlet.dm(gc.guild.id, gc["alice"].id, f"hello <@{gc['bob'].id}>")
    [sent] = gc.sb.dms(gc["alice"])
    assert sent.allowed_mentions == {"parse": []}
    gc.sb.close_dms(gc["bob"])
    assert await outlet.dm(gc.guild.id, gc["bob"].id, "hello") is False
    await gc.services.member_prefs.set_dms(gc.guild.id, gc["carol"].id, False)
    assert await outlet.dm(gc.guild.id, gc["carol"].id, "hello") is False
    assert gc.sb.dms(gc["bob"]) == [] and gc.sb.dms(gc["carol"]) == []


async def test_a_card_is_found_again_after_a_restart_and_rooms_close(gc):
    rooms = await channel(gc, "rooms")
    room = await Probe(gc.bot).open_room(
        rooms, name="Room", members=(gc["alice"].id,), content="card", about="probe",
        embed=discord.Embed(title="Before"), view=card_view())
    thread_id, card_id = room.thread.id, room.card.id
    await gc.restart_bot()
    outlet = Probe(gc.bot)  # a new process knows only the stored ids
    assert await outlet.edit_card(thread_id, card_id, about="probe",
                                  embed=discord.Embed(title="After"))
    card = gc.sb.world.find_message(card_id)
    assert card.embeds[0].title == "After"
    assert [b.label for b in card.buttons] == ["Confirm"]  # the view was not given: kept
    assert await outlet.edit_card(thread_id, card_id, about="probe", view=None)
    assert gc.sb.world.find_message(card_id).buttons == []
    await outlet.close_room(thread_id, lock=True, about="probe")
    thread = gc.sb.world.channel(thread_id)
    assert thread.archived and thread.locked


async def test_set_role_refused_by_discord_is_false(gc):
    outlet = Probe(gc.bot)
    fan = gc.sb.create_role(gc.guild, "Fan")
    boss = gc.sb.create_role(gc.guild, "Boss", above_bot=True)
    await gc.sb.settle()
    assert await outlet.set_role(gc.guild.id, gc["alice"].id, fan.id, add=True, reason="probe")
    assert await outlet.set_role(gc.guild.id, gc["alice"].id, boss.id, add=True,
                                 reason="probe") is False
    assert list(gc.sb.member(gc.guild, gc["alice"]).roles) == [fan.id]


@dataclass
class Ping:
    guild_id: int
    n: int


async def test_hand_over_delivers_every_notice_even_when_one_fails(gc):
    outlet, seen = Probe(gc.bot), []

    async def deliver(ping: Ping) -> None:
        if ping.n == 2:
            raise RuntimeError("Discord was down for this one")
        seen.append(ping.n)

    outlet.work("probe-ping", deliver, Ping)
    pings = [Ping(gc.guild.id, n) for n in (1, 2, 3)]
    assert await outlet.hand_over("probe-ping", pings, lambda p: p.guild_id) == 3
    assert seen == [1, 3]


async def test_outlets_are_found_by_feature_not_attached_to_the_bot(gc):
    bot = gc.bot
    found = {f: type(outlet_of(bot, f)).__name__ for f in ("trades", "mentorship", "events")}
    assert found == {"trades": "TradeRooms", "mentorship": "MentorshipRooms",
                     "events": "EventDesk"}
    assert outlet_of(bot, "trades") is bot.get_cog("TradeRooms")
    for name in ("trade_rooms", "mentorship_rooms", "event_desk"):
        assert not hasattr(bot, name)
    assert find_outlet(bot, "payments") is None
    with pytest.raises(LookupError):
        outlet_of(bot, "payments")
    # Each outlet schedules its own sweep and declares its guild work.
    for job, feature in (("escrow-sweep", "trades"), ("mentorship-sweep", "mentorship"),
                         ("event-sweep", "events")):
        assert bot.jobs.jobs[job][0] == outlet_of(bot, feature).sweep
    assert bot.guild_work.routes["trade-announce"].feature == "trades"
    before = outlet_of(bot, "events")
    await gc.restart_bot()
    assert outlet_of(gc.bot, "events") is not before  # one per bot, nothing global


async def test_a_trade_room_without_thread_permission_works_from_the_channel(gc):
    """TradeRooms on the base: the card falls back into the channel, its buttons work there and
    every redraw finds it (the trade stores no thread)."""
    market = await channel(gc, "market", deny=NO_PRIVATE_THREADS)
    await seed(gc, "bob", 1000)
    escrow, guild_id = gc.services.trades, gc.guild.id
    trade = await escrow.offer(guild_id, gc["alice"].id, gc["bob"].id, 400, "Opal pendant")
    result = await escrow.accept(guild_id, trade.trade_id, gc["bob"].id, expected_price=400)
    assert await outlet_of(gc.bot, "trades").open(result.trade, fallback=market) is None
    stored = await escrow.get(guild_id, trade.trade_id, Actor(gc["bob"].id))
    assert (stored.thread_id, stored.channel_id) == (None, market.id)
    [card] = gc.sb.channel_messages(gc.sb.world.channel(market.id))
    assert card.id == stored.card_message_id and "Mark delivered" in [b.label for b in card.buttons]
    assert any(market.mention in m.content for m in gc.sb.dms(gc["alice"]))
    opened = await gc.click("alice", card, "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {"Tracking number or note (optional)": "by hand"})
    card = gc.sb.world.find_message(card.id)
    assert "Delivered" in card.text
    await gc.click("bob", card, "Confirm received")
    assert "Completed" in gc.sb.world.find_message(card.id).text
    assert await balance(gc, "alice") == 390
