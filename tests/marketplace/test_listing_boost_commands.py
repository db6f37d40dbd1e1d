"""The listing boost end to end through the sandbox: staff put it on sale, a member buys it and
uses it on a listing (picked by autocomplete), `/market browse` shows that listing first with
its marker, and every bad use is refused privately with nothing changed."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.images import process_image
from tests.core.test_images import photo
from tests.e2e_fixtures import balance, db_state, seed

pytestmark = pytest.mark.timeout(90)


async def _add(gc, **options):
    """/shop-admin add (its `name` option passed as a dict to the sandbox)."""
    return await gc.sb.slash(gc["admin"], "shop-admin add", options)


async def _listing(gc, who, title, colour=None):
    services, guild_id = gc.services, gc.guild.id
    images = [process_image(photo(320, 240, colour=colour))] if colour else []
    draft = await services.marketplace.listings.create_draft(
        guild_id, gc[who].id, category="rings", condition="new", title=title,
        description="A lovely stone.", price_gems=300, images=images)
    await services.marketplace.listings.publish(guild_id, gc[who].id, draft.listing_id)
    gc.clock.advance(minutes=1)
    return draft.listing_id


async def _state(gc) -> tuple:
    docs = []
    for name in ("shop_holdings", "shop_purchases", "listings"):
        docs += await gc.db[name].find({}, {"_id": 0}).to_list()
    accounts, entries, _ = await db_state(gc)  # (the switches below change the settings)
    return accounts, entries, sorted(map(repr, docs))


def _order(text: str) -> list[str]:
    """The listing numbers of a results page, in order ("**1.** 🚀 #3 · ...")."""
    return [line.split("#", 1)[1].split(" ", 1)[0] for line in text.splitlines()
            if line.startswith("**") and "#" in line]


async def test_bought_boost_puts_the_listing_first_in_browse(gc):
    r = await _add(gc, name="Listing boost", price=40, kind="consumable",
                   effect="listing_boost")
    assert r.ephemeral and "On sale" in r.content and "Listing boost" in r.content, r.content
    old = await _listing(gc, "alice", "Old sapphire ring", colour=(20, 40, 200))
    await _listing(gc, "bob", "Ruby ring", colour=(200, 20, 20))
    newest = await _listing(gc, "carol", "Opal ring", colour=(20, 200, 20))
    first = await gc.slash("dave", "market browse")
    assert _order(first.text)[0] == str(newest)
    await seed(gc, "alice", 100)
    quote = await gc.slash("alice", "shop buy", item=1)
    done = (await gc.click("alice", quote, "Confirm purchase")).last
    assert "Bought for" in done.content, done.content
    assert await balance(gc, "alice") == 60
    # Autocomplete offers her own active listings only.
    choices = await gc.sb.autocomplete(gc["alice"], "shop use", "listing", "",
                                       options={"item": 1})
    assert [c["value"] for c in choices] == [old]
    assert await gc.sb.autocomplete(gc["dave"], "shop use", "listing", "") == []
    used = await gc.slash("alice", "shop use", item=1, listing=old)
    assert used.ephemeral and "boosted until" in used.content and "0 left" in used.content, \
        used.content
    page = await gc.slash("dave", "market browse")
    assert _order(page.text) == [str(old), str(newest), str(newest - 1)], page.text
    assert f"🚀 #{old} · Old sapphire ring" in page.text
    # The results grid is cached by the page's photos in order: the boosted page is drawn anew.
    assert page.files["results.jpg"] != first.files["results.jpg"]
    search = await gc.slash("dave", "market search", keywords="ring")
    assert _order(search.text)[0] == str(old)
    detail = await gc.click("dave", page, "1")
    assert detail.ephemeral and "Boosted" in detail.text and "boosted until <t:" in detail.text
    mine = await gc.slash("alice", "market mine")
    assert "🚀 boosted until <t:" in mine.text
    inventory = await gc.slash("alice", "shop inventory")
    assert "Nothing yet" in inventory.content
    # A day later the boost is over: the usual order again, no marker.
    await gc.advance(hours=24, minutes=1)
    later = await gc.slash("dave", "market browse")
    assert _order(later.text)[0] == str(newest) and "🚀" not in later.text


async def test_bad_uses_are_refused_privately_and_change_nothing(gc):
    await _add(gc, name="Listing boost", price=40, kind="consumable", effect="listing_boost")
    await _add(gc, name="Freeze", price=10, kind="consumable", effect="streak_freeze")
    mine = await _listing(gc, "alice", "Sapphire ring")
    theirs = await _listing(gc, "bob", "Ruby ring")
    gone = await _listing(gc, "alice", "Withdrawn ring")
    await gc.services.marketplace.listings.withdraw(gc.guild.id, gc["alice"].id, gone)
    await seed(gc, "alice", 100)
    for item in (1, 2):
        quote = await gc.slash("alice", "shop buy", item=item)
        await gc.click("alice", quote, "Confirm purchase")
    before = await _state(gc)
    cases = [
        ({"item": 1, "listing": theirs}, "not yours"),
        ({"item": 1, "listing": 999}, "no listing #999"),
        ({"item": 1, "listing": gone}, "withdrawn"),
        ({"item": 1}, "Pick the listing"),
        ({"item": 2, "listing": mine}, "not used on anything"),
        ({"item": 7, "listing": mine}, "no item #7"),
    ]
    for options, expected in cases:
        r = await gc.slash("alice", "shop use", **options)
        assert r.ephemeral and expected in r.content, (options, r.content)
    r = await gc.slash("bob", "shop use", item=1, listing=theirs)
    assert r.ephemeral and "no **Listing boost** left" in r.content, r.content
    await gc.services.settings.set(gc.guild.id, Actor.system(), "disabled_features",
                                   "marketplace")
    r = await gc.slash("alice", "shop use", item=1, listing=mine)
    assert r.ephemeral and "turned off" in r.content, r.content
    await gc.services.settings.set(gc.guild.id, Actor.system(), "disabled_features", "shop")
    r = await gc.slash("alice", "shop use", item=1, listing=mine)
    assert r.ephemeral and "turned off" in r.content, r.content
    await gc.services.settings.set(gc.guild.id, Actor.system(), "disabled_features", "none")
    assert await _state(gc) == before
