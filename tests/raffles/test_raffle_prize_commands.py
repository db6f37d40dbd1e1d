"""Raffles with a shop item as the prize, end to end through the sandbox: the units set aside at
creation (a buyer can't take them), each winner given the item at the draw as if they had bought
it (a role given after the commit), a role Discord refuses left to staff (winner told, a post in
the moderators' queue, never lost), a cancel that gives the units back, bad items refused with
nothing changed."""

from __future__ import annotations

import pytest

from economy.raffles.models import prize_key
from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(90)


async def _state(gc) -> tuple:
    docs = []
    for name in ("raffles", "raffle_tickets", "shop_items", "shop_purchases", "shop_holdings"):
        docs += await gc.db[name].find({}, {"_id": 0}).to_list()
    return await db_state(gc), sorted(map(repr, docs))


async def _create(gc, who="admin", **options):
    options = {"price": 10, "max_per_member": 2, "ends": "1h", **options}
    return await gc.sb.slash(gc[who], "raffle-admin create", options, in_channel=gc.general)


async def _gold_item(gc, *, stock):
    gold = gc.sb.create_role(gc.guild, "Gold")
    await gc.sb.settle()
    options = {"name": "Gold", "price": 500, "kind": "role", "role": gold, "days": 3}
    if stock is not None:
        options["stock"] = stock
    r = await gc.sb.slash(gc["admin"], "shop-admin add", options)
    assert "On sale" in r.content, r.content
    return gold


async def _stock(gc, item_id=1):
    return (await gc.db["shop_items"].find_one({"item_id": item_id}))["stock"]


async def test_each_winner_gets_the_item_as_if_bought(gc):
    gold = await _gold_item(gc, stock=3)
    created = await _create(gc, item=1, winners=2)
    assert "Raffle #1 is open: **Gold** (shop item #1, 2 set aside)" in created.content, \
        created.content
    assert await _stock(gc) == 1
    for name in ("alice", "bob"):
        await seed(gc, name, 100)
        await gc.slash(name, "shop tickets", raffle=1, count=1)
    listed = await gc.slash("carol", "shop raffles")
    assert "#1 Gold** (shop item #1, 2 set aside)" in listed.content, listed.content
    await gc.advance(hours=1)
    for name in ("alice", "bob"):
        assert gold.id in gc.sb.member(gc.guild, gc[name]).roles, name
        assert await balance(gc, name) == 90  # the ticket only: nothing charged for the prize
        [dm] = [m.text for m in gc.sb.dms(gc[name]) if "You won raffle #1" in m.text]
        assert "The role is yours until" in dm, dm
        inventory = await gc.slash(name, "shop inventory")
        assert "Gold" in inventory.content, inventory.content
    assert await gc.db["shop_purchases"].count_documents({"status": "granted"}) == 2
    item = await gc.db["shop_items"].find_one({"item_id": 1})
    assert (item["stock"], item["sold"]) == (1, 0)  # set aside once, never counted again
    await gc.advance(minutes=5)  # the sweeps again: nothing given twice
    assert await gc.db["shop_holdings"].count_documents({"bought": 1}) == 2
    assert await gc.db["shop_purchases"].count_documents({}) == 2


async def test_a_role_discord_refuses_goes_to_staff_and_the_winner_is_told(gc):
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    gold = await _gold_item(gc, stock=None)
    await _create(gc, item=1, prize="A month of Gold")
    await seed(gc, "alice", 100)
    await gc.slash("alice", "shop tickets", raffle=1, count=2)
    # The role moves above the bot before the draw (the bot's cache has not seen it).
    me = gc.guild.members[gc.sb.bot_user.id]
    gold.position = gc.guild.top_position(me) + 1
    await gc.advance(hours=1)
    assert gold.id not in gc.sb.member(gc.guild, gc["alice"]).roles
    [dm] = [m.text for m in gc.sb.dms(gc["alice"]) if "You won raffle #1" in m.text]
    assert "A month of Gold" in dm and "staff were told" in dm, dm
    posts = [m for m in gc.sb.channel_messages(queue) if "Prize to give by hand" in m.content]
    assert len(posts) == 1 and f"<@{gc['alice'].id}>" in posts[0].content
    assert prize_key(gc.guild.id, 1, 0) in posts[0].content
    assert posts[0].allowed_mentions == {"parse": []}
    stored = await gc.db["shop_purchases"].find_one({"_id": prize_key(gc.guild.id, 1, 0)})
    assert (stored["status"], stored["price"]) == ("undelivered", 0)
    assert await balance(gc, "alice") == 80  # nothing refunded: nothing was paid for it
    await gc.advance(minutes=5)  # the shop's sweep leaves it to staff: no second post
    assert len([m for m in gc.sb.channel_messages(queue)
                if "Prize to give by hand" in m.content]) == 1


async def test_bad_items_refused_and_a_cancel_gives_the_units_back(gc):
    r = await gc.sb.slash(gc["admin"], "shop-admin add",
                          {"name": "Freeze", "price": 30, "kind": "consumable",
                           "effect": "streak_freeze", "stock": 2})
    assert "On sale" in r.content, r.content
    await gc.sb.slash(gc["admin"], "shop-admin add",
                      {"name": "Old", "price": 30, "kind": "consumable",
                       "effect": "streak_freeze"})
    await gc.sb.slash(gc["admin"], "shop-admin remove", {"item": 2})
    await seed(gc, "carol", 100)
    before = await _state(gc)
    for options, why in (({"item": 99}, "no item #99"), ({"item": 2}, "removed from the shop"),
                         ({"item": 1, "winners": 3}, "has 2 left"),
                         ({}, "Say what the prize is")):
        r = await _create(gc, **options)
        assert r.ephemeral and why in r.content, (options, r.content)
    r = await _create(gc, who="bob", item=1)
    assert r.ephemeral and "Only server admins" in r.content
    assert await _state(gc) == before
    await _create(gc, item=1, winners=2)
    assert await _stock(gc) == 0
    quote = await gc.slash("carol", "shop buy", item=1)  # the prize's units are not for sale
    assert quote.ephemeral and "sold out" in quote.content, quote.content
    await gc.slash("carol", "shop tickets", raffle=1, count=2)
    r = await gc.sb.slash(gc["admin"], "raffle-admin cancel", {"raffle": 1})
    assert "20 GEMS refunded to 1 member" in r.content, r.content
    assert await _stock(gc) == 2 and await balance(gc, "carol") == 100
    await gc.advance(hours=1, minutes=5)
    assert await gc.db["shop_purchases"].count_documents({}) == 0
    assert await gc.db["shop_holdings"].count_documents({}) == 0
