"""Collectibles end to end through the Discord sandbox: an admin creates a tradeable badge and
gives an edition, its owner lists it with `/list-item collectible:`, a member buys it through
escrow, and `/profile badges` and `/profile collectible` show the new owner and the history;
bad input (soulbound, forged id, not yours, listed twice) is refused privately, nothing changed."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import balance, db_state, seed
from tests.marketplace.test_marketplace_commands import channels, create
from tests.trades.test_trade_commands import card_of, thread_of

pytestmark = pytest.mark.timeout(90)


async def state(gc) -> tuple:
    names = ("badge_awards", "badge_transfers", "listings", "cap_slots", "trades")
    return await db_state(gc), [await gc.db[n].count_documents({}) for n in names]


async def test_a_collectible_is_listed_bought_and_moves_once(gc):
    market, _ = await channels(gc)
    made = await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Genesis", "description": "Launch day", "emoji": "💠", "rarity": "legendary",
        "supply": 100, "tradeable": True})
    assert made.ephemeral and "tradeable, limited to 100" in made.content
    await gc.sb.slash(gc["admin"], "badge-admin create", {  # soulbound (the default)
        "name": "Helper", "description": "Helped out", "emoji": "🛟", "rarity": "rare",
        "supply": 5})
    for key in ("c1", "c2"):
        await gc.slash("admin", "badge-admin give", badge=key, member=gc["alice"], reason="launch")
    mine = await gc.slash("alice", "profile badges")
    assert "#1 of 100 · collectible `c1#1`" in mine.embeds[0].description

    before = await state(gc)
    for who, item, expected in [
        ("alice", "c2#1", "soulbound"),            # trading a soulbound badge
        ("alice", "c1#77", "no collectible `c1#77`"),  # a forged collectible id
        ("alice", "c1", "badge#serial"),           # not an id at all
        ("bob", "c1#1", "not yours to sell"),      # listing one you don't own
    ]:
        r = await gc.slash(who, "list-item", category="rings", condition="new", price_gems=300,
                           collectible=item)
        assert r.modal is None and r.ephemeral and expected in r.content, (item, r.content)
    assert await state(gc) == before

    await create(gc, "alice", title="Genesis badge number one",
                 description="The very first edition.", price_gems=300, collectible="c1#1")
    listing = await gc.db["listings"].find_one({"collectible": "c1#1"})
    assert listing["category"] == "collectibles" and listing["status"] == "active"
    before = await state(gc)
    twice = await gc.slash("alice", "list-item", category="rings", condition="new",
                           price_gems=400, collectible="c1#1")  # two listings of one collectible
    assert twice.ephemeral and "one listing per collectible" in twice.content
    revoke = await gc.slash("admin", "badge-admin revoke", badge="c1", member=gc["alice"],
                            reason="while listed")
    assert revoke.ephemeral and "remove the listing" in revoke.content
    assert await state(gc) == before

    announced = gc.sb.channel_messages(market)[-1]
    await seed(gc, "bob", 800)
    quote = await gc.click("bob", announced, "Buy")
    done = await gc.click("bob", quote, "Confirm purchase")
    assert "Reserved!" in done.last.content
    trade = (await gc.services.trades.for_member(gc.guild.id, gc["bob"].id))[0]
    thread = thread_of(gc, trade.trade_id)
    opened = await gc.click("alice", card_of(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {})
    await gc.click("bob", card_of(gc, thread), "Confirm received")
    assert (await balance(gc, "alice"), await balance(gc, "bob")) == (293, 500)
    theirs = await gc.slash("carol", "profile badges", member=gc["bob"])
    assert "collectible `c1#1`" in theirs.embeds[0].description
    history = await gc.slash("carol", "profile collectible", item="c1#1")
    assert history.ephemeral and f"owned by <@{gc['bob'].id}>" in history.content
    assert (f"<@{gc['alice'].id}> → <@{gc['bob'].id}> (trade #{trade.trade_id})"
            in history.content)
    assert await gc.db["badge_transfers"].count_documents({}) == 1
