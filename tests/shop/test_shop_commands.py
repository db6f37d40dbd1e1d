"""/shop and /shop-admin end to end through the Discord sandbox: a role bought and given, a
refund when Discord refuses the role, a double click, forged ids, refusals and permissions."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from discord_sandbox.interactions import InteractionNotAnswered
from discord_sandbox.state import Component
from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(90)


async def _forge(gc, who, message, custom_id):
    """A click on a button whose custom id the client chose (a hostile client)."""
    raw = {"type": 2, "style": 1, "label": "forged", "custom_id": custom_id}
    forged = dataclasses.replace(message, raw_components=[{"type": 1, "components": [raw]}])
    comp = Component(type=2, custom_id=custom_id, label="forged", raw=raw)
    return await gc.sb._component(gc[who], forged, comp, [], None)


async def _slash(gc, who, command, **options):
    """A slash command whose options may include `name` (passed as a dict to the sandbox)."""
    return await gc.sb.slash(gc[who], command, options)


async def _shop_state(gc) -> tuple:
    docs = []
    for name in ("shop_items", "shop_holdings", "shop_purchases"):
        docs += await gc.db[name].find({}, {"_id": 0}).to_list()
    return await db_state(gc), sorted(map(repr, docs))


async def test_role_bought_given_and_refunded_when_discord_refuses(gc):
    gold = gc.sb.create_role(gc.guild, "Gold")
    await gc.sb.settle()
    await seed(gc, "alice", 200)
    r = await _slash(gc, "admin", "shop-admin add", name="Gold", price=50, kind="role",
                     role=gold, days=3, stock=2)
    assert "On sale" in r.content
    page = await gc.slash("alice", "shop browse")
    quote = await gc.click("alice", page, "Buy #1")
    # A double click on Confirm: one purchase.
    first, second = await asyncio.gather(gc.click("alice", quote, "Confirm purchase"),
                                         gc.click("alice", quote, "Confirm purchase"))
    texts = sorted([first.last.content, second.last.content])
    assert any("you now have" in t for t in texts), texts
    assert await balance(gc, "alice") == 150
    assert gold.id in gc.sb.member(gc.guild, gc["alice"]).roles
    assert await gc.db["shop_purchases"].count_documents({"status": "granted"}) == 1
    # Discord now refuses the role (moved above the bot; the bot's cache has not seen it).
    me = gc.guild.members[gc.sb.bot_user.id]
    below, gold.position = gold.position, gc.guild.top_position(me) + 1
    await seed(gc, "bob", 100)
    quote = await gc.slash("bob", "shop buy", item=1)
    done = (await gc.click("bob", quote, "Confirm purchase")).last
    assert "refunded" in done.content, done.content
    assert await balance(gc, "bob") == 100
    item = await gc.db["shop_items"].find_one({"item_id": 1})
    assert (item["stock"], item["sold"]) == (1, 1)
    assert await gc.db["shop_purchases"].count_documents({"status": "refunded"}) == 1
    # The timed role ends: the minute sweep takes it back (once Discord lets it again).
    await gc.advance(days=3, minutes=1)
    assert gold.id in gc.sb.member(gc.guild, gc["alice"]).roles  # refused: tried again later
    gold.position = below
    await gc.advance(days=3, minutes=1)
    await gc.advance(minutes=1)
    assert gold.id not in gc.sb.member(gc.guild, gc["alice"]).roles
    holding = await gc.db["shop_holdings"].find_one({"user_id": gc["alice"].id})
    assert holding["role_until_ms"] is None
    inventory = await gc.slash("alice", "shop inventory")
    assert "Nothing yet" in inventory.content


async def test_forged_ids_bad_input_and_permissions_change_nothing(gc):
    await seed(gc, "alice", 100)
    await _slash(gc, "admin", "shop-admin add", name="Freeze", price=30, kind="consumable",
                 effect="streak_freeze", stock=5)
    quote = await gc.slash("alice", "shop buy", item=1)
    before = await _shop_state(gc)
    for custom_id in ("shop:ok:1:3:1:7", "shop:ok:1:30:9:7", "shop:ok:01:30:1:7",
                      "shop:ok:99:30:1:7", "shop:ok:1:30:1:99999999999999999999", "shop:buy:-1"):
        try:
            forged = await _forge(gc, "alice", quote.last, custom_id)
        except InteractionNotAnswered:  # not a canonical id: no button of ours matches it
            continue
        text = forged.last.content if forged.messages else ""
        assert not forged.errors, (custom_id, forged.errors)
        assert "Bought" not in text, (custom_id, text)
    for who, command, options, expected in [
        ("bob", "shop-admin add", {"name": "X", "price": 5, "kind": "consumable",
                                   "effect": "streak_freeze"}, "Only server admins"),
        ("bob", "shop-admin restock", {"item": 1, "amount": 3}, "Only server admins"),
        ("admin", "shop-admin add", {"name": "X", "price": 0, "kind": "consumable",
                                     "effect": "streak_freeze"}, "at least 1"),
        ("admin", "shop-admin add", {"name": "X", "price": 5, "kind": "role"}, "needs the role"),
        ("admin", "shop-admin add", {"name": "X", "price": 5, "kind": "consumable",
                                     "effect": "streak_freeze", "stock": -1}, "stock"),
        ("bob", "shop buy", {"item": 1}, None),  # a quote changes nothing
        ("bob", "shop use", {"item": 1}, "no **Freeze** left"),
        ("alice", "shop buy", {"item": 42}, "no item #42"),
    ]:
        r = await _slash(gc, who, command, **options)
        assert r.ephemeral, (command, r.content)
        if expected:
            assert expected in r.content, (command, r.content)
    assert await _shop_state(gc) == before
    high = gc.sb.create_role(gc.guild, "Too high", above_bot=True)
    await gc.sb.settle()
    r = await _slash(gc, "admin", "shop-admin add", name="High", price=5, kind="role", role=high)
    assert "above my highest role" in r.content
    assert await _shop_state(gc) == before
    ok = (await gc.click("alice", quote, "Confirm purchase")).last
    assert "Bought" in ok.content and await balance(gc, "alice") == 70
    history = await gc.slash("alice", "gems history")
    assert "Shop purchase" in str([e.to_dict() for e in history.embeds]) + history.content
    # The module switch: off, the shop answers every command with one message, changes nothing.
    await gc.slash("admin", "settings modules disable", feature="shop")
    before = await _shop_state(gc)
    for command, options in (("shop browse", {}), ("shop inventory", {}), ("shop use", {"item": 1}),
                             ("shop buy", {"item": 1})):
        refused = await _slash(gc, "alice", command, **options)
        assert refused.ephemeral and "turned off" in refused.content, (command, refused.content)
    assert await _shop_state(gc) == before


async def test_gift_an_item_to_a_member_who_is_told_by_dm(gc):
    await seed(gc, "alice", 100)
    await _slash(gc, "admin", "shop-admin add", name="Streak freeze", price=30,
                 kind="consumable", effect="streak_freeze")
    before = await _shop_state(gc)
    for target, why in ((gc["alice"], "yourself"), (gc["otherbot"], "Bots don't hold items")):
        r = await gc.slash("alice", "shop gift", member=target, item=1)
        assert r.ephemeral and why in r.content, r.content
    assert await _shop_state(gc) == before
    quote = await gc.slash("alice", "shop gift", member=gc["bob"], item=1)
    assert "Gift **Streak freeze**" in quote.content and quote.ephemeral
    first, second = await asyncio.gather(gc.click("alice", quote, "Confirm gift"),
                                         gc.click("alice", quote, "Confirm gift"))
    texts = sorted([first.last.content, second.last.content])
    assert any("Gift sent" in t for t in texts) and any("went through once" in t for t in texts)
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (70, 0)
    inv = await gc.slash("alice", "shop inventory", member=gc["bob"])
    assert "Streak freeze** × 1" in inv.content
    dms = gc.sb.dms(gc["bob"])
    assert len(dms) == 1 and "alice gave you **Streak freeze**" in dms[0].content
    assert dms[0].allowed_mentions == {"parse": []}


async def test_gift_with_too_little_gems_charges_nothing(gc):
    await seed(gc, "alice", 10)
    await _slash(gc, "admin", "shop-admin add", name="Streak freeze", price=30,
                 kind="consumable", effect="streak_freeze")
    quote = await gc.slash("alice", "shop gift", member=gc["bob"], item=1)
    before = await _shop_state(gc)
    done = (await gc.click("alice", quote, "Confirm gift")).last
    assert "Not enough GEMS" in done.content and done.ephemeral
    assert await _shop_state(gc) == before
