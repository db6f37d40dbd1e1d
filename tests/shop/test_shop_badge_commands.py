"""Badge items end to end through the sandbox: an admin picks a staff-made badge from the
autocomplete and puts it on sale, a member buys it and `/profile badges` shows it (a limited
one with its edition number), a gift's collectible goes to the recipient, and what may not be
sold or bought is refused with nothing stored or charged."""

from __future__ import annotations

import pytest

from tests.e2e_fixtures import balance, seed
from tests.shop.test_shop_commands import _shop_state

pytestmark = pytest.mark.timeout(90)


async def _buy(gc, who, item):
    quote = await gc.slash(who, "shop buy", item=item)
    assert "You get: the badge" in quote.content, quote.content
    return (await gc.click(who, quote, "Confirm purchase")).last


async def test_an_admin_sells_a_badge_and_the_buyer_sees_it_on_the_profile(gc):
    await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Patron", "description": "Supports the server", "emoji": "💎",
        "rarity": "epic", "supply": 2})
    await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Trader", "description": "Trades a lot", "emoji": "🤝", "rarity": "rare",
        "rule": "trades", "at_least": 3})
    # The autocomplete offers the staff-made badges only (not rule or shipped badges).
    choices = await gc.sb.autocomplete(gc["admin"], "shop-admin add", "badge", "")
    assert [c["value"] for c in choices] == ["c1"] and "Patron" in choices[0]["name"]

    before = await _shop_state(gc)
    for options, expected in [
        ({"badge": "c2"}, "can't be sold"),          # a rule badge
        ({"badge": "first_sale"}, "can't be sold"),  # a shipped badge
        ({"badge": "c9"}, "no badge `c9`"),          # no such badge
        ({}, "needs the badge"),
        ({"badge": "c1", "price": 0}, "at least 1"),
    ]:
        r = await gc.sb.slash(gc["admin"], "shop-admin add",
                              {"name": "Patron badge", "price": 50, "kind": "badge", **options})
        assert r.ephemeral and expected in r.content, (options, r.content)
    assert await _shop_state(gc) == before

    r = await gc.sb.slash(gc["admin"], "shop-admin add",
                          {"name": "Patron badge", "price": 50, "kind": "badge", "badge": "c1"})
    assert "On sale" in r.content and "the badge 💎 Patron" in r.content, r.content
    await seed(gc, "alice", 200)
    done = await _buy(gc, "alice", 1)
    assert "Bought for" in done.content and "edition #1" in done.content, done.content
    assert await balance(gc, "alice") == 150
    mine = await gc.slash("alice", "profile badges")
    assert "Patron" in mine.embeds[0].description and "#1 of 2" in mine.embeds[0].description
    # Held already: refused at the quote, nothing charged.
    again = await gc.slash("alice", "shop buy", item=1)
    assert again.ephemeral and "already have this badge" in again.content
    assert await balance(gc, "alice") == 150


async def test_a_gifted_collectible_goes_to_the_recipient(gc):
    await gc.sb.slash(gc["admin"], "badge-admin create", {
        "name": "Genesis", "description": "Launch day", "emoji": "💠", "rarity": "legendary",
        "supply": 1, "tradeable": True})
    await gc.sb.slash(gc["admin"], "shop-admin add",
                      {"name": "Genesis coin", "price": 80, "kind": "badge", "badge": "Genesis"})
    await seed(gc, "alice", 200)
    await seed(gc, "bob", 200)
    quote = await gc.slash("alice", "shop gift", member=gc["bob"], item=1)
    done = (await gc.click("alice", quote, "Confirm gift")).last
    assert "Gift sent" in done.content and "edition #1" in done.content, done.content
    assert await balance(gc, "alice") == 120 and await balance(gc, "bob") == 200
    collection = await gc.slash("bob", "profile collection")
    assert "Genesis #1 · collectible" in collection.embeds[0].description
    owner = await gc.slash("alice", "profile collectible", item="c1#1")
    assert f"<@{gc['bob'].id}>" in str(owner.embeds[0].to_dict() if owner.embeds
                                         else owner.content)
    assert any("Genesis coin" in m.text for m in gc.sb.dms(gc["bob"]))
    # The only edition is held: the next buyer is refused with nothing charged.
    sold_out = await gc.slash("bob", "shop buy", item=1)
    assert sold_out.ephemeral and "sold out" in sold_out.content
    assert await balance(gc, "bob") == 200
